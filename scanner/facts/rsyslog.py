"""Facts of subject 'rsyslog': where rsyslog forwards logs, over which protocol, with or without TLS."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from scanner.facts import ORIGINS, Context, Subject
from scanner.rawfacts import Item, RawFacts

_CONF = "/etc/rsyslog.conf"
_TLS_DRIVERS = {"gtls", "ossl", "mbedtls"}
_PARAM = re.compile(r'([\w.]+)\s*=\s*"((?:[^"\\]|\\.)*)"')
_ARRAY = re.compile(r"([\w.]+)\s*=\s*\[([^\]]*)\]")  # PermittedPeer=["a", "b"]
# Peer authentication modes that name the peer; x509/certvalid (any certificate of the CA) and
# x509/fingerprint name it only through a permitted-peer list; anon never does.
_NAMES_PEER = {"x509/name", "name"}
_NAMES_PEER_WITH_LIST = {"x509/fingerprint", "fingerprint", "x509/certvalid", "certvalid"}
_OBJECT = re.compile(r"\b(action|global|module|include)\s*\(", re.IGNORECASE)
_ANY_OBJECT = re.compile(r"\b[A-Za-z_]+\s*\(")  # template(...), input(...): not legacy actions
# Legacy forwarding: "@host", "@@host:port", "@@(o)host", "@[::1]:514" after a selector, "&" or "then".
_LEGACY_FWD = re.compile(r"(?:^|[\s&;])(@@?)(\([^)]*\))?(\[[^\]]+\]|[A-Za-z0-9_.\-]+)(?::(\d+))?")
_LEGACY_RELP = re.compile(r":omrelp:(\[[^\]]+\]|[A-Za-z0-9_.\-]+):(\d+)")


@dataclass
class _State:
    """Settings that legacy directives carry over to the actions and files that follow."""

    default_driver: str = "ptcp"
    action_driver: str = ""
    action_mode: str = "0"
    action_authmode: str = "anon"
    action_peers: str = ""
    file_create_mode: str = "0644"
    forwards: list[dict[str, Any]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)


def _strip_comment(line: str) -> str:
    """Cut a '#' comment that is not inside double quotes."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == "#" and not quoted:
            return line[:i]
    return line


def _parens(text: str, start: int = 0) -> Iterator[tuple[int, int]]:
    """Yield (index, +1 for "(" or -1 for ")") for each parenthesis outside double quotes, from ``start``."""
    quoted = False
    for i in range(start, len(text)):
        ch = text[i]
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "()":
            yield i, 1 if ch == "(" else -1


def _statements(text: str) -> list[tuple[int, str]]:
    """Return (first line, statement): one per line, objects like action(...) joined across lines."""
    out: list[tuple[int, str]] = []
    buffer, start = "", 0
    for number, raw_line in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw_line).strip()
        if not line:
            continue
        start = start if buffer else number
        buffer = f"{buffer} {line}" if buffer else line
        if sum(step for _, step in _parens(buffer)) <= 0:
            out.append((start, buffer))
            buffer = ""
    if buffer:
        raise ValueError(f"rsyslog: unterminated statement {buffer[:60]!r}")
    return out


def _params(body: str) -> dict[str, str]:
    arrays = {k: ",".join(re.findall(r'"((?:[^"\\]|\\.)*)"', v)) for k, v in _ARRAY.findall(body)}
    return {k.lower().replace(".", ""): v for k, v in [*_PARAM.findall(body), *arrays.items()]}


def _object_bodies(statement: str) -> list[tuple[str, str]]:
    """Return (kind, parameter text) for each action(...), global(...), module(...), include(...)."""
    found = []
    for match in _OBJECT.finditer(statement):
        start = match.end()
        depth, end = 1, len(statement)
        for i, step in _parens(statement, start):
            depth += step
            if depth == 0:
                end = i
                break
        found.append((match.group(1).lower(), statement[start:end]))
    return found


def _forward(
    target: str, port: str, protocol: str, driver: str, mode: str, authmode: str, peers: str
) -> dict[str, Any]:
    """Return one forward; its TLS is settled by _settle once the default driver is known."""
    return {
        "target": target,
        "port": int(port),
        "protocol": protocol,
        "_tls": (driver, mode, authmode, peers),
    }


def _settle(forward: dict[str, Any], default_driver: str) -> dict[str, Any]:
    """Return a forward with ``tls`` and ``authenticated`` (TLS that also checks who the peer is).

    rsyslog resolves an action without a stream driver to the global default at run time, so the
    last DefaultNetstreamDriver of the whole configuration applies (checked against rsyslogd).
    """
    driver, mode, authmode, peers = forward.pop("_tls")
    if forward["protocol"] == "relp":
        tls = mode == "on"
    else:
        tls = (
            forward["protocol"] == "tcp"
            and (driver or default_driver).lower() in _TLS_DRIVERS
            and mode == "1"
        )
    auth = authmode.strip().lower() or "anon"
    named = auth in _NAMES_PEER or (auth in _NAMES_PEER_WITH_LIST and bool(peers.strip(" ,")))
    return {**forward, "tls": tls, "authmode": auth if tls else "", "authenticated": tls and named}


