"""kijun diff: two example-ward runs, one fix and one regression, compared exactly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from evidence.ward import copy_ward, kijun, scan, set_root_login

from scanner import history
from scanner.diff import diff
from scanner.results import Status


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """Scan the ward; fix koseki-ap-01's root login and break juki-ap-01's; scan again."""
    tmp = tmp_path_factory.mktemp("diff")
    ward, out = copy_ward(tmp), tmp / "reports"
    first = scan(ward, out)
    set_root_login(ward, "koseki-ap-01", "no")
    set_root_login(ward, "juki-ap-01", "yes")
    second = scan(ward, out)
    return first, second, out


def keys(changes: list) -> list[str]:  # type: ignore[type-arg]
    return [f"{c.host}/{c.control}" for c in changes]


def test_one_fix_and_one_regression_exactly(two_runs: tuple[Path, Path, Path]) -> None:
    old, new = (history.load_run(p)[0] for p in two_runs[:2])
    d = diff(old, new)
    assert keys(d.fixed) == ["koseki-ap-01/ACC-04"]
    assert keys(d.regressed) == ["juki-ap-01/ACC-04"]
    assert (d.new, d.changed) == ([], [])
    failing_before = sorted(f.key for f in old.findings if f.status is Status.FAIL)
    assert keys(d.persisting) == [k for k in failing_before if k != "koseki-ap-01/ACC-04"]
    assert [(c.old, c.new) for c in d.fixed + d.regressed] == [("fail", "pass"), ("pass", "fail")]
    assert d.coverage["old"] == d.coverage["new"]
    assert (d.coverage["hosts_added"], d.coverage["hosts_removed"], d.coverage["hosts_status_changed"]) == (
        [],
        [],
        [],
    )


def test_kijun_diff_defaults_to_latest_and_its_previous_run(two_runs: tuple[Path, Path, Path]) -> None:
    result = kijun("diff", "--out", two_runs[2], "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert (doc["old_run"], doc["new_run"]) == (two_runs[0].name, two_runs[1].name)
    assert [c["host"] for c in doc["fixed"]] == ["koseki-ap-01"]
    text = kijun("diff", two_runs[0], two_runs[1]).output
    assert "是正された不適合 fixed: 1" in text and "再発・悪化した不適合 regressed: 1" in text
    assert "koseki-ap-01 ACC-04 [high] fail → pass" in text


def test_the_html_report_shows_the_diff_against_the_previous_run(two_runs: tuple[Path, Path, Path]) -> None:
    html = (two_runs[1] / "report.html").read_text("utf-8")
    section = html[html.index('id="diff"') : html.index('id="waivers"')]
    assert two_runs[0].name in section
    assert "koseki-ap-01" in section and "juki-ap-01" in section
    first = (two_runs[0] / "report.html").read_text("utf-8")
    assert "比較できる前回の実行はありません" in first
    trend = html[html.index('id="trend"') : html.index("</svg>", html.index('id="trend"'))]
    assert trend.count("<circle") == 2 and two_runs[0].name in trend  # the dashboard's trend over both runs


def test_open_since_is_carried_forward_and_reset(two_runs: tuple[Path, Path, Path]) -> None:
    old, new = (history.load_run(p)[0] for p in two_runs[:2])
    assert new.envelope["open_since"]["gw-01/NET-03"] == old.started_at[:10]
    assert new.envelope["open_since"]["juki-ap-01/ACC-04"] == new.started_at[:10]
    assert "koseki-ap-01/ACC-04" not in new.envelope["open_since"]


def test_a_run_of_another_scope_is_not_the_previous_run(
    two_runs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    out = Path(shutil.copytree(two_runs[2], tmp_path / "reports", symlinks=True))
    zone = scan(copy_ward(tmp_path), out, "--limit", "zone=dc", "--format", "json")
    run = history.load_run(zone)[0]
    assert run.envelope["previous_run"] == {}  # a different inventory copy and selection
    result = kijun("diff", "--out", out)
    assert result.exit_code == 2
    assert "no earlier run of the same scope" in result.output


def test_a_finding_that_disappears_or_is_waived_is_not_fixed() -> None:
    from dataclasses import replace

    from scanner.results import Finding, HostResult, Run, Severity

    host = HostResult("h1", "lgwan", "server", "snapshot", "assessed")

    def run(run_id: str, *findings: Finding) -> Run:
        return Run(run_id, "2026-11-20T02:00:00+09:00", "2026-11-20T02:00:01+09:00", "scheduled", "0.1.0", "i",
                   "base", {}, Severity.LOW, (host,), findings)  # fmt: skip

    fail = Finding("h1", "ACC-04", Status.FAIL, Severity.HIGH, "access_control", "t", "t")
    other = replace(fail, control_id="ACC-05")
    d = diff(run("a", fail, other), run("b", replace(fail, status=Status.WAIVED)))
    assert d.fixed == [] and keys(d.changed) == ["h1/ACC-04", "h1/ACC-05"]
    assert [(c.old, c.new) for c in d.changed] == [("fail", "waived"), ("fail", "")]
    d = diff(run("a", replace(fail, status=Status.ERROR)), run("b", fail))
    assert keys(d.new) == ["h1/ACC-04"] and d.regressed == []


def test_the_failing_keys_read_cheaply_are_the_tallys(two_runs: tuple[Path, Path, Path]) -> None:
    """What the next run reads of this one (compact.failing) is exactly the failures the tally builds."""
    from scanner import compact

    for folder in two_runs[:2]:
        cheap = compact.failing(history.load_run(folder)[0])
        full = history.load_run(folder)[0]
        assert cheap == frozenset(f.key for f in full.tally.fails)
        assert cheap == frozenset(f.key for f in full.findings if f.status is Status.FAIL)
        assert "juki-ap-01/ACC-04" in cheap or "koseki-ap-01/ACC-04" in cheap


def test_a_diff_against_the_old_side_only_is_the_full_diff(two_runs: tuple[Path, Path, Path]) -> None:
    """What a report diffs (the findings that fail or failed) against the previous run's narrowed side."""
    import dataclasses

    from scanner.diff import old_side

    old, new = (history.load_run(p)[0] for p in two_runs[:2])
    before = frozenset(f.key for f in old.findings if f.status is Status.FAIL)
    changed = tuple(f for f in new.findings if f.status is Status.FAIL or f.key in before)
    reduced = dataclasses.replace(new, findings=changed)
    narrowed = old_side(old, reduced)
    assert len(narrowed.findings) < len(tuple(old.findings)) / 10
    assert diff(narrowed, reduced) == diff(old, reduced)
    assert diff(old_side(old, new), new) == diff(old, new)


def test_the_dashboard_reads_of_the_previous_run_only_what_its_diff_needs(
    two_runs: tuple[Path, Path, Path],
) -> None:
    """report.html against a previous run read lazily is the one against that run held whole."""
    import dataclasses

    from scanner.report import html

    old, new = (history.load_run(p)[0] for p in two_runs[:2])
    whole = dataclasses.replace(old, findings=tuple(old.findings))
    page = html.render(new, previous=old)
    assert page == html.render(new, previous=whole)
    assert "koseki-ap-01" in page and "juki-ap-01" in page
