"""Parse once per distinct input: a subject's facts memoized by the content of what it declares.

Hosts built from one image share most of their files, and a parser is a pure function of what it
reads. ``parse`` keys a subject's facts by a digest of every raw item its declaration covers (the
files, stats and probes of its Subject, present or absent) and runs the parser on a ``Reader``:
the raw facts themselves, which note any read the key does not cover (an undeclared item, a glob
of another pattern, the collection time, the host's inventory entry, the collector header). Such
a parse is still the parse of the raw facts; it is only not kept. A subject whose parses keep
reading outside their key stops being tried. The collector header is part of the key (less the
transport's timings, which a parser does not read). Each caller gets its own copy of kept facts,
except with ``share``: then the kept tree itself (facts.build, the scan's path, shares it across
hosts instead of copying it for each; no one downstream changes a fact, and
tests/facts/test_memo_shared.py runs the example ward's scan with ``watch`` to hold it to that).

A file item under a declared stat pattern is in the key as well (a parser may read the metadata of
either kind). A parser that must read the clock, the host or the inventory is split (``Subject``'s
``content`` and ``finish``): its content part is kept as above and ``finish`` runs for every host;
when the content part raises, the whole parser runs, so its error is the one it would give alone.
Which ids each subject covers is worked out once per distinct list of item ids (``Host``).
"""

from __future__ import annotations

import dataclasses
import marshal
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING, Any, cast

from scanner.facts.covered import Covered, Reader, Watched, covered, header
from scanner.rawfacts import Item, RawFacts

if TYPE_CHECKING:
    from scanner.facts import Context, Parse, Subject

MAX_BYTES = 64 * 1024 * 1024  # kept facts and their keys' contents; all dropped when over
# Kept facts are held as objects, about six times the size of their marshalled form (measured on
# the example ward: 0.52 MB marshalled, 3.3 MB of objects); what MAX_BYTES counts for each.
OBJECT_SIZE = 6
GIVE_UP = 3  # parses of a subject that read outside their key, with none kept, before it is not tried


@dataclass
class _Memo:
    kept: dict[tuple[Any, ...], Any] = field(default_factory=dict)  # key -> the facts, shared
    size: int = 0
    misses: dict[str, int] = field(default_factory=dict)  # subject -> parses that read outside
    stored: set[str] = field(default_factory=set)  # subjects with a kept parse
    split: dict[tuple[Any, ...], tuple[Any, dict[str, Any]]] = field(default_factory=dict)  # parts()
    watched: dict[tuple[Any, ...], bytes] | None = None  # with watch(): kept facts as first kept


_MEMO = _Memo()
# Every field of an Item (the key must hold all a parser may read: content, metadata, rc, stderr...).
_FIELDS = attrgetter(*(f.name for f in dataclasses.fields(Item)))


def watch(on: bool = True) -> None:
    """From now on keep (or no longer keep) a marshalled copy of every kept tree, for ``changed`` (tests)."""
    _MEMO.watched = {} if on else None


def changed() -> list[str]:
    """Return the subjects of kept trees that differ from what they were when kept (with ``watch``)."""
    out = []
    for key, data in (_MEMO.watched or {}).items():
        tree = _MEMO.kept.get(key)
        if tree is not None and repr(tree) != repr(marshal.loads(data)):  # repr: True is not 1
            out.append(key[0])
    return sorted(out)


def clear() -> None:
    """Forget every kept parse (tests, and a benchmark of the first sight of each host)."""
    global _MEMO
    _MEMO = _Memo(watched=None if _MEMO.watched is None else {})
    _LAYOUTS.clear()


# Hosts built from one image have the same item ids: what each subject picks of them is worked out
# once per distinct list of ids (the evidence ids, then the ids the memo key covers).
_Picks = dict["Covered", tuple[list[str], list[str]]]
_LAYOUTS: dict[tuple[str, ...], _Picks] = {}


