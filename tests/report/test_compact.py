"""The compact run folder: catalog once, findings.jsonl exact, the streamed scan equal to the in-memory one."""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

import scanner
from scanner import compact, content, evidence, findinglines, stream
from scanner import run as runmod
from scanner.cli import main
from scanner.errors import LoadError
from scanner.inventory import load
from scanner.policy import load_pack
from scanner.results import Finding, Run, Status
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


def _scan_json(out: Path, *more: str) -> Any:
    """Run ``kijun scan`` of the example ward into ``out``, json only, as of the fixed date."""
    return CliRunner().invoke(
        main, ["scan", "--out", str(out), "--format", "json", "--as-of", "2026-11-20", *more]
    )


def test_a_scan_without_a_terminal_prints_progress_lines(tmp_path: Path) -> None:
    result = _scan_json(tmp_path, "--progress-every", "12")
    assert result.exit_code == 1, result.output
    ticks = re.findall(
        r"^kijun: (\d+)/36 hosts \(.*\), .* hosts/s, ETA \d+m\d\ds", result.output, re.MULTILINE
    )
    # A line every 12 hosts; a loaded machine may add lines on the 10-second clock between them.
    assert [t for t in ticks if int(t) % 12 == 0] == ["12", "24", "36"]
    assert ticks == sorted(ticks, key=int)
    assert (tmp_path / "latest" / "findings.jsonl").is_file()


def _line_pairs(run: Run, catalog: compact.Catalog) -> list[tuple[bytes, bytes]]:
    """Return each finding's line from the Encoder and from ``encode`` over its ``to_json()``."""
    hosts = {h.name: compact.host_base(h) for h in run.hosts}
    encoder, pairs, host, seen = compact.Encoder(catalog, hosts), [], None, compact.Evidence()
    for f in run.findings:
        if f.host != host:
            host, seen = f.host, compact.Evidence(catalog.items)
        pairs.append(
            (
                encoder.line(f),
                findinglines.dump_line(
                    findinglines.encode(f.to_json(), catalog, hosts.get(f.host, {}), seen)
                ),
            )
        )
    return pairs


def test_the_encoder_writes_what_encode_gives_and_decodes_back(
    ward: tuple[object, object, list[object]], in_memory: Run
) -> None:
    odd = next(f for f in in_memory.findings if f.checks and f.checks[0].evidence)
    changed = replace(
        odd,
        zone="elsewhere",
        message="said otherwise",
        title_en="another title",
        checks=(replace(odd.checks[0], check_id="not-in-the-catalog", status=Status.ERROR),),
        params={"x": 1},
    )
    run = replace(in_memory, findings=(*in_memory.findings, changed))
    catalogs = [compact.catalog_of_pack(ward[1]), compact.catalog_of(run.findings), compact.Catalog()]
    for catalog in reversed(catalogs):  # the pack's catalog last: ``pairs`` are its lines
        pairs = _line_pairs(run, catalog)
        assert [a for a, _ in pairs] == [b for _, b in pairs]
    hosts = {h.name: compact.host_base(h) for h in run.hosts}
    catalog, host, seen = catalogs[0], None, compact.Evidence()
    for f, (line, _) in zip(run.findings, _line_pairs(run, catalogs[0]), strict=True):
        if f.host != host:
            host, seen = f.host, compact.Evidence(catalog.items)
        assert Finding.from_json(compact.decode(json.loads(line), catalog, hosts.get(f.host, {}), seen)) == f
    assert (
        '"zone":"elsewhere"' in pairs[-1][0].decode()
        and '"check":"not-in-the-catalog"' in pairs[-1][0].decode()
    )
    # The catalog's items are numbers on every host's lines: a line names none of them in full.
    lists = [
        c["evidence"] for line, _ in pairs for c in json.loads(line).get("checks", []) if "evidence" in c
    ]
    named = {i for e in lists if isinstance(e, list) for i in e if isinstance(i, str)}
    assert named and any(isinstance(e, list) and any(isinstance(i, int) for i in e) for e in lists)
    assert "file:/etc/login.defs" in catalogs[0].items and not named & set(catalogs[0].items)


