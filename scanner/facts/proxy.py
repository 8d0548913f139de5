"""Facts of subject 'proxy': the web proxy every session and apt use (/etc/environment, profile, apt.conf).

The environment is read in the order a login gets it: /etc/environment (pam_env), then
/etc/profile and the /etc/profile.d/*.sh it sources. A proxy setting that a shell could only
decide at run time (inside an if, after &&, from a command substitution or an unknown variable)
raises: the parser never guesses. Credentials in proxy URLs never leave as facts.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from scanner.facts import Context, Subject, lines
from scanner.rawfacts import Item, RawFacts

_ENV = "/etc/environment"
_APT = ("/etc/apt/apt.conf", "/etc/apt/apt.conf.d/*")
_NAMES = ("http_proxy", "https_proxy", "no_proxy")
_ASSIGN = re.compile(r"^(?:export\s+)?([A-Za-z_]+)=(.*)$")
_MENTION = re.compile(r"(?:^|[^A-Za-z0-9_$])(?:https?|no)_proxy\s*=", re.I)
_CONDITIONAL = re.compile(r"(?:^|[\s;])(?:if|then|elif|else|case|for|while|until|do)\s|&&|\|\||\(\)")
_OPEN = re.compile(r"(?:^|[\s;])(?:if|case|for|while|until)\s|\{")
_CLOSE = re.compile(r"(?:^|[\s;])(?:fi|esac|done)\b|\}")
_REF = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
_APT_TOKEN = re.compile(r'\s+|//[^\n]*|/\*.*?\*/|#[^\n]*|"[^"]*"|[{};]|[^\s{};"]+', re.S)
_OFF = {"", "direct", "false", "none"}


def _unquote(value: str, known: dict[str, str], where: str) -> str:
    """Return a shell value without quotes, with references to proxy variables expanded."""
    value = value.strip()
    if "$(" in value or "`" in value:
        raise ValueError(f"{where}: proxy set by a command substitution")
    if value[:1] == "'" and value.endswith("'") and len(value) > 1:
        return value[1:-1]
    if value[:1] == '"' and value.endswith('"') and len(value) > 1:
        value = value[1:-1]

    def expand(found: re.Match[str]) -> str:
        name = found.group(1).lower()
        if name not in known:
            raise ValueError(
                f"{where}: proxy set from ${found.group(1)}, which is not a proxy variable set before"
            )
        return known[name]

    return _REF.sub(expand, value)


def _environment(item: Item | None, env: dict[str, str], sources: dict[str, str]) -> None:
    """Read /etc/environment (pam_env: KEY=value, no expansion; an ``export`` prefix is ignored)."""
    for line in lines(item):
        found = _ASSIGN.match(line)
        if found and found.group(1).lower() in _NAMES:
            value = found.group(2).strip()
            if len(value) > 1 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            name = found.group(1).lower()
            env[name] = value
            sources[name] = str(item.path if item else _ENV)


def _shell(item: Item, env: dict[str, str], sources: dict[str, str]) -> None:
    """Read the proxy assignments of a shell file that /etc/profile runs."""
    depth = 0  # open if/case/loops/braces before this line: what they hold runs only sometimes
    for number, line in enumerate(item.text.splitlines(), 1):
        code = line.split(" #")[0].strip()
        if code.startswith("#"):
            continue
        where = f"{item.path}:{number}"
        before = depth
        bare = re.sub(r"'[^']*'|\"[^\"]*\"|\$\{[^}]*\}", "", code)
        depth = max(0, depth + len(_OPEN.findall(bare)) - len(_CLOSE.findall(bare)))
        for statement in (s.strip() for s in code.split(";")):
            found = _ASSIGN.match(statement)
            words = statement.lower().split()
            unset = words[:1] == ["unset"] and any(n in words for n in _NAMES)
            assign = bool(found and found.group(1).lower() in _NAMES)
            if not unset and not assign and not _MENTION.search(statement):
                continue
            if before or _CONDITIONAL.search(code) or not (unset or assign):
                raise ValueError(f"{where}: proxy set or unset conditionally ({code[:80]!r})")
            if found:
                name = found.group(1).lower()
                env[name] = _unquote(found.group(2), env, where)
                sources[name] = str(item.path)
            for word in words[1:] if unset else []:
                env.pop(word, None)
                sources.pop(word, None)


def _apt(items: list[Item]) -> dict[str, str]:
    """Return Acquire::http::Proxy and Acquire::https::Proxy from apt's configuration files."""
    out: dict[str, str] = {}
    for item in items:
        scope: list[str] = []
        name = ""
        for token in _APT_TOKEN.findall(item.text):
            if token.isspace() or token.startswith(("//", "/*")):
                continue
            if token.startswith("#"):
                if token.startswith("#include"):
                    raise ValueError(f"{item.path}: apt #include is not followed")
                continue
            if token == "{":
                scope.append(name)
                name = ""
            elif token == "}":
                if not scope:
                    raise ValueError(f"{item.path}: unbalanced braces")
                scope.pop()
            elif token == ";":
                name = ""
            elif token.startswith('"'):
                key = "::".join([*scope, name]).lower()
                if key in ("acquire::http::proxy", "acquire::https::proxy"):
                    out[key.split("::")[1]] = token.strip('"')
            else:
                name = token
        if scope:
            raise ValueError(f"{item.path}: unbalanced braces")
    return out


