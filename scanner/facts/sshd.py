"""Facts of subject 'sshd': the effective sshd configuration, from `sshd -T` or read statically as OpenSSH 9.x does."""

from __future__ import annotations

import contextlib
import fnmatch
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from scanner.facts import Context, Subject
from scanner.rawfacts import Item, RawFacts

CONFIG = "/etc/ssh/sshd_config"
DROPIN_DIR = "/etc/ssh/sshd_config.d"
_MAX_DEPTH = 16
_MATCH_ONLY, _NEVERMATCH = 1, 2

# fmt: off
# Default and supported algorithm lists of OpenSSH 9.2p1 (Debian 12), as `sshd -T` / `ssh -Q` print them.
_ALGOS: dict[str, tuple[str, str]] = {
    "ciphers": (
        "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
        "3des-cbc,aes128-cbc,aes192-cbc,aes256-cbc,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,"
        "aes256-gcm@openssh.com,chacha20-poly1305@openssh.com",
    ),
    "macs": (
        "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
        "hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
        "hmac-sha1,hmac-sha1-96,hmac-sha2-256,hmac-sha2-512,hmac-md5,hmac-md5-96,umac-64@openssh.com,umac-128@openssh.com,"
        "hmac-sha1-etm@openssh.com,hmac-sha1-96-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
        "hmac-md5-etm@openssh.com,hmac-md5-96-etm@openssh.com,umac-64-etm@openssh.com,umac-128-etm@openssh.com",
    ),
    "kexalgorithms": (
        "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,"
        "ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,"
        "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256",
        "diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,diffie-hellman-group14-sha256,diffie-hellman-group16-sha512,"
        "diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha1,diffie-hellman-group-exchange-sha256,"
        "ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,curve25519-sha256,curve25519-sha256@libssh.org,"
        "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com",
    ),
}
_DEFAULTS: dict[str, Any] = {
    "port": ["22"], "addressfamily": "any", "permitrootlogin": "prohibit-password",
    "passwordauthentication": "yes", "kbdinteractiveauthentication": "yes", "pubkeyauthentication": "yes",
    "permitemptypasswords": "no", "usepam": "no", "authenticationmethods": ["any"], "maxauthtries": "6",
    "clientaliveinterval": "0", "clientalivecountmax": "3", "logingracetime": "120", "x11forwarding": "no",
    "allowtcpforwarding": "yes", "loglevel": "INFO", "syslogfacility": "AUTH",
    "allowusers": [], "allowgroups": [], "denyusers": [], "denygroups": [],
    **{kw: default for kw, (default, _) in _ALGOS.items()},
}
_ALIASES = {
    "challengeresponseauthentication": "kbdinteractiveauthentication",
    "skeyauthentication": "kbdinteractiveauthentication", "dsaauthentication": "pubkeyauthentication",
    "pubkeyacceptedkeytypes": "pubkeyacceptedalgorithms", "hostbasedacceptedkeytypes": "hostbasedacceptedalgorithms",
}
_YES_NO = {"yes": "yes", "no": "no"}
_FORWARD = {"yes": "yes", "all": "yes", "no": "no", "local": "local", "remote": "remote"}
# Accepted words (case-insensitive) and the canonical form `sshd -T` prints; prohibit-password is
# preferred over its legacy alias without-password, which `sshd -T` prints, in both paths.
_ENUMS: dict[str, dict[str, str]] = {
    "permitrootlogin": {"yes": "yes", "no": "no", "prohibit-password": "prohibit-password",
                        "without-password": "prohibit-password", "forced-commands-only": "forced-commands-only"},
    "allowtcpforwarding": _FORWARD, "allowstreamlocalforwarding": _FORWARD,
    "addressfamily": {"any": "any", "inet": "inet", "inet6": "inet6"},
    "compression": {"yes": "yes", "delayed": "yes", "no": "no"},
    "gatewayports": {"yes": "yes", "no": "no", "clientspecified": "clientspecified"},
    "passwordauthentication": _YES_NO, "kbdinteractiveauthentication": _YES_NO, "pubkeyauthentication": _YES_NO,
    "permitemptypasswords": _YES_NO, "usepam": _YES_NO, "x11forwarding": _YES_NO,
}
_LOGLEVELS = {"QUIET", "FATAL", "ERROR", "INFO", "VERBOSE", "DEBUG", "DEBUG1", "DEBUG2", "DEBUG3"}
_FACILITIES = {"DAEMON", "USER", "AUTH", "AUTHPRIV", *(f"LOCAL{i}" for i in range(8))}
_TIMES = {"logingracetime", "clientaliveinterval"}
_INTS = {"maxauthtries", "clientalivecountmax", "maxsessions", "x11displayoffset"}
# Keywords whose every line adds entries (the others: the first line wins).
_ACCUMULATE = {"port", "listenaddress", "allowusers", "allowgroups", "denyusers", "denygroups", "acceptenv",
               "hostkey", "hostcertificate", "subsystem"}
