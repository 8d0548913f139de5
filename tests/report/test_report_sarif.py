"""SARIF: one result per failing or erroring check, levels from severity, waivers as suppressions."""

from __future__ import annotations

import json

from scanner.report import sarif
from scanner.results import Run, Status


def test_sarif_has_one_result_per_failing_check(run: Run) -> None:
    doc = json.loads(sarif.render(run))
    assert doc["version"] == "2.1.0"
    (sarif_run,) = doc["runs"]
    expected = [
        (f.host, c.check_id)
        for f in run.findings
        if f.status in (Status.FAIL, Status.ERROR, Status.WAIVED)
        for c in f.checks
        if c.status in (Status.FAIL, Status.ERROR)
    ]
    got = [(r["properties"]["host"], r["ruleId"]) for r in sarif_run["results"]]
    assert got == expected and got
    rule_ids = {r["id"] for r in sarif_run["tool"]["driver"]["rules"]}
    assert {rule for _, rule in got} == rule_ids


def test_sarif_levels_and_suppressions(run: Run) -> None:
    results = json.loads(sarif.render(run))["runs"][0]["results"]
    assert {r["level"] for r in results} <= {"error", "warning", "note"}
    waived = [r for r in results if "suppressions" in r]
    assert len(waived) == sum(
        1
        for f in run.findings
        if f.status is Status.WAIVED
        for c in f.checks
        if c.status in (Status.FAIL, Status.ERROR)
    )
    for r in results:
        for loc in r["locations"]:
            assert loc["logicalLocations"][0]["name"] == r["properties"]["host"]
