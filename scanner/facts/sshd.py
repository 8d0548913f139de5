"""Facts of subject 'sshd': the effective sshd configuration, from `sshd -T` or read statically as OpenSSH 9.x does."""

from __future__ import annotations

import contextlib
import fnmatch
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from scanner.facts import ORIGINS, Context, Subject, origin
from scanner.facts import sshd_syntax as syntax
from scanner.facts import sshd_tables as T
from scanner.facts.sshd_include import include
from scanner.facts.sshd_match import connections
from scanner.rawfacts import Item, RawFacts

CONFIG = "/etc/ssh/sshd_config"
DROPIN_DIR = "/etc/ssh/sshd_config.d"
_MAX_DEPTH = 16
_MATCH_ONLY, _NEVERMATCH = 1, 2
Line = tuple[str, list[str], tuple[str, int]]  # keyword, arguments, (file, line number)


@dataclass
class _Walk:
    """One reading of the config, as one of sshd's two parse passes does it."""

    raw: RawFacts
    active: bool
    startup: bool  # the start-up pass, where a global-only keyword in a Match block is fatal
    lines: list[Line] = field(default_factory=list)
    blocks: list[tuple[str, list[Line], tuple[str, int]]] = field(default_factory=list)
    block: list[Line] | None = None
    methods_set: bool = False  # an AuthenticationMethods line applied in this pass

    def methods(self, args: list[str]) -> None:
        """Check where "any" stands on an AuthenticationMethods line, as servconf.c does (even in a Match block)."""
        seen_any, kept = False, 0
        for arg in args:
            # "any" after a list this pass applied, or after one kept from this line, is fatal.
            if (arg == "any" and (kept or self.methods_set)) or (arg != "any" and seen_any):
                raise ValueError('AuthenticationMethods: "any" must appear alone')
            seen_any = seen_any or arg == "any"
            kept += self.active and not self.methods_set
        self.methods_set = self.methods_set or self.active

    def read(self, item: Item, flags: int, depth: int = 0) -> None:
        """Read one file, following Include and tracking Match state as servconf.c does."""
        if depth > _MAX_DEPTH:
            raise ValueError("too many recursive Include directives")
        path = item.path or ""
        for number, line in enumerate(item.text.split("\n"), start=1):  # on newlines only, as sshd
            parsed = syntax.directive(line)
            if parsed is None:
                continue
            written, args, rest = parsed
            if written not in T.IN_MATCH and written not in T.GLOBAL_ONLY:
                raise ValueError(f"bad configuration option {written!r}")
            if self.startup and not self.active and written not in T.IN_MATCH:
                raise ValueError(f"{written!r} is not allowed within a Match block")
            keyword = T.ALIASES.get(written, written)
            if keyword == "match":
                criteria, match_all = syntax.criteria(rest)
                # With no connection given (sshd -T), only `Match all` applies.
                self.active = match_all and not flags & _NEVERMATCH
                flags &= ~_MATCH_ONLY
                self.block = []
                self.blocks.append((criteria, self.block, (path, number)))
            elif keyword == "include":
                for arg in args:
                    pattern = arg if arg.startswith(("/", "~")) else "/etc/ssh/" + arg
                    outer_active, outer_block = self.active, self.block
                    sub = _MATCH_ONLY if flags & _MATCH_ONLY else (0 if outer_active else _NEVERMATCH)
                    for included in include(self.raw, pattern, "\r" in line or "\f" in line):
                        self.read(included, sub, depth + 1)
                        self.active, self.block = outer_active, outer_block
            else:
                if keyword == "authenticationmethods":
                    self.methods(args)
                if self.block is not None:
                    self.block.append((keyword, args, (path, number)))
                if self.active:
                    self.lines.append((keyword, args, (path, number)))


def _algorithms(keyword: str, spec: str) -> str:
    """Assemble an algorithm list with +, - and ^ as kex_assemble_names() does."""
    default, supported = (s.split(",") for s in T.ALGOS[keyword])
    names = spec[1:].split(",") if spec[:1] in "+-^" else spec.split(",")
    if spec.startswith("-"):
        return ",".join(d for d in default if not any(fnmatch.fnmatchcase(d, p) for p in names))
    unknown = [n for n in names if n not in supported]
    if unknown:
        raise ValueError(f"bad {keyword} spec {spec!r}: unsupported {','.join(unknown)}")
    merged = default + names if spec.startswith("+") else names + default if spec.startswith("^") else names
    return ",".join(dict.fromkeys(merged))


