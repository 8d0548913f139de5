"""Facts of subject 'sudoers': the sudo rules reached from /etc/sudoers, and who may run everything (without a password).

"Everything" is ALL or any grant as good as ALL: a shell, an editor, an interpreter, a wildcard
(scanner/facts/sudo_power.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from scanner.facts import ORIGINS, Context, Subject
from scanner.facts.sudo_power import why_all
from scanner.rawfacts import RawFacts

SUDOERS = "/etc/sudoers"
SUDOERS_DIR = "/etc/sudoers.d"
_MAX_DEPTH = 32
_ALIAS_KINDS = {
    "User_Alias": "user",
    "Runas_Alias": "runas",
    "Host_Alias": "host",
    "Cmnd_Alias": "cmnd",
    "Cmd_Alias": "cmnd",
}
_TAG = re.compile(r"\s*(NO)?(PASSWD|EXEC|SETENV|LOG_INPUT|LOG_OUTPUT|MAIL|FOLLOW|INTERCEPT)\s*:")
_OPTION = re.compile(
    r"\s*(CWD|CHROOT|ROLE|TYPE|TIMEOUT|NOTBEFORE|NOTAFTER|APPARMOR_PROFILE|PRIVS|LIMITPRIVS)=\S+\s+"
)
_INCLUDE = re.compile(r"[@#](include|includedir)\s+(.+)")


def _split(text: str, sep: str) -> list[str]:
    """Split on separators that are not escaped with a backslash."""
    parts, current, i = [], "", 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            current += text[i : i + 2]
            i += 2
            continue
        if text[i] == sep:
            parts.append(current)
            current = ""
        else:
            current += text[i]
        i += 1
    return [*parts, current]


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Return (line number, line) with continuations joined and comments dropped (#include and #<uid> are not comments)."""
    out, pending, start = [], "", 0
    for number, raw_line in enumerate(text.splitlines(), 1):
        start = start if pending else number
        line = pending + raw_line
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        stripped = line.strip()
        if not _INCLUDE.match(stripped):
            stripped = re.sub(r"(^|(?<=[\s,!(]))#(?!\d).*$", "", stripped).strip()
        if stripped:
            out.append((start, stripped))
    return out


@dataclass
class _Reader:
    """Follows includes from /etc/sudoers and collects aliases, rules and Defaults lines."""

    raw: RawFacts
    aliases: dict[str, dict[str, list[str]]] = field(
        default_factory=lambda: {k: {} for k in ("user", "runas", "host", "cmnd")}
    )
    rules: list[dict[str, Any]] = field(default_factory=list)
    defaults: list[str] = field(default_factory=list)
    includes: list[dict[str, str]] = field(default_factory=list)

    def read(self, path: str, depth: int = 0) -> None:
        """Read one sudoers file, following @include and @includedir in place."""
        if depth > _MAX_DEPTH:
            raise ValueError(f"sudoers include nesting too deep at {path}")
        item = self.raw.file(path)
        if item is None:
            raise ValueError(f"sudoers file {path} was not collected")
        if not item.exists:
            if depth == 0:
                return
            raise ValueError(f"sudoers file {path} is included but does not exist")
        for number, line in _logical_lines(item.text):
            include = _INCLUDE.match(line)
            if include:
                self._include(path, include.group(1), include.group(2).strip().strip('"'), depth)
            elif line.split(None, 1)[0] in _ALIAS_KINDS:
                self._alias(line)
            elif re.match(r"Defaults([:@>!\s]|$)", line):
                self.defaults.append(line)
            else:
                self._rule(line, path, number)

    def _include(self, path: str, kind: str, target: str, depth: int) -> None:
        if not target.startswith("/"):  # relative to the including file's folder (sudo 1.9)
            target = path.rsplit("/", 1)[0] + "/" + target
        self.includes.append({"directive": "@" + kind, "path": target, "file": path})
        if kind == "include":
            self.read(target, depth + 1)
            return
        if target.rstrip("/") != SUDOERS_DIR:
            raise ValueError(f"@includedir {target}: outside the collected files")
        # sudo skips names that end in '~' or contain a '.'.
        names = sorted(
            (it.path or "").rsplit("/", 1)[1]
            for it in self.raw.glob(SUDOERS_DIR + "/*")
            if (it.path or "").rsplit("/", 1)[0] == SUDOERS_DIR
        )
        for name in names:
            if not name.endswith("~") and "." not in name:
                self.read(f"{SUDOERS_DIR}/{name}", depth + 1)

    def _alias(self, line: str) -> None:
        keyword, body = line.split(None, 1)
        for definition in _split(body, ":"):
            name, eq, items = definition.partition("=")
            if not eq or not re.fullmatch(r"[A-Z][A-Z0-9_]*", name.strip()):
                raise ValueError(f"bad alias definition {definition!r}")
            values = [i.strip() for i in _split(items, ",") if i.strip()]
            self.aliases[_ALIAS_KINDS[keyword]][name.strip()] = values

    def _rule(self, line: str, path: str, number: int) -> None:
        m = re.match(r"([^\s,]+(?:\s*,\s*[^\s,]+)*)\s+(.*)", line)
        if m is None or "=" not in m.group(2):
            raise ValueError(f"{path}: cannot read sudoers line {line!r}")
        who, rest = m.group(1), m.group(2)
        groups: list[tuple[tuple[str, str, bool], list[str]]] = []
        for hosts, specs in _host_sections(rest):
            runas, nopasswd = "", False  # a Runas_Spec and tags carry over to the next commands
            for spec in specs:
                spec = spec.strip()
                if spec.startswith("("):
                    runas, _, spec = spec[1:].partition(")")
                while (tag := _TAG.match(spec)) or (tag := _OPTION.match(spec)):
                    if tag.re is _TAG and tag.group(2) == "PASSWD":
                        nopasswd = tag.group(1) == "NO"
                    spec = spec[tag.end() :]
                key = (hosts, re.sub(r"\s*:\s*", ":", runas.strip()), nopasswd)
                command = " ".join(spec.split())
                if groups and groups[-1][0] == key:
                    groups[-1][1].append(command)
                else:
                    groups.append((key, [command]))
        for (hosts, runas, nopasswd), commands in groups:
            self.rules.append(
                {
                    "who": who,
                    "hosts": hosts,
                    "runas": runas,
                    "nopasswd": nopasswd,
                    "commands": commands,
                    "file": path,
                    "line": number,
                }
            )


