"""Parsers from raw facts to facts: one module per subject, registered in a plain dict.

A subject declares which files, stats and probes it needs (so the collector script reads exactly
those) and a pure ``parse(raw, ctx)`` returning its facts subtree. A parser that raises makes
its subject an error; a subject whose items were not collected is missing. Neither is ever pass.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scanner.facts.globs import globs as _globs
from scanner.inventory import Host, Inventory
from scanner.rawfacts import Item, RawFacts


@dataclass(frozen=True)
class Context:
    """What a parser may know besides the raw facts: the host and the inventory it belongs to."""

    host: Host
    inventory: Inventory


Parse = Callable[[RawFacts, Context], dict[str, Any]]

# The reserved key a parser may put in its subtree: {"<fact path relative to the subject>":
# {"file": "/etc/ssh/sshd_config.d/50-vendor.conf", "line": 2}}. build() moves it to Facts.origins.
ORIGINS = "_origins"


def origin(file: str, line: int) -> dict[str, Any]:
    """Return an origin record: where a fact was set."""
    return {"file": file, "line": line}


@dataclass(frozen=True)
class Subject:
    """A parser and the raw items it reads."""

    name: str
    parse: Parse
    files: tuple[str, ...] = ()  # paths or globs whose content is read
    stats: tuple[str, ...] = ()  # paths or globs whose metadata only is read
    probes: tuple[str, ...] = ()  # names from scanner.collect.probes.PROBES
    # A parser that also reads the clock, the host or the inventory may be split so that its part
    # read from the items alone is memoized: ``parse(raw, ctx)`` must be exactly
    # ``finish(content(raw, ctx), raw, ctx)``, and ``finish`` runs for every host.
    content: Parse | None = None
    finish: Callable[[dict[str, Any], RawFacts, Context], dict[str, Any]] | None = None

    def evidence(self, raw: RawFacts) -> list[str]:
        """Return the ids of the raw items this subject is built from."""
        ids: list[str] = []
        files, both = _globs(self.files), _globs(self.stats + self.files)
        for item in raw.items.values():
            if item.kind == "probe":
                if item.id.removeprefix("probe:") in self.probes:
                    ids.append(item.id)
            elif item.path is not None and (files if item.kind == "file" else both)(item.path):
                ids.append(item.id)
        return sorted(ids)


# Modules listed here each define ``SUBJECT``. Order does not matter.
_MODULES = (
    "host",
    "sshd",
    "pam",
    "login_defs",
    "pwquality",
    "faillock",
    "accounts",
    "sudoers",
    "modules",
    "usbguard",
    "rsyslog",
    "journald",
    "logrotate",
    "auditd",
    "time",
    "services",
    "network",
    "firewall",
    "packages",
    "malware",
    "backup",
    "screenlock",
    "logs",
    "windows",
    "declared",
    "proxy",
    "netdev",
)


def _load() -> dict[str, Subject]:
    subjects: dict[str, Subject] = {}
    for name in _MODULES:
        module = importlib.import_module(f"scanner.facts.{name}")
        subject: Subject = module.SUBJECT
        subjects[subject.name] = subject
    return subjects


@dataclass
class Facts:
    """The parsed view of one host: a JSON-able tree plus per-subject errors and evidence."""

    tree: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, list[str]] = field(default_factory=dict)
    # Where a fact was set: full dotted fact path -> {"file": path, "line": n} (from "_origins").
    origins: dict[str, dict[str, Any]] = field(default_factory=dict)

    def origin_of(self, path: str) -> dict[str, Any] | None:
        """Return where a fact was set: its own origin, else that of its longest dotted prefix."""
        origins = self.origins
        if not origins:
            return None
        end = len(path)
        while end > 0:  # the path, then each prefix that ends before a dot, longest first
            found = origins.get(path[:end])
            if found is not None:
                return found
            end = path.rfind(".", 0, end)
        return None


def needed_items(subjects: Iterable[str]) -> tuple[set[str], set[str], set[str]]:
    """Return (file globs, stat globs, probe names) that the named subjects read."""
    files: set[str] = set()
    stats: set[str] = set()
    probes: set[str] = set()
    for name in subjects:
        subject = SUBJECTS[name]
        files.update(subject.files)
        stats.update(subject.stats)
        probes.update(subject.probes)
    return files, stats, probes


def build(raw: RawFacts, ctx: Context, subjects: Iterable[str] | None = None) -> Facts:
    """Parse raw facts into facts, isolating each subject's failure.

    >>> facts = build(raw, ctx, ["sshd"])  # doctest: +SKIP
    >>> facts.tree["sshd"]["permitrootlogin"]  # doctest: +SKIP
    'no'
    """
    from scanner.facts import memo

    facts = Facts()
    host = memo.Host(raw)
    for name in sorted(subjects if subjects is not None else SUBJECTS):
        subject = SUBJECTS[name]
        facts.evidence[name] = host.evidence(subject)
        cut = truncated(raw, facts.evidence[name]) if host.cut else ""
        if cut:  # a cut file may hide its last lines (a NOPASSWD rule, a uid 0 user): never parse it
            facts.errors[name] = cut
            continue
        try:
            tree, origins = memo.parts(subject, raw, ctx, host, ORIGINS)  # shared across hosts: read only
        except Exception as exc:  # a broken parser is an error finding, never a pass
            facts.errors[name] = f"parser {name} failed: {type(exc).__name__}: {exc}"
            continue
        facts.origins.update(origins)
        facts.tree[name] = tree
    return facts


def truncated(raw: RawFacts, ids: list[str]) -> str:
    """Return an error naming the first item among ``ids`` whose content was cut, else ''.

    >>> truncated(raw, ["file:/etc/sudoers"])  # doctest: +SKIP
    'truncated at 4194304 bytes: /etc/sudoers'
    """
    for item_id in ids:
        item = raw.items.get(item_id)
        if item is not None and item.truncated:
            return f"truncated at {len(item.data)} bytes: {item.path or item.id}"
    return ""


# Files and logs keep changing while a host is collected (the clock is read when collection
# starts); a time later than that by more than this is a wrong clock or an edited file.
SKEW_SECONDS = 900


def elapsed(since: datetime, now: datetime, what: str) -> float:
    """Return the seconds from ``since`` to ``now`` (0 within the collection's own minutes).

    A time after the collection by more than SKEW_SECONDS is an error, not a young age:

    >>> elapsed(datetime(2099, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), "x")  # doctest: +SKIP
    ValueError: x 2099-01-01T00:00:00+00:00 is after the collection time 2026-01-01T00:00:00+00:00
    """
    seconds = (now - since).total_seconds()
    if seconds < -SKEW_SECONDS:
        raise ValueError(f"{what} {since.isoformat()} is after the collection time {now.isoformat()}")
    return max(seconds, 0.0)


def lines(item: Item | None) -> list[str]:
    """Return an item's logical lines without comments and blanks ('#' starts a comment)."""
    if item is None or not item.exists:
        return []
    out = []
    for line in item.text.splitlines():
        stripped = line.split("#", 1)[0].strip()
        if stripped:
            out.append(stripped)
    return out


# Last, so that parser modules can import the helpers above from this package.
SUBJECTS: dict[str, Subject] = _load()