_ONE_LINE_LISTS = {"authenticationmethods", "authorizedkeysfile", "permitopen", "permitlisten", "channeltimeout",
                   "logverbose"}
# `sshd -T` prints these one entry per line; the one-line lists space-separated on one line.
_PER_LINE = _ACCUMULATE | {"setenv"}
# Options that an applying Match block (`Match all`) overrides, as copy_set_server_options() does.
_MATCH_OVERRIDES = {
    "passwordauthentication", "gssapiauthentication", "pubkeyauthentication", "pubkeyauthoptions",
    "kerberosauthentication", "hostbasedauthentication", "hostbasedusesnamefrompacketonly",
    "kbdinteractiveauthentication", "permitrootlogin", "permitemptypasswords", "ignorerhosts", "allowtcpforwarding",
    "allowstreamlocalforwarding", "allowagentforwarding", "disableforwarding", "exposeauthinfo", "permittunnel",
    "gatewayports", "streamlocalbindunlink", "x11displayoffset", "x11forwarding", "x11uselocalhost", "permittty",
    "permituserrc", "maxsessions", "maxauthtries", "clientalivecountmax", "clientaliveinterval", "ipqos",
    "rekeylimit", "loglevel", "requiredrsasize", "unusedconnectiontimeout", "streamlocalbindmask", "banner",
    "trustedusercakeys", "revokedkeys", "authorizedkeyscommand", "authorizedkeyscommanduser",
    "authorizedprincipalsfile", "authorizedprincipalscommand", "authorizedprincipalscommanduser",
    "hostbasedacceptedalgorithms", "pubkeyacceptedalgorithms", "casignaturealgorithms", "permituserenvironment",
    "forcecommand", "chrootdirectory", "allowusers", "denyusers", "allowgroups", "denygroups", "acceptenv", "setenv",
    *_ONE_LINE_LISTS,
}
# fmt: on
_DIRECTIVE = re.compile(r'(?P<kw>[^\s"=]+)(?:[ \t]*=[ \t]*|[ \t]+)(?P<rest>.*)')


def _argv(text: str) -> list[str]:
    """Split arguments as OpenSSH's argv_split() does: quotes, backslash escapes, '#' starts a comment."""
    args: list[str] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n or text[i] == "#":
            return args
        arg, quote = [], ""
        while i < n:
            ch = text[i]
            if ch == "\\" and i + 1 < n and (text[i + 1] in "'\"\\" or (not quote and text[i + 1] == " ")):
                i += 1
                arg.append(text[i])
            elif not quote and ch in " \t":
                break
            elif not quote and ch in "'\"":
                quote = ch
            elif quote and ch == quote:
                quote = ""
            else:
                arg.append(ch)
            i += 1
        if quote:
            raise ValueError(f"unterminated quote in {text!r}")
        args.append("".join(arg))


def _directive(line: str) -> tuple[str, list[str]] | None:
    """Return (lowercase keyword, arguments) of a config line, None for blanks and comments."""
    line = line.strip(" \t\r\f\n")
    if not line or line.startswith("#"):
        return None
    m = _DIRECTIVE.fullmatch(line)
    args = _argv(m.group("rest")) if m else []
    if m is None or not args:
        raise ValueError(f"no argument after keyword in {line!r}")
    keyword = m.group("kw").lower()
    return _ALIASES.get(keyword, keyword), args


