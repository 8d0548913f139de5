"""Facts of subject 'logrotate': how long each rotated log is kept (rotate x period, capped by maxage)."""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass, replace
from typing import Any

from scanner.facts import Context, Subject, lines
from scanner.facts.words import split as shell_words
from scanner.rawfacts import Item, RawFacts

_CONF = "/etc/logrotate.conf"
_FILES = (_CONF, "/etc/logrotate.d/*")
_PERIOD_DAYS = {"hourly": 1 / 24, "daily": 1, "weekly": 7, "monthly": 30, "yearly": 365}
_SCRIPTS = {"postrotate", "prerotate", "firstaction", "lastaction", "preremove"}
_SECURITY_LOGS = ("/var/log/auth.log", "/var/log/syslog", "/var/log/secure", "/var/log/messages")
# logrotate skips included files with these endings (its built-in tabooext list).
_TABOO = (
    ",v",
    ".cfsaved",
    ".disabled",
    ".dpkg-bak",
    ".dpkg-del",
    ".dpkg-dist",
    ".dpkg-new",
    ".dpkg-old",
    ".dpkg-tmp",
    ".rhn-cfg-tmp",
    ".rpmnew",
    ".rpmorig",
    ".rpmsave",
    ".swp",
    ".ucf-dist",
    ".ucf-new",
    ".ucf-old",
    "~",
)


@dataclass(frozen=True)
class _Options:
    """The options that decide retention; global ones are the defaults of later blocks."""

    rotate: int = 0
    period: str | None = None  # None: size-based or never set, so the retention is unknown
    maxage: int | None = None


def _apply(words: list[str], opts: _Options, where: str) -> _Options:
    """Return the options after one directive (other directives do not change retention)."""
    key = words[0]
    if key in _PERIOD_DAYS:
        return replace(opts, period=key)
    if key == "size":
        # size is exclusive with the time intervals; the last one given wins.
        return replace(opts, period=None)
    if key in ("rotate", "maxage"):
        if len(words) != 2 or not words[1].lstrip("-").isdigit():
            raise ValueError(f"{where}: bad {key} line {' '.join(words)!r}")
        number = int(words[1])
        return replace(opts, rotate=number) if key == "rotate" else replace(opts, maxage=number)
    return opts


class _Reader:
    """Walk logrotate configuration files in the order logrotate reads them."""

    def __init__(self, raw: RawFacts) -> None:
        self.raw = raw
        self.globals = _Options()
        self.logs: dict[str, dict[str, Any]] = {}
        self.seen: set[str] = set()

    def read(self, item: Item) -> None:
        path = item.path or ""
        if path in self.seen:
            return
        self.seen.add(path)
        pending: list[str] = []  # paths read before the "{" that opens their block
        block: _Options | None = None
        in_script = False
        for line in lines(item):
            if in_script:
                in_script = line != "endscript"
                continue
            if block is not None:
                if line == "}":
                    self._record(pending, block, path)
                    pending, block = [], None
                elif line.split()[0] in _SCRIPTS:
                    in_script = True
                else:
                    block = _apply(line.split(), block, path)
                continue
            if line.startswith(("/", '"', "'", "{", "~")) or line.endswith("{"):
                opens = line.endswith("{")
                pending += shell_words(line.removesuffix("{"))
                if opens:
                    block = self.globals
                continue
            words = line.split()
            if words[0] == "include" and len(words) == 2:
                self._include(words[1])
            else:
                self.globals = _apply(words, self.globals, path)
        if block is not None or pending:
            raise ValueError(f"{path}: unterminated block for {' '.join(pending)}")

    def _include(self, target: str) -> None:
        # Only a file this subject declares is read as such (an include is usually a folder, which
        # no collector sends as a file): another subject's file would make the facts vary with it.
        exact = self.raw.file(target) if target in _FILES or fnmatch.fnmatchcase(target, _FILES[1]) else None
        if exact is not None and exact.exists:
            self.read(exact)
            return
        for item in self.raw.glob(target.rstrip("/") + "/*"):
            name = item.path or ""
            if posixpath.dirname(name) == target.rstrip("/") and not name.endswith(_TABOO):
                self.read(item)

    def _record(self, paths: list[str], opts: _Options, file: str) -> None:
        days = None
        if opts.period is not None:
            days = int(max(opts.rotate, 0) * _PERIOD_DAYS[opts.period])
            if opts.maxage is not None and opts.maxage < days:
                days = max(opts.maxage, 0)
        for path in paths:
            # logrotate refuses a second entry for the same log; the first one stays in force.
            self.logs.setdefault(
                path,
                {
                    "rotate": opts.rotate,
                    "period": opts.period,
                    "retention_days": days,
                    "maxage": opts.maxage,
                    "file": file,
                },
            )


def _configured(logs: dict[str, dict[str, Any]], path: str) -> dict[str, Any] | None:
    if path in logs:
        return logs[path]
    return next((entry for pattern, entry in logs.items() if fnmatch.fnmatchcase(path, pattern)), None)


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return ``logs {path: {rotate, period, retention_days, maxage, file}}`` and ``security_retention_days``."""
    conf = raw.file(_CONF)
    if conf is None:
        return {}
    reader = _Reader(raw)
    if conf.exists:
        reader.read(conf)
    kept = [_configured(reader.logs, p) for p in _SECURITY_LOGS]
    days = [entry["retention_days"] for entry in kept if entry is not None]
    # A security log whose retention is unknown (size-based) counts as 0: never a guessed pass.
    return {
        "logs": reader.logs,
        "security_retention_days": min((d if d is not None else 0) for d in days) if days else None,
    }


SUBJECT = Subject(name="logrotate", parse=parse, files=_FILES)