_TAG_AT_END = re.compile(
    r"(^|[\s:)])(NO)?(PASSWD|EXEC|SETENV|LOG_INPUT|LOG_OUTPUT|MAIL|FOLLOW|INTERCEPT)\s*$"
)

_DIGEST_AT_END = re.compile(r"(^|[\s:)])sha(224|256|384|512)$")


def _host_sections(rest: str) -> list[tuple[str, list[str]]]:
    """Split `hosts = (runas) TAG: cmnd, cmnd : hosts = cmnd` into (hosts, command specs) sections."""
    sections: list[tuple[str, list[str]]] = []
    i, n = 0, len(rest)
    while i < n:
        eq = next((j for j in range(i, n) if rest[j] == "=" and rest[j - 1] != "\\"), -1)
        if eq < 0:
            raise ValueError(f"sudoers: no '=' after the host list in {rest!r}")
        hosts, i, specs = rest[i:eq].strip(), eq + 1, []
        while True:
            j, depth = i, 0
            while j < n:
                c = rest[j]
                if c == "\\":
                    j += 2
                    continue
                depth += (c == "(") - (c == ")")
                # ',' ends a command; ':' ends a host section unless it closes a tag (NOPASSWD:).
                # A digest (sha256:...) pins a command and does not end a section either.
                tagged = _TAG_AT_END.search(rest[i:j]) or _DIGEST_AT_END.search(rest[i:j])
                if depth == 0 and (c == "," or (c == ":" and not tagged)):
                    break
                j += 1
            specs.append(rest[i:j])
            i = j + 1
            if j >= n or rest[j] == ":":
                break
        sections.append((hosts, specs))
    return sections


def _expand(items: list[str], aliases: dict[str, list[str]], seen: frozenset[str] = frozenset()) -> list[str]:
    """Expand alias names (recursively) in a list, keeping '!' on negated items."""
    out: list[str] = []
    for item in items:
        negated = item.startswith("!")
        name = item.lstrip("!").strip()
        if name in aliases and name not in seen:
            out.extend(
                ("!" + x if negated and not x.startswith("!") else x)
                for x in _expand(aliases[name], aliases, seen | {name})
            )
        else:
            out.append(("!" if negated else "") + name)
    return out


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return the rules, who runs ALL commands, who does so without a password, Defaults and includes."""
    if raw.file(SUDOERS) is None:
        return {}
    reader = _Reader(raw)
    reader.read(SUDOERS)
    # `Defaults !authenticate` turns every matching rule into NOPASSWD; scoped ones are treated as global.
    no_auth = any(re.search(r"(^|[\s,])!\s*authenticate\b", d) for d in reader.defaults)
    all_principals: list[str] = []
    nopasswd_all: list[str] = []
    equivalent: list[dict[str, Any]] = []
    origins: dict[str, dict[str, Any]] = {}
    for rule in reader.rules:
        commands = _expand(rule["commands"], reader.aliases["cmnd"])
        # A negated entry never narrows ALL in practice; a shell, an editor or a wildcard is ALL.
        whys = [(c, why) for c in commands if not c.startswith("!") and (why := why_all(c))]
        if not whys:
            continue
        principals = [
            p for p in _expand(_split(rule["who"], ","), reader.aliases["user"]) if not p.startswith("!")
        ]
        all_principals.extend(principals)
        where = {"file": rule["file"], "line": rule["line"]}
        if any(p != "root" for p in principals):  # root's own grant never decides a finding
            origins.setdefault("all_principals", where)
        if rule["nopasswd"] or no_auth:
            nopasswd_all.extend(principals)
            if any(p != "root" for p in principals):
                origins.setdefault("nopasswd_all", where)
        for command, why in whys:
            equivalent.append({"who": rule["who"], "command": command, "why": why, "file": rule["file"]})
    return {
        "rules": reader.rules,
        "nopasswd_all": list(dict.fromkeys(nopasswd_all)),
        "all_principals": list(dict.fromkeys(all_principals)),
        "all_equivalent": equivalent,
        "defaults": reader.defaults,
        "includes": reader.includes,
        ORIGINS: origins,
    }


SUBJECT = Subject(name="sudoers", parse=parse, files=(SUDOERS, SUDOERS_DIR + "/*"))