def _value(keyword: str, args: list[str]) -> Any:
    """Return one directive's value in the form `sshd -T` prints it."""
    if keyword in T.ACCUMULATE:
        return (
            list(args)
            if keyword in {"allowusers", "allowgroups", "denyusers", "denygroups", "acceptenv"}
            else [syntax.port(args[0]) if keyword == "port" else " ".join(args)]
        )
    if keyword == "authenticationmethods":
        return _methods(args)
    if keyword in T.ONE_LINE_LISTS or keyword == "setenv":
        return list(args)
    if len(args) != 1 and (keyword in T.ENUMS or keyword in T.ALGOS or keyword in T.TIMES | T.INTS):
        raise ValueError(f"{keyword}: one argument expected, got {args}")
    word = args[0]
    if keyword in T.ENUMS:
        if word.lower() not in T.ENUMS[keyword]:
            raise ValueError(f"{keyword}: unsupported option {word!r}")
        return T.ENUMS[keyword][word.lower()]
    if keyword == "loglevel" or keyword == "syslogfacility":
        upper = word.upper()
        if upper not in (T.LOGLEVELS if keyword == "loglevel" else T.FACILITIES):
            raise ValueError(f"{keyword}: unsupported value {word!r}")
        return T.LOGLEVELS.get(upper, upper)
    if keyword in T.TIMES:
        return str(syntax.seconds(word))
    if keyword in T.INTS:
        if not re.fullmatch(r"\+?\d+", word):
            raise ValueError(f"{keyword}: integer value {word!r} invalid or too small")
        return str(int(word))
    if keyword in T.ALGOS:
        return _algorithms(keyword, word)
    if len(args) == 1 and word.lower() in T.YES_NO:  # every other flag prints as lowercase yes/no
        return word.lower()
    return " ".join(args)


def _methods(args: list[str]) -> list[str]:
    """Check that AuthenticationMethods lists name known methods (read() checks where "any" stands)."""
    for method in (m for lst in args if lst != "any" for m in lst.split(",")):
        if method.split(":")[0] not in T.AUTH_METHODS:
            raise ValueError(f"AuthenticationMethods: unknown method {method!r}")
    return list(args)


def _satisfiable(values: dict[str, Any]) -> None:
    """Raise unless some AuthenticationMethods list uses only enabled methods (else sshd refuses to start)."""
    if values["authenticationmethods"] == ["any"]:
        return
    for lst in values["authenticationmethods"]:
        options = [T.AUTH_METHODS[m.split(":")[0]] for m in lst.split(",")]
        if all(not option or values.get(option, "no") == "yes" for option in options):
            return
    raise ValueError("AuthenticationMethods cannot be satisfied by enabled authentication methods")


def _resolve(lines: list[Line], origins: dict[str, Any] | None = None) -> dict[str, Any]:
    """Apply directives in order: the first value wins (its line is its origin), list keywords accumulate."""
    out: dict[str, Any] = {}
    for keyword, args, (path, number) in lines:
        value = _value(keyword, args)
        if origins is not None and keyword not in out:
            origins[keyword] = origin(path, number)
        if keyword in T.ACCUMULATE:
            out.setdefault(keyword, []).extend(value)
        else:
            out.setdefault(keyword, value)
    return out


def _listen(entries: list[str], ports: list[str], family: str) -> list[str]:
    """Expand ListenAddress entries over the ports as `sshd -T` prints them (host names unresolved)."""
    if not entries:
        wild = {"any": ["[::]", "0.0.0.0"], "inet": ["0.0.0.0"], "inet6": ["[::]"]}[family]
        return [f"{w}:{p}" for p in ports for w in wild]
    out: list[str] = []
    for entry in entries:
        spec, _, rdomain = entry.partition(" ")
        host, port = syntax.host_port(spec)
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            addr = None  # a host name: sshd resolves it, a static reading cannot
        if addr is not None:
            if family != "any" and family != ("inet6" if addr.version == 6 else "inet"):
                raise ValueError(f"ListenAddress {host}: not of AddressFamily {family}")
            host = f"[{addr.compressed}]" if addr.version == 6 else addr.compressed
        suffix = f" {rdomain}" if rdomain else ""
        out.extend(f"{host}:{p}{suffix}" for p in ([syntax.port(port)] if port else ports))
    return out