def _glob(raw: RawFacts, pattern: str) -> list[Item]:
    """Return the collected files an Include pattern names, sorted as glob(3) does."""
    if pattern != CONFIG and pattern.rsplit("/", 1)[0] != DROPIN_DIR:
        item = raw.file(pattern)
        if item is None or any(c in pattern for c in "*?["):
            raise ValueError(f"Include {pattern}: outside the collected files")
        return [item] if item.exists else []
    base = pattern.rsplit("/", 1)[1]
    found = []
    for item in raw.glob(pattern):
        name = (item.path or "").rsplit("/", 1)[1]
        # glob(3): a wildcard never matches '/' nor a leading dot.
        if (
            (item.path or "").rsplit("/", 1)[0] == pattern.rsplit("/", 1)[0]
            and (not name.startswith(".") or base.startswith("."))
            and fnmatch.fnmatchcase(name, base)
        ):
            found.append(item)
    return found


@dataclass
class _Walk:
    """One reading of the config, as one of sshd's two parse passes does it."""

    raw: RawFacts
    active: bool
    lines: list[tuple[str, list[str]]] = field(default_factory=list)
    blocks: list[tuple[str, list[tuple[str, list[str]]]]] = field(default_factory=list)
    block: list[tuple[str, list[str]]] | None = None

    def read(self, item: Item, flags: int, depth: int = 0) -> None:
        """Read one file, following Include and tracking Match state as servconf.c does."""
        if depth > _MAX_DEPTH:
            raise ValueError("too many recursive Include directives")
        for line in item.text.splitlines():
            parsed = _directive(line)
            if parsed is None:
                continue
            keyword, args = parsed
            if keyword == "match":
                if args[0].lower() == "all" and len(args) > 1:
                    raise ValueError("'Match all' cannot be combined with other criteria")
                # With no connection given (sshd -T), only `Match all` applies.
                self.active = args[0].lower() == "all" and not flags & _NEVERMATCH
                flags &= ~_MATCH_ONLY
                self.block = []
                self.blocks.append((" ".join(args), self.block))
            elif keyword == "include":
                for arg in args:
                    pattern = arg if arg.startswith(("/", "~")) else "/etc/ssh/" + arg
                    outer_active, outer_block = self.active, self.block
                    sub = _MATCH_ONLY if flags & _MATCH_ONLY else (0 if outer_active else _NEVERMATCH)
                    for included in _glob(self.raw, pattern):
                        self.read(included, sub, depth + 1)
                        self.active, self.block = outer_active, outer_block
            else:
                if self.block is not None:
                    self.block.append((keyword, args))
                if self.active:
                    self.lines.append((keyword, args))


