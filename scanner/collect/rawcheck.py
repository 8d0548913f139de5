"""A fast check of raw facts against rawfacts.schema.json, for the many valid snapshots of a big scan.

jsonschema spends most of a snapshot scan's CPU walking the same small schema for every item.
``valid(doc)`` checks exactly what that schema says, in plain Python, and only ever answers True
for a document the schema accepts; anything unusual answers False, and the caller then validates
with jsonschema (which says precisely what is wrong, with its line). tests/collect/test_rawcheck.py
holds both to the same verdicts over every example snapshot and over mutations of them.
"""

from __future__ import annotations

import re
from typing import Any

_WHEN = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([+-][0-9]{2}:[0-9]{2}|Z)$"
)
_ID = re.compile(r"^((file|stat):[\s\S]+|probe:[A-Za-z0-9_.-]+)$")
_MODE = re.compile(r"^[0-7]{3,4}$")
_SHA = re.compile(r"^[0-9a-f]{64}$")
_STR = ("path", "cmd", "content", "stdout", "stderr", "mode", "sha256")
_INT = ("rc", "uid", "gid", "mtime", "size")
_KEYS = frozenset(("kind", "exists", "truncated", "encoding", *_STR, *_INT))
_NOT = {
    "probe": frozenset(("path", "content")),
    "stat": frozenset(("cmd", "rc", "stdout", "content", "encoding", "truncated")),
    "file": frozenset(("cmd", "rc", "stdout")),
}


def valid(doc: Any) -> bool:
    """Return True only when ``doc`` is valid raw facts (False: ask jsonschema)."""
    if type(doc) is not dict or set(doc) - {"host", "collected_at", "collector", "items"}:
        return False
    host, when, collector, items = (doc.get(k) for k in ("host", "collected_at", "collector", "items"))
    if type(host) is not str or not host or type(when) is not str or not _WHEN.search(when):
        return False
    if type(collector) is not dict or any(type(v) is not str for v in collector.values()):
        return False
    if not collector.get("name") or not collector.get("version"):
        return False
    if type(items) is not dict:
        return False
    return all(type(k) is str and _ID.search(k) and _item(v) for k, v in items.items())


def _item(item: Any) -> bool:
    if type(item) is not dict or not set(item) <= _KEYS:
        return False
    kind = item.get("kind")
    if type(kind) is not str or kind not in _NOT or _NOT[kind] & set(item):
        return False
    if kind == "probe" and ("cmd" not in item or "rc" not in item):
        return False
    if kind != "probe" and "path" not in item:
        return False
    for key in _STR:
        if key in item and type(item[key]) is not str:
            return False
    for key in _INT:
        if key in item and type(item[key]) is not int:
            return False
    for key in ("exists", "truncated"):
        if key in item and type(item[key]) is not bool:
            return False
    if "encoding" in item and item["encoding"] != "base64":
        return False
    if any(key in item and not item[key] for key in ("path", "cmd")):
        return False  # minLength 1
    if any(key in item and item[key] < 0 for key in ("uid", "gid", "size")):
        return False
    if "mode" in item and not _MODE.search(item["mode"]):
        return False
    return "sha256" not in item or bool(_SHA.search(item["sha256"]))