def _static(
    raw: RawFacts, config: Item, origins: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return the effective global values and the Match blocks of the config files."""
    first = _Walk(raw, active=True, startup=True)  # sshd's start-up pass: global lines and `Match all`
    first.read(config, 0)
    second = _Walk(raw, active=False, startup=False)  # its per-connection pass: applying Match blocks
    second.read(config, _MATCH_ONLY)
    values = dict(T.DEFAULTS)
    values.update(_resolve(first.lines, origins))
    _satisfiable(values)
    late: dict[str, Any] = {}
    values.update({k: v for k, v in _resolve(second.lines, late).items() if k in T.MATCH_OVERRIDES})
    origins.update({k: v for k, v in late.items() if k in T.MATCH_OVERRIDES})
    listen = [" ".join(args) for kw, args, _ in first.lines if kw == "listenaddress"]
    values["listenaddress"] = _listen(listen, values["port"], values["addressfamily"])
    blocks = []
    for crit, lines, (path, number) in first.blocks:
        where: dict[str, Any] = {}
        settings = _resolve(lines, where)
        blocks.append(
            {"criteria": crit, "file": path, "line": number, "settings": settings, "origins": where}
        )
    return values, blocks


def _probe(text: str) -> dict[str, Any]:
    """Parse `sshd -T` output into keyword values."""
    values: dict[str, Any] = {kw: [] for kw in ("allowusers", "allowgroups", "denyusers", "denygroups")}
    for line in text.splitlines():
        if not line.strip():
            continue
        keyword, _, rest = line.strip().partition(" ")
        keyword = keyword.lower()
        if keyword in T.PER_LINE:
            values.setdefault(keyword, []).append(rest)
        elif keyword in T.ONE_LINE_LISTS:
            values[keyword] = rest.split()
        else:
            values[keyword] = rest
    for keyword in ("permitrootlogin", "clientaliveinterval", "clientalivecountmax", "authenticationmethods"):
        if keyword not in values:  # sshd -T prints every keyword: a missing one means partial output
            raise ValueError(f"sshd -T output has no {keyword} line")
    values["permitrootlogin"] = T.ENUMS["permitrootlogin"].get(
        values["permitrootlogin"], values["permitrootlogin"]
    )
    return values


def _two_factor(lists: list[str]) -> bool:
    """Tell whether every authentication method list requires two kinds of factor (a password twice is one)."""
    return bool(lists) and all(
        lst != "any" and len({T.FACTORS[m.split(":")[0]] for m in lst.split(",")} - {""}) >= 2
        for lst in lists
    )


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return sshd facts: `sshd -T` values when the probe succeeded, else the static reading."""
    config, probe = raw.file(CONFIG), raw.probe("sshd-T")
    facts: dict[str, Any] = {}
    origins: dict[str, Any] = {}
    if probe is not None and probe.rc == 0:
        facts = {"installed": True, "source": "sshd -T", **_probe(probe.text)}
        if config is not None:
            # sshd accepted the config; when the static reading cannot, Match blocks stay unknown.
            with contextlib.suppress(ValueError):
                static, blocks = _static(raw, config, origins) if config.exists else ({}, [])
                facts["match_blocks"] = blocks
                # A line is the origin of what sshd -T printed only where the reading agrees.
                origins = {k: v for k, v in origins.items() if static.get(k) == facts.get(k)}
    elif config is None:
        return {}
    elif not config.exists:
        return {"installed": False, "source": "static"}
    else:
        values, blocks = _static(raw, config, origins)
        facts = {"installed": True, "source": "static", **values, "match_blocks": blocks}
    facts["idle_timeout_seconds"] = int(facts["clientaliveinterval"]) * int(facts["clientalivecountmax"])
    facts["two_factor"] = _two_factor(facts["authenticationmethods"])
    if "authenticationmethods" in origins:
        origins["two_factor"] = origins["authenticationmethods"]
    if "match_blocks" in facts:
        plain = {k: v for k, v in facts.items() if k not in ("installed", "source", "match_blocks")}
        found, where = connections(plain, facts["match_blocks"], origins, _two_factor)
        facts |= found
        origins |= where
        for block in facts["match_blocks"]:
            block.pop("origins", None)
    facts[ORIGINS] = origins
    return facts


SUBJECT = Subject(name="sshd", parse=parse, files=(CONFIG, DROPIN_DIR + "/*"), probes=("sshd-T",))