class Host:
    """What ``parse`` needs of one host's raw facts, worked out once for all its subjects."""

    def __init__(self, raw: RawFacts) -> None:
        self.raw = raw
        self.ids = tuple(sorted(raw.items))
        self.header = tuple(sorted(header(raw).items()))
        # An item whose id is not "<kind>:<path>" (a hand-written snapshot) has its evidence tested by fields.
        self.plain = all(
            item.id.startswith("probe:")
            if item.kind == "probe"
            else item.kind in ("file", "stat") and item.id == f"{item.kind}:{item.path}"
            for item in raw.items.values()
        )
        self.cut = any(item.truncated for item in raw.items.values())  # else no subject's input was cut
        if len(_LAYOUTS) > 256:
            _LAYOUTS.clear()
        self._picks = _LAYOUTS.setdefault(self.ids, {})
        self._values: dict[str, tuple[Any, ...]] = {}

    def picks(self, cover: Covered) -> tuple[list[str], list[str]]:
        """Return (evidence ids, key ids) of a subject, both in sorted order."""
        found = self._picks.get(cover)
        if found is None:
            found = self._picks[cover] = (cover.pick(self.ids, evidence=True), cover.pick(self.ids))
        return found

    def values(self, ids: list[str]) -> tuple[tuple[Any, ...], ...]:
        """Return the fields of the items ``ids``, in order: what the memo key holds of them.

        Each item's fields are read once per host (an item is in the key of every subject that
        declares it); a tuple of them hashes and compares in C, unlike the Item dataclass.
        """
        got = self._values
        out = []
        for item_id in ids:
            found = got.get(item_id)
            if found is None:
                found = got[item_id] = _FIELDS(self.raw.items[item_id])
            out.append(found)
        return tuple(out)

    def evidence(self, subject: Subject) -> list[str]:
        """Return ``subject.evidence(raw)``: the covered ids, tested once per distinct list of ids."""
        if not self.plain:
            return subject.evidence(self.raw)
        return list(self.picks(covered(subject))[0])


def parse(
    subject: Subject, raw: RawFacts, ctx: Context, host: Host | None = None, share: bool = False
) -> dict[str, Any]:
    """Return ``subject.parse(raw, ctx)``, from the memo when this content was parsed before.

    A subject split into ``content`` and ``finish`` keeps its content part and finishes it per host.
    With ``share`` the kept tree itself is returned (and given to ``finish``): the caller, ``finish``
    and everything downstream must only read it. Without, the caller gets its own copy.
    """
    if subject.finish is None:
        tree, key = _parse(subject, subject.parse, raw, ctx, host)
        return tree if share or key is None else marshal.loads(marshal.dumps(tree))
    try:
        part, key = _parse(subject, subject.content or subject.parse, raw, ctx, host)
    except Exception:  # the whole parser raises its own error, in its own order
        return subject.parse(raw, ctx)
    return subject.finish(part if share or key is None else marshal.loads(marshal.dumps(part)), raw, ctx)


def parts(
    subject: Subject, raw: RawFacts, ctx: Context, host: Host, origins: str
) -> tuple[Any, dict[str, Any]]:
    """Return ``parse(..., share=True)`` without its ``origins`` key, and them by full fact path.

    facts.build's form (``origins`` is scanner.facts.ORIGINS, which this module cannot import).

    A kept tree is split once, not for each host that shares it (both parts are shared: read only).
    """
    if subject.finish is not None:
        return _split(subject.name, parse(subject, raw, ctx, host, share=True), origins)
    tree, key = _parse(subject, subject.parse, raw, ctx, host)
    if key is None:
        return _split(subject.name, tree, origins)
    found = _MEMO.split.get(key)
    if found is None:
        found = _MEMO.split[key] = _split(subject.name, tree, origins)
    return found


def _split(name: str, tree: Any, origins: str) -> tuple[Any, dict[str, Any]]:
    """Return the tree without ``origins``, and them keyed by full fact path ("<subject>.<relative path>")."""
    if not isinstance(tree, dict) or origins not in tree:
        return tree, {}
    where = {f"{name}.{rel}" if rel else name: at for rel, at in (tree[origins] or {}).items()}
    return {k: v for k, v in tree.items() if k != origins}, where


def _parse(
    subject: Subject, run: Parse, raw: RawFacts, ctx: Context, host: Host | None
) -> tuple[dict[str, Any], tuple[Any, ...] | None]:
    """Return the facts and their key in the memo, None when they are not kept (the caller's own)."""
    memo = _MEMO
    if memo.misses.get(subject.name, 0) >= GIVE_UP and subject.name not in memo.stored:
        return run(raw, ctx), None
    cover = covered(subject)
    host = host if host is not None and host.raw is raw else Host(raw)
    key = (subject.name, host.header, host.values(host.picks(cover)[1]))
    kept = memo.kept.get(key)
    if kept is not None:
        return kept, key
    reader = Reader(raw, cover)
    tree = run(cast(RawFacts, reader), cast("Context", Watched(ctx, reader)))
    if reader.outside:
        memo.misses[subject.name] = memo.misses.get(subject.name, 0) + 1
        return tree, None
    try:
        data = marshal.dumps(tree)  # plain data only (dict, list, str, numbers...): else not kept
    except ValueError:
        return tree, None
    size = OBJECT_SIZE * len(data) + sum(len(raw.items[i].data) for i in host.picks(cover)[1])
    if memo.size + size > MAX_BYTES:
        memo.kept.clear()
        memo.split.clear()
        memo.size = 0
        if memo.watched is not None:
            memo.watched.clear()
    memo.kept[key] = tree
    memo.size += size
    memo.stored.add(subject.name)
    if memo.watched is not None:
        memo.watched[key] = data
    return tree, key
