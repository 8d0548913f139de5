"""The canonical results JSON: schema validity, exactness of the schema, and the round trip."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import scanner
from scanner.report import json as json_report
from scanner.results import CheckResult, Finding, HostResult, Run, Severity, Status, WaiverRef

SCHEMA = json.loads((Path(scanner.__file__).parent / "schemas" / "results.schema.json").read_text("utf-8"))


def _errors(doc: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    return [e.message for e in validator.iter_errors(doc)]


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_rendered_run_validates(run: Run) -> None:
    doc = json.loads(json_report.render(run))
    assert _errors(doc) == []
    assert doc["coverage"] == {"in_scope": 5, "assessed": 3, "ratio": 0.6}
    assert doc["counts"]["fail"] == 4


def test_japanese_is_kept_readable(run: Run) -> None:
    text = json_report.render(run)
    assert "文京区" in text
    assert "\\u6587" not in text


def test_round_trip(run: Run) -> None:
    again = Run.from_json(json.loads(json_report.render(run)))
    assert again == run
    assert json_report.render(again) == json_report.render(run)


def test_empty_run_validates_and_round_trips(run: Run) -> None:
    empty = dataclasses.replace(run, hosts=(), findings=(), envelope={})
    doc = empty.to_json()
    assert _errors(doc) == []
    assert Run.from_json(doc) == empty


@pytest.mark.parametrize(
    ("where", "change"),
    [
        ("status", lambda d: d["findings"][0].update(status="ok")),
        ("severity", lambda d: d["findings"][0].update(severity="urgent")),
        ("extra key", lambda d: d["findings"][0].update(colour="red")),
        ("missing key", lambda d: d["hosts"][0].pop("zone")),
        ("host status", lambda d: d["hosts"][0].update(status="maybe")),
        ("waiver shape", lambda d: d["findings"][2]["waiver"].pop("expires")),
        ("check title", lambda d: d["findings"][1]["checks"][0].update(title="x")),
        ("schema id", lambda d: d.update(schema="kijun/results/v0")),
        ("coverage ratio", lambda d: d["coverage"].update(ratio=1.5)),
    ],
)
def test_schema_rejects_bad_documents(run: Run, where: str, change: Any) -> None:
    doc = copy.deepcopy(run.to_json())
    change(doc)
    assert _errors(doc), where


@pytest.mark.parametrize(
    ("definition", "sample"),
    [
        ("finding", Finding("h", "C-1", Status.PASS, Severity.LOW, "logging", "t", "t").to_json()),
        ("check", CheckResult("c", Status.PASS).to_json()),
        ("host", HostResult("h", "z", "r", "ssh", "assessed").to_json()),
        ("waiver", WaiverRef("W-1", True).to_json()),
    ],
)
def test_schema_lists_exactly_the_keys_of_to_json(definition: str, sample: dict[str, Any]) -> None:
    schema = SCHEMA["$defs"][definition]
    assert set(schema["required"]) == set(sample) == set(schema["properties"])
    assert schema["additionalProperties"] is False


def test_schema_lists_exactly_the_run_keys(run: Run) -> None:
    assert set(SCHEMA["required"]) == set(run.to_json()) == set(SCHEMA["properties"])


def test_from_json_refuses_other_documents(run: Run) -> None:
    doc = run.to_json()
    doc["schema"] = "something/else"
    with pytest.raises(ValueError, match="not a kijun results document"):
        Run.from_json(doc)