def _action(params: dict[str, str], state: _State, arrays: set[str]) -> None:
    kind = params.get("type", "").lower()
    target, port = params.get("target", ""), params.get("port", "514")
    if kind == "omfwd":
        if "streamdriverpermittedpeers" in arrays:
            return  # omfwd takes a string only: rsyslogd refuses the action, so nothing is forwarded
        state.forwards.append(
            _forward(
                target, port, params.get("protocol", "udp").lower(), params.get("streamdriver", ""),
                params.get("streamdrivermode", "0"), params.get("streamdriverauthmode", "anon"),
                params.get("streamdriverpermittedpeers", ""),
            )
        )  # fmt: skip
    elif kind == "omrelp":
        tls = params.get("tls", "off").lower()
        authmode, peers = params.get("tlsauthmode", "anon"), params.get("tlspermittedpeer", "")
        state.forwards.append(_forward(target, port, "relp", "", tls, authmode, peers))


def _directive(words: list[str], state: _State, raw: RawFacts) -> None:
    name = words[0].lower()
    value = words[1] if len(words) > 1 else ""
    if name == "$includeconfig":
        _include(value, state, raw, legacy=True)
    elif name == "$defaultnetstreamdriver":
        state.default_driver = value
    elif name == "$actionsendstreamdriver":
        state.action_driver = value
    elif name == "$actionsendstreamdrivermode":
        state.action_mode = value
    elif name == "$actionsendstreamdriverauthmode":
        state.action_authmode = value
    elif name == "$actionsendstreamdriverpermittedpeer":
        state.action_peers = ",".join(w for w in (state.action_peers, value) if w)
    elif name == "$filecreatemode":
        state.file_create_mode = value


def _legacy_forwards(statement: str, state: _State) -> None:
    for at, _options, host, port in _LEGACY_FWD.findall(statement):
        protocol = "tcp" if at == "@@" else "udp"
        state.forwards.append(
            _forward(
                host.strip("[]"), port or "514", protocol, state.action_driver, state.action_mode,
                state.action_authmode, state.action_peers,
            )
        )  # fmt: skip
    for host, port in _LEGACY_RELP.findall(statement):
        state.forwards.append(_forward(host.strip("[]"), port, "relp", "", "off", "", ""))


def _read(item: Item, state: _State, raw: RawFacts) -> None:
    """Apply one configuration file's statements in order (includes are read where they appear)."""
    if item.path in state.seen:
        return
    state.seen.add(item.path or "")
    for number, statement in _statements(item.text):
        before = len(state.forwards)
        _statement(statement, state, raw)
        for forward in state.forwards[before:]:
            forward.setdefault("_where", {"file": item.path, "line": number})


def _statement(statement: str, state: _State, raw: RawFacts) -> None:
    """Apply one statement: a legacy directive, objects, or a legacy selector line."""
    if statement.startswith("$"):
        _directive(statement.split(), state, raw)
        return
    objects = _object_bodies(statement)
    for kind, body in objects:
        params = _params(body)
        if kind == "action":
            _action(params, state, {k.lower().replace(".", "") for k, _ in _ARRAY.findall(body)})
        elif kind == "global" and "defaultnetstreamdriver" in params:
            state.default_driver = params["defaultnetstreamdriver"]
        elif kind == "module" and params.get("load", "") == "builtin:omfile" and "filecreatemode" in params:
            state.file_create_mode = params["filecreatemode"]
        elif kind == "include" and "file" in params:
            _include(params["file"], state, raw)
    if not _ANY_OBJECT.search(statement):
        _legacy_forwards(statement, state)


def _include(pattern: str, state: _State, raw: RawFacts, legacy: bool = False) -> None:
    found = raw.glob(pattern + "*" if pattern.endswith("/") else pattern)
    if legacy and not found and not any(c in pattern for c in "*?["):
        # rsyslogd stops reading the file at a $IncludeConfig of a missing file or directory
        # (an empty directory is fine, but the two look alike here): not assessed
        raise ValueError(f"rsyslog: $IncludeConfig {pattern}: nothing collected there")
    for item in found:
        _read(item, state, raw)


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return ``installed, forwards, forwarding, forward_tls, forward_tls_authenticated, file_create_mode``."""
    conf = raw.file(_CONF)
    if conf is None:
        return {}
    if not conf.exists:
        return {
            "installed": False,
            "forwards": [],
            "forwarding": False,
            "forward_tls": False,
            "forward_tls_authenticated": False,
        }
    state = _State()
    _read(conf, state, raw)
    wheres = [f.pop("_where", None) for f in state.forwards]
    forwards = [_settle(f, state.default_driver) for f in state.forwards]
    origins: dict[str, dict[str, Any]] = {}
    # What decides each fact: the first forward without TLS, or without peer authentication.
    for key, good in (("forward_tls", "tls"), ("forward_tls_authenticated", "authenticated")):
        bad = next((w for f, w in zip(forwards, wheres, strict=True) if not f[good] and w), None)
        if bad or (forwards and wheres[0]):
            origins[key] = bad or wheres[0]
    if forwards and wheres[0]:
        origins["forwarding"] = origins["forwards"] = wheres[0]
    return {
        "installed": True,
        "forwards": forwards,
        "forwarding": bool(forwards),
        # No forward at all is not "every forward uses TLS": never a vacuous pass.
        "forward_tls": bool(forwards) and all(f["tls"] for f in forwards),
        # TLS that does not check who the peer is (anon) hands the logs to anyone in the path.
        "forward_tls_authenticated": bool(forwards) and all(f["authenticated"] for f in forwards),
        "file_create_mode": state.file_create_mode.rjust(4, "0"),
        ORIGINS: origins,
    }


SUBJECT = Subject(name="rsyslog", parse=parse, files=(_CONF, "/etc/rsyslog.d/*"))