def _seconds(text: str) -> int:
    """Convert an OpenSSH time value ("90", "1h30m") to seconds, as convtime() does."""
    units = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    parts = re.findall(r"(\d+)([sSmMhHdDwW]?)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"invalid time value {text!r}")
    return sum(int(n) * units[u.lower()] for n, u in parts)


def _algorithms(keyword: str, spec: str) -> str:
    """Assemble an algorithm list with +, - and ^ as kex_assemble_names() does."""
    default, supported = (s.split(",") for s in _ALGOS[keyword])
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
    if keyword in _ACCUMULATE:
        return (
            list(args)
            if keyword in {"allowusers", "allowgroups", "denyusers", "denygroups", "acceptenv"}
            else [str(int(args[0])) if keyword == "port" else " ".join(args)]
        )
    if keyword in _ONE_LINE_LISTS or keyword == "setenv":
        return list(args)
    if (keyword in _ENUMS or keyword in _TIMES or keyword in _INTS or keyword in _ALGOS) and len(args) != 1:
        raise ValueError(f"{keyword}: one argument expected, got {args}")
    word = args[0]
    if keyword in _ENUMS:
        if word.lower() not in _ENUMS[keyword]:
            raise ValueError(f"{keyword}: unsupported option {word!r}")
        return _ENUMS[keyword][word.lower()]
    if keyword == "loglevel" or keyword == "syslogfacility":
        upper = word.upper()
        if upper not in (_LOGLEVELS if keyword == "loglevel" else _FACILITIES):
            raise ValueError(f"{keyword}: unsupported value {word!r}")
        return "DEBUG" if upper == "DEBUG1" else upper
    if keyword in _TIMES:
        return str(_seconds(word))
    if keyword in _INTS:
        return str(int(word))
    if keyword in _ALGOS:
        return _algorithms(keyword, word)
    if len(args) == 1 and word.lower() in _YES_NO:  # every other flag prints as lowercase yes/no
        return word.lower()
    return " ".join(args)


def _resolve(lines: list[tuple[str, list[str]]]) -> dict[str, Any]:
    """Apply directives in order: the first value wins, list keywords accumulate."""
    out: dict[str, Any] = {}
    for keyword, args in lines:
        value = _value(keyword, args)
        if keyword in _ACCUMULATE:
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
        host, port = spec, ""
        if spec.startswith("["):
            host, _, rest = spec[1:].partition("]")
            port = rest.removeprefix(":")
        elif spec.count(":") == 1:
            host, port = spec.split(":")
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            addr = None  # a host name: sshd resolves it, a static reading cannot
        if addr is not None:
            if family != "any" and family != ("inet6" if addr.version == 6 else "inet"):
                raise ValueError(f"ListenAddress {host}: not of AddressFamily {family}")
            host = f"[{addr.compressed}]" if addr.version == 6 else addr.compressed
        suffix = f" {rdomain}" if rdomain else ""
        out.extend(f"{host}:{p}{suffix}" for p in ([str(int(port))] if port else ports))
    return out


def _static(raw: RawFacts, config: Item) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return the effective global values and the Match blocks of the config files."""
    first = _Walk(raw, active=True)  # sshd's start-up pass: global lines and `Match all`
    first.read(config, 0)
    second = _Walk(raw, active=False)  # its per-connection pass: only applying Match blocks
    second.read(config, _MATCH_ONLY)
    values = dict(_DEFAULTS)
    values.update(_resolve(first.lines))
    values.update({k: v for k, v in _resolve(second.lines).items() if k in _MATCH_OVERRIDES})
    listen = [" ".join(args) for kw, args in first.lines if kw == "listenaddress"]
    values["listenaddress"] = _listen(listen, values["port"], values["addressfamily"])
    blocks = [{"criteria": crit, "settings": _resolve(lines)} for crit, lines in first.blocks]
    return values, blocks


def _probe(text: str) -> dict[str, Any]:
    """Parse `sshd -T` output into keyword values."""
    values: dict[str, Any] = {kw: [] for kw in ("allowusers", "allowgroups", "denyusers", "denygroups")}
    for line in text.splitlines():
        if not line.strip():
            continue
        keyword, _, rest = line.strip().partition(" ")
        keyword = keyword.lower()
        if keyword in _PER_LINE:
            values.setdefault(keyword, []).append(rest)
        elif keyword in _ONE_LINE_LISTS:
            values[keyword] = rest.split()
        else:
            values[keyword] = rest
    if "permitrootlogin" not in values:
        raise ValueError("sshd -T output has no permitrootlogin line")
    values["permitrootlogin"] = _ENUMS["permitrootlogin"].get(
        values["permitrootlogin"], values["permitrootlogin"]
    )
    return values


def _two_factor(lists: list[str]) -> bool:
    """Tell whether every authentication method list requires two different methods."""
    return bool(lists) and all(
        lst != "any" and len({m.split(":")[0] for m in lst.split(",")}) >= 2 for lst in lists
    )


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return sshd facts: `sshd -T` values when the probe succeeded, else the static reading."""
    config, probe = raw.file(CONFIG), raw.probe("sshd-T")
    facts: dict[str, Any] = {}
    if probe is not None and probe.rc == 0:
        facts = {"installed": True, "source": "sshd -T", **_probe(probe.text)}
        if config is not None:
            # sshd accepted the config; when the static reading cannot, Match blocks stay unknown.
            with contextlib.suppress(ValueError):
                facts["match_blocks"] = _static(raw, config)[1] if config.exists else []
    elif config is None:
        return {}
    elif not config.exists:
        return {"installed": False, "source": "static"}
    else:
        values, blocks = _static(raw, config)
        facts = {"installed": True, "source": "static", **values, "match_blocks": blocks}
    facts["idle_timeout_seconds"] = int(facts["clientaliveinterval"]) * int(facts["clientalivecountmax"])
    facts["two_factor"] = _two_factor(facts["authenticationmethods"])
    return facts


SUBJECT = Subject(name="sshd", parse=parse, files=(CONFIG, DROPIN_DIR + "/*"), probes=("sshd-T",))
