"""A fast check of raw facts against rawfacts.schema.json, for the many valid snapshots of a big scan.

jsonschema spends most of a snapshot scan's CPU walking the same small schema for every item.
``valid(doc)`` checks exactly what that schema says, in plain Python, and only ever answers True
for a document the schema accepts; anything unusual answers False, and the caller then validates
with jsonschema (which says precisely what is wrong, with its line). ``build(doc)`` does the same
check, and what snapshot.load checks besides, in the one walk that builds the RawFacts.
tests/collect/test_rawcheck.py holds both to the schema's and the careful path's verdicts over every
example snapshot and over mutations of them.
"""

from __future__ import annotations

import re
from typing import Any

from scanner.rawfacts import Item, RawFacts

_WHEN = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([+-][0-9]{2}:[0-9]{2}|Z)$"
)
_ID = re.compile(r"^((file|stat):[\s\S]+|probe:[A-Za-z0-9_.-]+)$")
_MODE = re.compile(r"^[0-7]{3,4}$")
_SHA = re.compile(r"^[0-9a-f]{64}$")
_STR = ("kind", "path", "cmd", "content", "stdout", "stderr", "mode", "sha256", "encoding")
_INT = ("rc", "uid", "gid", "mtime", "size", "redacted")
# The exact type of each key an item may have: bool is not an integer, 1.0 is not one here either.
_TYPES: dict[str, type] = {
    **dict.fromkeys(_STR, str),
    **dict.fromkeys(_INT, int),
    **dict.fromkeys(("exists", "truncated"), bool),
}
_KEYS = frozenset(_TYPES)
_NOT = {
    "probe": frozenset(("path", "content")),
    "stat": frozenset(("cmd", "rc", "stdout", "content", "encoding", "truncated")),
    "file": frozenset(("cmd", "rc", "stdout")),
}
_TOP = frozenset(("host", "collected_at", "collector", "items"))


def valid(doc: Any) -> bool:
    """Return True only when ``doc`` is valid raw facts (False: ask jsonschema)."""
    if not _head(doc):
        return False
    return all(type(k) is str and _ID.search(k) and _item(v) for k, v in doc["items"].items())


def _head(doc: Any) -> bool:
    """Check all but the items: the four keys, host, time, collector, and that items is an object."""
    if type(doc) is not dict or doc.keys() != _TOP:
        return False
    host, when, collector = doc["host"], doc["collected_at"], doc["collector"]
    if type(host) is not str or not host or type(when) is not str or not _WHEN.search(when):
        return False
    if type(collector) is not dict or any(type(v) is not str for v in collector.values()):
        return False
    return bool(collector.get("name")) and bool(collector.get("version")) and type(doc["items"]) is dict


def _item(item: Any) -> bool:
    if type(item) is not dict:
        return False
    keys = tuple(item)
    shape = _SHAPES.get(keys) or _shape(keys)
    if tuple(map(type, item.values())) != shape.types or item["kind"] not in shape.kinds:
        return False  # an unknown key, a wrong type (bool is not an integer), a key the kind forbids
    # Only the checks that apply to these keys (the shape knows which of them the item has).
    for key in shape.named:
        if not item[key]:  # minLength 1
            return False
    for count in shape.counts:
        if item[count] < 0:
            return False
    if shape.redacted and item["redacted"] < 1:
        return False
    if shape.encoding and item["encoding"] != "base64":
        return False
    if shape.mode and item["mode"] not in _MODES and not _MODE.search(item["mode"]):
        return False
    return not shape.sha or bool(_SHA.search(item["sha256"]))


# The modes the schema's pattern takes (a set lookup; the pattern itself also takes a final "\n").
_MODES = frozenset(f"{n:03o}" for n in range(0o1000)) | frozenset(f"{n:04o}" for n in range(0o10000))


class _Shape:
    """What a set of keys (in the order a file has them) says of an item, worked out once.

    The exact types of their values (None: no item has these keys), the kinds whose items may have
    just those keys, and which of the value checks apply.
    """

    __slots__ = ("counts", "encoding", "kinds", "mode", "named", "redacted", "sha", "types")

    def __init__(self, keys: tuple[str, ...]) -> None:
        self.types: tuple[type, ...] | None = None
        self.kinds: frozenset[str] = frozenset()
        if "kind" in keys and _KEYS.issuperset(keys):
            self.types = tuple(_TYPES[k] for k in keys)
            self.kinds = frozenset(
                kind
                for kind, forbidden in _NOT.items()
                if forbidden.isdisjoint(keys)
                and all(k in keys for k in (("cmd", "rc") if kind == "probe" else ("path",)))
            )
        self.named = tuple(k for k in ("path", "cmd") if k in keys)
        self.counts = tuple(k for k in ("uid", "gid", "size") if k in keys)
        self.redacted, self.encoding = "redacted" in keys, "encoding" in keys
        self.mode, self.sha = "mode" in keys, "sha256" in keys


# A snapshot has a handful of item shapes, so each is worked out once per process (at most
# _SHAPES_KEPT of them, whatever hostile files hold).
_SHAPES: dict[tuple[str, ...], _Shape] = {}
_SHAPES_KEPT = 1024


def _shape(keys: tuple[str, ...]) -> _Shape:
    shape = _Shape(keys)
    if shape.types is not None and len(_SHAPES) < _SHAPES_KEPT:  # only valid shapes: at most 17 keys each
        _SHAPES[keys] = shape
    return shape


def build(doc: Any, host: str | None = None) -> RawFacts | None:
    """Return the raw facts of a valid snapshot of ``host`` in one walk, or None: then ask the careful path.

    The walk checks what ``valid`` checks and what snapshot.load checks besides (item ids against
    kind and path, the host's name, the content's encoding) while it builds each Item. A parsed item
    that already is exactly what ``Item.to_json`` gives is kept as the evidence form, so that
    evidence.raw_bytes need not build it again. None for anything unusual, never a false RawFacts.
    """
    if not _head(doc) or (host is not None and doc["host"] != host):
        return None
    items: dict[str, Item] = {}
    forms: dict[str, Any] = {}
    for item_id, obj in doc["items"].items():
        if not _item(obj) or not _consistent(item_id, obj):
            return None
        try:
            item = Item.from_json(item_id, obj)
        except ValueError:  # bad base64, a lone surrogate: the careful path says so
            return None
        items[item_id] = item
        forms[item_id] = obj if _as_stored(obj) else item.to_json()
    raw = RawFacts(doc["host"], doc["collected_at"], dict(doc["collector"]), items)
    return raw.keep_form({**doc, "items": forms})


def _consistent(item_id: str, obj: dict[str, Any]) -> bool:
    """Return whether an item's id says its kind and path (or names a probe) as snapshot.load wants."""
    kind = obj["kind"]
    if kind == "probe":
        return item_id.startswith("probe:") and bool(_ID.search(item_id))
    return item_id == f"{kind}:{obj['path']}"  # the path is not empty: the id matches _ID


def _as_stored(obj: dict[str, Any]) -> bool:
    """Return whether a valid item is already what Item.to_json would give for it (key for key)."""
    if "exists" not in obj or "encoding" in obj or obj.get("truncated") is False or obj.get("stderr") == "":
        return False
    kind = obj["kind"]
    if kind != "stat" and obj["exists"]:
        return ("stdout" if kind == "probe" else "content") in obj and "sha256" in obj
    return "content" not in obj and "stdout" not in obj
