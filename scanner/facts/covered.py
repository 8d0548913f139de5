"""What a subject's memo key covers, and the raw facts and context as a memoized parser reads them.

``Covered`` tells which item ids and globs a subject's declaration covers; ``Reader`` and
``Watched`` hand a parser its raw facts and context and note any read the key does not cover
(scanner/facts/memo.py then does not keep that parse).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scanner.facts.globs import globs
from scanner.rawfacts import Item, RawFacts

if TYPE_CHECKING:
    from scanner.facts import Context, Subject


def covered(subject: Subject) -> Covered:
    """Return what a subject covers, worked out once per subject (by identity: hashing one is slow)."""
    found = _COVERED.get(id(subject))
    if found is None or found[0] is not subject:
        found = _COVERED[id(subject)] = (
            subject,
            Covered(subject),
        )  # the subject is kept: its id stays its own
    return found[1]


_COVERED: dict[int, tuple[Subject, Covered]] = {}


class Covered:
    """Which item ids and globs a subject's declaration covers."""

    def __init__(self, subject: Subject) -> None:
        # The key covers a file item under a stat pattern too (its metadata is what is read), so a
        # parser may read either kind of item under any pattern it declares.
        self.files, self.stats, self.probes = subject.files, subject.stats + subject.files, subject.probes
        self._evidence, self._file = globs(self.files), globs(self.stats)
        self._seen: dict[str, bool] = {}  # hosts share their item ids: each is tested once
        self._shown: dict[str, bool] = {}  # the same for evidence (a file item matches the files only)

    def id(self, item_id: str) -> bool:
        known = self._seen.get(item_id)
        if known is None:
            if len(self._seen) > 100_000:
                self._seen.clear()
            known = self._seen[item_id] = self._test(item_id)
        return known

    def pick(self, ids: tuple[str, ...], evidence: bool = False) -> list[str]:
        """Return the ids the key covers (or, with ``evidence``, those shown as evidence), in order."""
        seen, test = (self._shown, self._show) if evidence else (self._seen, self._test)
        if len(seen) > 100_000:
            seen.clear()
        for item_id in [i for i in ids if i not in seen]:
            seen[item_id] = test(item_id)
        return [i for i in ids if seen[i]]

    def _show(self, item_id: str) -> bool:
        kind, _, rest = item_id.partition(":")
        return self._test(item_id) if kind != "file" else self._evidence(rest)

    def _test(self, item_id: str) -> bool:
        kind, _, rest = item_id.partition(":")
        if kind in ("file", "stat"):
            return self._file(rest)
        return kind == "probe" and rest in self.probes

    def glob(self, pattern: str, kind: str) -> bool:
        """Tell whether every path the glob may match is covered: a declared pattern, or one below
        a declared ``<literal>*`` (fnmatch's ``*`` matches ``/`` too, so it covers all below)."""
        declared = self.stats if kind in ("file", "stat") else ()
        if pattern in declared:
            return True
        prefix = _literal(pattern)
        return any(d.endswith("*") and _literal(d) == d[:-1] and prefix.startswith(d[:-1]) for d in declared)


def _literal(pattern: str) -> str:
    """Return a glob's part before its first wildcard."""
    return pattern[: min((i for i, ch in enumerate(pattern) if ch in "*?["), default=len(pattern))]


# Who the host is, not what it holds: different on every host collected over SSH, so a key with them
# would never be met twice. They are left out of the key; a parser that reads one is not kept.
PER_HOST = frozenset({"address", "host_key", "via"})


def header(raw: RawFacts) -> dict[str, str]:
    """The collector header in the key: all but the transport's timings (``*_s``) and PER_HOST."""
    return {k: v for k, v in raw.collector.items() if not k.endswith("_s") and k not in PER_HOST}


class _Header(dict[str, str]):
    """The collector header as a parser reads it: reading a PER_HOST field marks the parse as outside."""

    def __init__(self, values: dict[str, str], reader: Reader) -> None:
        super().__init__(values)
        self._reader = reader

    def _outside(self) -> None:
        self._reader.outside = True

    def __getitem__(self, key: str) -> str:
        if key in PER_HOST:
            self._outside()
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        if key in PER_HOST and key in self:
            self._outside()
        return super().get(key, default)

    def _whole(self) -> dict[str, str]:
        if any(k in PER_HOST for k in dict.keys(self)):
            self._outside()
        return dict(dict.items(self))

    def items(self) -> Any:
        return self._whole().items()

    def values(self) -> Any:
        return self._whole().values()

    def __iter__(self) -> Any:
        return iter(self._whole())

    def keys(self) -> Any:
        return self._whole().keys()

    def copy(self) -> dict[str, str]:
        return self._whole()

    def __repr__(self) -> str:
        return repr(self._whole())


class Reader:
    """The raw facts as a parser reads them, noting whether it read anything the key does not cover."""

    def __init__(self, raw: RawFacts, covered: Covered) -> None:
        self._raw, self._covered = raw, covered
        self.outside = False

    def _get(self, item_id: str) -> Item | None:
        if not self._covered.id(item_id):
            self.outside = True
        return self._raw.items.get(item_id)

    def file(self, path: str) -> Item | None:
        return self._get("file:" + path)

    def probe(self, name: str) -> Item | None:
        return self._get("probe:" + name)

    def stat(self, path: str) -> Item | None:
        return self._get("stat:" + path) or self._get("file:" + path)

    def glob(self, pattern: str, kind: str = "file") -> list[Item]:
        if not self._covered.glob(pattern, kind):
            self.outside = True
        return self._raw.glob(pattern, kind)

    @property
    def collector(self) -> dict[str, str]:
        seen = {k: v for k, v in self._raw.collector.items() if not k.endswith("_s")}
        return _Header(seen, self)

    def __getattr__(self, name: str) -> Any:  # items, host, collected_at, to_json...
        self.outside = True
        return getattr(self._raw, name)


class Watched:
    """The parser's context: any use of it makes the parse depend on more than the key."""

    def __init__(self, ctx: Context, reader: Reader) -> None:
        self._ctx, self._reader = ctx, reader

    def __getattr__(self, name: str) -> Any:
        self._reader.outside = True
        return getattr(self._ctx, name)