def _clean(url: str) -> str:
    """Return a proxy URL without credentials (user:password@ never leaves the host's facts)."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _endpoint(url: str, ctx: Context) -> dict[str, Any]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    match = ctx.inventory.first(("address", host), ("lower", host)) if host else None
    return {
        "endpoint": f"{host}:{port}",
        "host": host,
        "port": port,
        "inventory_host": match.name if match else "",
        "inventory_role": match.role if match else "",
    }


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return the effective proxy variables, apt's proxies, ``configured`` and the proxy ``endpoints``."""
    environment, profile = raw.file(_ENV), raw.file("/etc/profile")
    if environment is None or profile is None:
        return {}  # without both, what a session gets is not known
    env: dict[str, str] = {}
    sources: dict[str, str] = {}
    _environment(environment, env, sources)
    if profile is not None and profile.exists:
        _shell(profile, env, sources)
        for item in raw.glob("/etc/profile.d/*"):
            if (item.path or "").endswith(".sh"):
                _shell(item, env, sources)
    apt = _apt(raw.glob(_APT[0]) + raw.glob(_APT[1]))
    effective = {
        n: (_clean(v) if n != "no_proxy" else v) for n, v in env.items() if v.strip().lower() not in _OFF
    }
    apt_clean = {k: _clean(v) for k, v in apt.items() if v.strip().lower() not in _OFF}
    used: dict[str, list[str]] = {}
    for name, url in [
        *((n, effective[n]) for n in ("http_proxy", "https_proxy") if n in effective),
        *((f"apt_{k}_proxy", v) for k, v in sorted(apt_clean.items())),
    ]:
        used.setdefault(url, []).append(name)
    endpoints: list[dict[str, Any]] = []
    for url, names in used.items():
        endpoint = _endpoint(url, ctx)
        known = next((e for e in endpoints if e["endpoint"] == endpoint["endpoint"]), None)
        if known:
            known["variables"] += names
        else:
            endpoints.append({**endpoint, "variables": names})
    return {
        "http_proxy": effective.get("http_proxy"),
        "https_proxy": effective.get("https_proxy"),
        "no_proxy": effective.get("no_proxy"),
        "apt_http_proxy": apt_clean.get("http"),
        "apt_https_proxy": apt_clean.get("https"),
        "configured": "http_proxy" in effective and "https_proxy" in effective,
        "sources": {n: sources[n] for n in effective},
        "endpoints": endpoints,
    }


SUBJECT = Subject(
    name="proxy",
    parse=parse,
    files=(_ENV, "/etc/profile", "/etc/profile.d/*", *_APT),
)
