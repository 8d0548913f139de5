"""The fast raw-facts check never accepts what rawfacts.schema.json rejects, and accepts real snapshots."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scanner.collect import rawcheck
from scanner.yamlsrc import schema

SNAPSHOTS = sorted(
    (Path(__file__).resolve().parents[2] / "inventories" / "example-ward" / "snapshots").glob("*.json")
)
VALIDATOR = jsonschema.Draft202012Validator(schema("rawfacts"))
ODD = [None, "", "x", -1, 0, 7, 1.0, True, False, [], {}, "0644", "a" * 64, "base64"]


@pytest.mark.parametrize("path", SNAPSHOTS, ids=lambda p: p.stem)
def test_every_example_snapshot_is_accepted_by_both(path: Path) -> None:
    doc = json.loads(path.read_text("utf-8"))
    assert VALIDATOR.is_valid(doc) and rawcheck.valid(doc)


def _small() -> dict[str, Any]:
    """A document with one item of each kind, from a real snapshot."""
    doc = json.loads(SNAPSHOTS[0].read_text("utf-8"))
    kinds: dict[str, tuple[str, Any]] = {}
    for key, item in doc["items"].items():
        kinds.setdefault(item["kind"], (key, item))
    return {**doc, "items": dict(kinds.values())}


def _mutations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key in list(doc):
        for value in ODD:
            out.append({**doc, key: value})
        out.append({k: v for k, v in doc.items() if k != key})
    out.append({**doc, "extra": "x"})
    for key in [*doc["collector"], "extra"]:
        for value in ODD:
            out.append({**doc, "collector": {**doc["collector"], key: value}})
    out.append({**doc, "items": {"bogus:x": next(iter(doc["items"].values()))}})
    for item_id, item in doc["items"].items():
        for key in sorted(rawcheck._KEYS | {"unknown"}):
            for value in ODD:
                changed = copy.deepcopy(doc)
                changed["items"][item_id][key] = value
                out.append(changed)
            if key in item:
                changed = copy.deepcopy(doc)
                del changed["items"][item_id][key]
                out.append(changed)
    return out


def test_the_fast_check_never_accepts_what_the_schema_rejects() -> None:
    mutated = _mutations(_small())
    accepted = [m for m in mutated if rawcheck.valid(m)]
    wrong = [m for m in accepted if not VALIDATOR.is_valid(m)]
    assert wrong == []
    assert len(accepted) > 20  # and it is not a check that rejects everything
    assert len(mutated) - len(accepted) > 500
