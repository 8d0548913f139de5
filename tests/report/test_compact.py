"""The compact run folder: catalog once, findings.jsonl exact, the streamed scan equal to the in-memory one."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import scanner
from scanner import compact, content, stream
from scanner import run as runmod
from scanner.cli import main
from scanner.inventory import load
from scanner.policy import load_pack
from scanner.results import Run
from scanner.waivers import load_waivers

SCHEMAS = Path(scanner.__file__).parent / "schemas"
AS_OF = date(2026, 11, 20)


def _schema(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads((SCHEMAS / name).read_text("utf-8")))


@pytest.fixture(scope="module")
def ward() -> tuple[object, object, list[object]]:
    inv = load(content.example_inventory())
    pack = load_pack(inv.profile or "base")
    return inv, pack, load_waivers(inv.waivers_dir, pack)


@pytest.fixture(scope="module")
def in_memory(ward: tuple[object, object, list[object]]) -> Run:
    inv, pack, waivers = ward
    return runmod.scan(inv, pack, waivers, runmod.Options(today=AS_OF))[0]  # type: ignore[arg-type]


def _streamed(ward: tuple[object, object, list[object]], folder: Path, workers: int) -> Run:
    inv, pack, waivers = ward
    options = runmod.Options(today=AS_OF, workers=workers)
    return stream.scan(inv, pack, waivers, options, folder)[0]  # type: ignore[arg-type]


def test_a_run_round_trips_through_the_compact_folder(run: Run, tmp_path: Path) -> None:
    again = compact.load(compact.write(tmp_path, run).findings.path.parent / "results.json")  # type: ignore[attr-defined]
    assert [f.to_json() for f in again.findings] == [f.to_json() for f in run.findings]
    assert again.hosts == run.hosts and again.envelope == run.envelope and again.counts() == run.counts()
    assert again.failed() == run.failed() and again.incomplete() == run.incomplete()
    assert _schema("results-v3.schema.json").is_valid(json.loads((tmp_path / "results.json").read_bytes()))


def test_the_streamed_scan_gives_exactly_the_in_memory_findings(
    ward: tuple[object, object, list[object]], in_memory: Run, tmp_path: Path
) -> None:
    two = _streamed(ward, tmp_path / "two", 2)
    _streamed(ward, tmp_path / "one", 1)
    assert [f.to_json() for f in two.findings] == [f.to_json() for f in in_memory.findings]
    assert [replace(h, timings={}) for h in two.hosts] == [replace(h, timings={}) for h in in_memory.hosts]
    assert two.counts() == in_memory.counts() == {
        "pass": 773, "fail": 12, "error": 0, "unreachable": 0, "not_applicable": 509, "waived": 1, "manual": 61,
    }  # fmt: skip
    assert two.envelope["waivers"] == in_memory.envelope["waivers"]
    assert [f.key for f in two.failed()] == [f.key for f in in_memory.failed()]
    # Whatever order the workers finish in, the bytes written are the same.
    assert (tmp_path / "two" / "findings.jsonl").read_bytes() == (
        tmp_path / "one" / "findings.jsonl"
    ).read_bytes()
    evidence = sorted(p.name for p in (tmp_path / "two" / "evidence").iterdir())
    assert evidence == sorted(h.name + ".json" for h in in_memory.hosts if h.assessed)
    assert not (tmp_path / "two" / stream.SPOOL).exists()


def test_lines_refer_to_the_catalog_and_validate(
    ward: tuple[object, object, list[object]], tmp_path: Path
) -> None:
    run = _streamed(ward, tmp_path, 2)
    text = (tmp_path / "findings.jsonl").read_text("utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == len(run.findings) == 1356
    validator = _schema("finding-line.schema.json")
    assert [e.message for line in lines for e in validator.iter_errors(line)] == []
    # Titles, remediation and citations are in the catalog once, never repeated per finding.
    assert '"remediation"' not in text and '"citations"' not in text and '"title"' not in text
    catalog = compact.catalog_of_pack(ward[1])
    assert set(catalog.controls) >= {line["control"] for line in lines if line["host"] != "(organization)"}


def test_a_scan_without_a_terminal_prints_progress_lines(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "scan",
            "--out",
            str(tmp_path),
            "--format",
            "json",
            "--as-of",
            "2026-11-20",
            "--progress-every",
            "12",
        ],
    )
    assert result.exit_code == 1, result.output
    ticks = re.findall(
        r"^kijun: (\d+)/36 hosts \(.*\), .* hosts/s, ETA \d+m\d\ds", result.output, re.MULTILINE
    )
    # A line every 12 hosts; a loaded machine may add lines on the 10-second clock between them.
    assert [t for t in ticks if int(t) % 12 == 0] == ["12", "24", "36"]
    assert ticks == sorted(ticks, key=int)
    assert (tmp_path / "latest" / "findings.jsonl").is_file()