def test_a_run_folder_names_its_envelope_and_keeps_hosts_short(tmp_path: Path) -> None:
    result = _scan_json(tmp_path, "--no-probe", "--quiet")
    assert result.exit_code == 1, result.output
    folder = tmp_path / "latest"
    doc = json.loads((folder / "results.json").read_bytes())
    assert doc["schema"] == "kijun/results/v3" and doc["envelope"] == {"file": "envelope.json"}
    assert _schema("results-v3.schema.json").is_valid(doc)
    assert all(
        "evidence_file" not in h and "message" not in h for h in doc["hosts"] if h["status"] == "assessed"
    )
    text = (folder / "results.json").read_text("utf-8")
    assert all(f'{{"name":"{h["name"]}",' in text for h in doc["hosts"])  # a host per line
    run = compact.load(folder / "results.json")
    envelope = json.loads((folder / "envelope.json").read_bytes())
    assert run.envelope == {k: v for k, v in envelope.items() if k not in run.head() and k != "schema"}
    assert run.envelope["scope"]["hosts_in_scope"] and all(
        h.evidence_file == f"evidence/{h.name}.json" for h in run.hosts
    )
    assert evidence.verify(folder).ok
    (folder / "envelope.json").unlink()
    with pytest.raises(LoadError):
        compact.load(folder / "results.json")


def _as_version_2(folder: Path, target: Path) -> None:
    """Write a run folder as results.json v2 was: the envelope inside, every host field, no catalog items."""
    run = compact.load(folder / "results.json")
    catalog = compact.Catalog(run.findings.catalog.controls, run.findings.catalog.checks)  # type: ignore[attr-defined]
    hosts = {h.name: compact.host_base(h) for h in run.hosts}
    target.mkdir()
    with (target / "findings.jsonl").open("wb") as handle:
        count = compact.write_lines(handle, run.findings, catalog, hosts)
    doc = compact.summary_json(run, catalog, count)
    doc.update(schema="kijun/results/v2", hosts=[h.to_json() for h in run.hosts])
    (target / "results.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1), "utf-8")
    assert _schema("results-v2.schema.json").is_valid(doc)


def test_version_2_results_still_read_report_and_diff(tmp_path: Path) -> None:
    runner = CliRunner()
    assert _scan_json(tmp_path / "r", "--no-probe", "--quiet").exit_code == 1
    new = (tmp_path / "r" / "latest").resolve()
    _as_version_2(new, tmp_path / "old")
    old, again = compact.load(tmp_path / "old" / "results.json"), compact.load(new / "results.json")
    assert b'"file:/etc/login.defs"' in (tmp_path / "old" / "findings.jsonl").read_bytes()
    assert [f.to_json() for f in old.findings] == [f.to_json() for f in again.findings]
    assert old.hosts == again.hosts and old.envelope == again.envelope and old.counts() == again.counts()
    diff = runner.invoke(main, ["diff", str(tmp_path / "old" / "results.json"), str(new)])
    assert diff.exit_code == 0 and "other status changes: 0" in diff.output, diff.output
    report = runner.invoke(
        main,
        ["report", str(tmp_path / "old" / "results.json"), "--out", str(tmp_path / "x"), "--format", "csv"],
    )
    assert report.exit_code in (0, 1), report.output
    assert any((tmp_path / "x").rglob("*.csv"))


class _Watched:
    """A pool that runs each job on a thread and notes how many were handed to it and not yet done."""

    def __init__(self) -> None:
        self.threads = ThreadPoolExecutor(2)
        self.lock = threading.Lock()
        self.pending = self.most = 0

    def submit(self, fn: Any, *args: Any) -> Any:
        with self.lock:
            self.pending += 1
            self.most = max(self.most, self.pending)
        future = self.threads.submit(fn, *args)
        future.add_done_callback(lambda _f: self._done())
        return future

    def _done(self) -> None:
        with self.lock:
            self.pending -= 1

    def __enter__(self) -> _Watched:
        return self

    def __exit__(self, *exc: object) -> None:
        self.threads.shutdown()


def test_snapshot_hosts_go_to_the_pool_a_few_at_a_time(
    ward: tuple[object, object, list[object]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = _Watched()
    monkeypatch.setattr(stream, "_start", lambda workers: pool)
    run = _streamed(ward, tmp_path / "watched", 1)
    assert pool.most <= 4 < len(run.hosts) == 36  # one worker: four hosts in flight at most, not all 36
    monkeypatch.undo()
    _streamed(ward, tmp_path / "forked", 2)
    watched, forked = (tmp_path / "watched" / "findings.jsonl"), (tmp_path / "forked" / "findings.jsonl")
    assert watched.read_bytes() == forked.read_bytes()


def test_workers_started_fresh_give_the_same_bytes(
    ward: tuple[object, object, list[object]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _streamed(ward, tmp_path / "forked", 2)
    monkeypatch.setattr(stream, "FRESH_FROM", 0)  # as for a large inventory: no worker maps the scan's heap
    run = _streamed(ward, tmp_path / "fresh", 2)
    assert run.counts()["fail"] == 12
    forked, fresh = (tmp_path / "forked" / "findings.jsonl"), (tmp_path / "fresh" / "findings.jsonl")
    assert fresh.read_bytes() == forked.read_bytes()
