"""The run history: listing, previous run of the same scope, lookup by id, and a failed write leaving nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from evidence.ward import EXAMPLE, scan

from scanner import history
from scanner.results import Run


def test_runs_are_listed_oldest_first_and_looked_up_by_id(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    made = [scan(EXAMPLE, out, "--format", "json", "--limit", "zone=dc") for _ in range(3)]
    assert history.runs(out) == made  # same second, random ids: ordered by when they were written
    run, folder = history.load_run(made[1].name, out)
    assert (run.run_id, folder) == (made[1].name, made[1])
    assert history.load_run("latest", out)[0].run_id == made[2].name
    assert history.load_run(made[0] / "results.json")[0].run_id == made[0].name
    assert history.previous(out, history.load_run(made[2])[0]) == made[1]
    with pytest.raises(ValueError, match="no such run"):
        history.load_run("20990101T000000-000000", out)


def test_a_failure_while_writing_leaves_no_run_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    first = scan(EXAMPLE, out, "--format", "json", "--limit", "zone=dc")
    run, _ = history.load_run(first)
    other = Run(**{**run.__dict__, "run_id": run.run_id + "x"})

    def broken(_: Run) -> dict[str, str | bytes]:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        history.write_run(out, other, {}, broken)
    assert sorted(p.name for p in out.iterdir()) == sorted([first.name, "latest"])
    assert (out / "latest").resolve() == first.resolve()


def test_an_existing_run_is_never_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    first = scan(EXAMPLE, out, "--format", "json", "--limit", "zone=dc")
    run, _ = history.load_run(first)
    with pytest.raises(FileExistsError):
        history.write_run(out, run, {}, lambda r: {})


def test_an_evidence_file_name_cannot_leave_the_run_folder(tmp_path: Path) -> None:
    first = scan(EXAMPLE, tmp_path / "reports", "--format", "json", "--limit", "zone=dc")
    run, _ = history.load_run(first)
    other = Run(**{**run.__dict__, "run_id": run.run_id + "y"})
    with pytest.raises(ValueError, match="cannot name an evidence file"):
        history.write_run(tmp_path / "reports", other, {"../../etc/passwd": b"x"}, lambda r: {})
    assert not list((tmp_path / "reports").glob(".tmp-*"))
