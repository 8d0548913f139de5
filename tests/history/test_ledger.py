"""The findings history (SQLite): diff by query equals the JSON diff, trends, and failing since."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evidence.ward import copy_ward, kijun, scan, set_root_login

from scanner import history, ledger
from scanner.diff import diff, from_history
from scanner.results import Finding, HostResult, Run, Severity, Status


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """Scan the ward; fix koseki-ap-01's root login and break juki-ap-01's; scan again."""
    tmp = tmp_path_factory.mktemp("ledger")
    ward, out = copy_ward(tmp), tmp / "reports"
    first = scan(ward, out, "--format", "json")
    set_root_login(ward, "koseki-ap-01", "no")
    set_root_login(ward, "juki-ap-01", "yes")
    second = scan(ward, out, "--format", "json")
    return first, second, out


def test_every_run_is_recorded_and_the_query_diff_is_the_json_diff(two_runs: tuple[Path, Path, Path]) -> None:
    old, new = (history.load_run(p)[0] for p in two_runs[:2])
    assert not (two_runs[2] / ledger.DB).exists()  # made by the first query, with every run so far
    assert ledger.sync(two_runs[2]) == [old.run_id, new.run_id]
    with ledger.connect(two_runs[2]) as db:
        assert ledger.run_ids(db) == [old.run_id, new.run_id]
        rows = db.execute("SELECT COUNT(*) FROM findings").fetchone()[0]
        assert rows == len(old.findings) + len(new.findings)
        assert from_history(db, old.run_id, new.run_id).to_json() == diff(old, new).to_json()
        assert from_history(db, new.run_id, old.run_id).to_json() == diff(new, old).to_json()


def test_diff_fail_on_new_exits_1_only_when_something_is_new_or_regressed(
    two_runs: tuple[Path, Path, Path],
) -> None:
    first, second, out = two_runs
    result = kijun("diff", "--out", out, "--fail-on-new", "--json")
    assert result.exit_code == 1, result.output
    assert [c["host"] for c in json.loads(result.output)["regressed"]] == ["juki-ap-01"]
    assert kijun("diff", "--out", out, "--fail-on-new", first.name, first.name).exit_code == 0
    assert kijun("diff", "--out", out, first.name, second.name).exit_code == 0


def test_the_history_is_rebuilt_from_the_run_folders(
    two_runs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    import shutil

    out = Path(shutil.copytree(two_runs[2], tmp_path / "reports", symlinks=True))
    (out / ledger.DB).unlink()
    result = kijun("history", "sync", "--out", out)
    assert result.exit_code == 0 and result.output.startswith("2 runs added"), result.output
    trend = json.loads(kijun("history", "trend", "--out", out, "--json").output)
    assert [t["run_id"] for t in trend] == [two_runs[0].name, two_runs[1].name]
    assert [t["counts"]["fail"] for t in trend] == [12, 12]


def _run(run_id: str, day: str, statuses: dict[str, Status]) -> Run:
    hosts = tuple(HostResult(h, "lgwan", "server", "ssh", "assessed") for h in ("h1", "h2"))
    found = tuple(
        Finding(key.split("/")[0], key.split("/")[1], status, Severity.HIGH, "access_control", "題", "title")
        for key, status in statuses.items()
    )
    return Run(run_id, f"{day}T02:00:00+09:00", f"{day}T02:10:00+09:00", "scheduled", "0.1.0", "inv",
               "base", {}, Severity.LOW, hosts, found)  # fmt: skip


def test_failing_since_is_the_start_of_an_unbroken_streak(tmp_path: Path) -> None:
    days = [
        ("r1", "2026-09-01", Status.FAIL, Status.FAIL, Status.FAIL),
        ("r2", "2026-10-01", Status.FAIL, Status.PASS, Status.UNREACHABLE),
        ("r3", "2026-10-15", Status.FAIL, Status.FAIL, Status.FAIL),
        ("r4", "2026-12-07", Status.FAIL, Status.FAIL, Status.FAIL),
    ]
    with ledger.connect(tmp_path) as db:
        for run_id, day, a, b, c in days:
            ledger.add(db, _run(run_id, day, {"h1/ACC-01": a, "h1/ACC-02": b, "h2/ACC-01": c}), tmp_path)
        rows = {
            f"{r['host']}/{r['control']}": (r["since"], r["days"]) for r in ledger.failing_since(db, "r4")
        }
        assert rows == {
            "h1/ACC-01": ("2026-09-01", 97),  # failing in every run
            "h1/ACC-02": ("2026-10-15", 53),  # passed on 10-01
            "h2/ACC-01": (
                "2026-10-15",
                53,
            ),  # could not be assessed on 10-01: not a failure, the streak breaks
        }
        assert [r["since"] for r in ledger.failing_since(db, "r2")] == ["2026-09-01"]
        assert [t["counts"] for t in ledger.trend(db, ledger.scope_json(db, "r4"), last=2)] == [
            {"fail": 3},
            {"fail": 3},
        ]


def test_scan_baseline_fails_only_on_failures_the_baseline_did_not_have(
    two_runs: tuple[Path, Path, Path],
) -> None:
    first, second, out = two_runs
    ward = out.parent / "ward"  # as copy_ward made it, with the second run's changes
    args = ("scan", ward, "--out", out, "--format", "json", "--as-of", "2026-11-20", "--no-probe")
    against_first = kijun(*args, "--baseline", first.name)
    assert against_first.exit_code == 1, against_first.output
    assert "新規 new: juki-ap-01 ACC-04" in against_first.output
    assert "known failures 11, 新規 new 1" in against_first.output
    against_second = kijun(*args, "--baseline", str(second), "--quiet")
    assert against_second.exit_code == 0, against_second.output
    assert kijun(*args, "--baseline", "no-such-run").exit_code == 2
    with ledger.connect(out) as db:  # the history exists now: each scan adds its run as it is sealed
        assert ledger.run_ids(db)[-2:] == [against_first.output.split("report: ")[1].split("/")[-1].strip(),
                                           against_second.output.split("report: ")[1].split("/")[-1].strip()]  # fmt: skip
