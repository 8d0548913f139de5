"""The one-walk snapshot reader gives exactly what the careful path gives, or leaves it to that path.

``rawcheck.build`` must never accept what rawfacts.schema.json, the id check or the host check of
snapshot.load reject; where it accepts, its RawFacts must equal the careful path's (built here with
the dataclass constructor, as Item.from_json once did) and its kept evidence form must serialise
to the same bytes as ``to_json()``.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scanner.collect import rawcheck, snapshot
from scanner.errors import LoadError
from scanner.evidence import raw_bytes
from scanner.rawfacts import Item, RawFacts
from scanner.yamlsrc import schema
from tests.collect.test_rawcheck import SNAPSHOTS, _mutations, _small

FIELDS = {f.name for f in dataclasses.fields(Item)}
VALIDATOR = jsonschema.Draft202012Validator(schema("rawfacts"))


def _reference_item(item_id: str, obj: dict[str, Any]) -> Item:
    """Item.from_json as it was: the dataclass constructor, field by field."""
    raw = obj.get("content", obj.get("stdout", ""))
    data = base64.b64decode(raw) if obj.get("encoding") == "base64" else str(raw).encode("utf-8")
    exists = obj.get("exists", True)
    return Item(
        id=item_id,
        kind=obj["kind"],
        exists=exists,
        path=obj.get("path"),
        cmd=obj.get("cmd"),
        rc=obj.get("rc"),
        data=data,
        mode=obj.get("mode"),
        uid=obj.get("uid"),
        gid=obj.get("gid"),
        mtime=obj.get("mtime"),
        size=obj.get("size"),
        sha256=obj.get("sha256")
        or (hashlib.sha256(data).hexdigest() if exists and obj["kind"] != "stat" else None),
        truncated=obj.get("truncated", False),
        stderr=obj.get("stderr", ""),
        redacted=obj.get("redacted", 0),
    )


def _careful(doc: Any, host: str | None) -> RawFacts | None:
    """What snapshot.load accepts, checked the slow way (None: it raises a LoadError)."""
    if not VALIDATOR.is_valid(doc):
        return None
    for item_id, obj in doc["items"].items():
        kind, _, name = item_id.partition(":")
        if kind != obj["kind"] or name != (obj.get("path") if kind != "probe" else name):
            return None
    if host is not None and doc["host"] != host:
        return None
    try:
        items = {k: _reference_item(k, v) for k, v in doc["items"].items()}
    except ValueError:
        return None
    return RawFacts(doc["host"], doc["collected_at"], dict(doc["collector"]), items)


def _variants(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Valid and invalid items the evidence form must get right: defaults, base64, odd ids, text."""
    out = []
    text = "PermitRootLogin no\n"
    for item_id, item in doc["items"].items():
        key = "stdout" if item["kind"] == "probe" else "content"
        changes: list[dict[str, Any]] = [
            {"exists": None},
            {"sha256": None},
            {"truncated": False},
            {"truncated": True},
            {"stderr": ""},
            {"stderr": "warn"},
            {"redacted": 2},
            {key: base64.b64encode(text.encode()).decode(), "encoding": "base64"},
            {key: base64.b64encode(b"\xff\xfe").decode(), "encoding": "base64"},
            {key: "not base64!", "encoding": "base64"},
            {key: "\ud800"},
            {key: "日本語\u0000\n"},
            {key: None},
            {"exists": False},
            {"exists": False, key: None},
            {"exists": False, "sha256": None},
            {"mode": "0644\n"},
            {"mode": "777"},
            {"mode": "7777"},
            {"mode": "07777"},
            {"mode": "0648"},
            {"mode": "64"},
            {"mode": "\uff10\uff16\uff14\uff14"},  # full-width digits: not [0-7]
            {"uid": -1},
            {"size": -1},
            {"redacted": 0},
            {"sha256": "a" * 64 + "\n"},
            {"uid": 1.0},
        ]
        for change in changes:
            changed = copy.deepcopy(doc)
            target = changed["items"][item_id]
            for name, value in change.items():
                if value is None:
                    target.pop(name, None)
                else:
                    target[name] = value
            out.append(changed)
        for new_id in (item_id + "\n", item_id.upper(), "probe:" + item_id, item_id.partition(":")[2]):
            changed = copy.deepcopy(doc)
            changed["items"][new_id] = changed["items"].pop(item_id)
            out.append(changed)
    return out


def _check(doc: Any, host: str | None) -> bool:
    fast, slow = rawcheck.build(doc, host), _careful(doc, host)
    if fast is None:
        return False
    assert slow is not None, "the one walk accepted what the careful path rejects"
    assert fast == slow and fast.items == slow.items
    assert all(vars(i).keys() == FIELDS for i in fast.items.values())  # nothing more is kept
    assert raw_bytes(fast) == raw_bytes(dataclasses.replace(fast))  # the kept form == to_json()
    return True


def test_build_agrees_with_the_careful_path_over_mutations() -> None:
    small = _small()
    docs = _mutations(small) + _variants(small)
    accepted = sum(_check(doc, None) for doc in docs)
    assert accepted > 100 and len(docs) - accepted > 500  # neither all taken nor all left
    assert _check(small, small["host"]) and not _check(small, small["host"] + "x")


@pytest.mark.parametrize("path", SNAPSHOTS, ids=lambda p: p.stem)
def test_every_example_snapshot_is_read_in_one_walk(path: Path) -> None:
    doc = json.loads(path.read_text("utf-8"))
    assert _check(doc, path.stem)
    raw = snapshot.load(path, path.stem)
    assert raw._form is not None  # the evidence form was kept: raw_bytes only encodes


def test_a_changed_copy_does_not_keep_the_read_form(tmp_path: Path) -> None:
    """Redaction (netdev) replaces items: its evidence must be of the new items, not the file's."""
    raw = snapshot.load(SNAPSHOTS[0], SNAPSHOTS[0].stem)
    item_id = next(k for k, v in raw.items.items() if v.data)
    blank = {**raw.items, item_id: dataclasses.replace(raw.items[item_id], data=b"REDACTED\n")}
    changed = dataclasses.replace(raw, items=blank)
    assert changed._form is None
    stored = json.loads(raw_bytes(changed))["items"][item_id]
    assert stored.get("content", stored.get("stdout")) == "REDACTED\n"


def test_the_careful_path_still_names_the_line(tmp_path: Path) -> None:
    doc = json.loads(SNAPSHOTS[0].read_text("utf-8"))
    item_id = next(k for k, v in doc["items"].items() if v["kind"] == "file" and "content" in v)
    doc["items"][item_id]["content"] = "x\ud800"
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc, indent=1), "utf-8")
    with pytest.raises(LoadError, match="bad base64 content"):
        snapshot.load(path, doc["host"])
    doc["items"][item_id]["content"] = 7
    path.write_text(json.dumps(doc, indent=1), "utf-8")
    line = next(i for i, t in enumerate(path.read_text("utf-8").split("\n"), 1) if '"content": 7' in t)
    with pytest.raises(LoadError, match=rf"^{path}:{line}: "):
        snapshot.load(path, doc["host"])
