"""SARIF for code scanning: schema-valid, the deciding line first, uris under --root, stable fingerprints.

The schema fixture is the OASIS SARIF 2.1.0 JSON schema (fixtures/README.md says where it comes from).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.report import sarif
from scanner.results import Run, Status

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "sarif-schema-2.1.0.json").read_text("utf-8"))


def _valid(doc: dict[str, Any]) -> None:
    errors = sorted(jsonschema.Draft7Validator(SCHEMA).iter_errors(doc), key=str)
    assert [f"{list(e.absolute_path)}: {e.message}" for e in errors] == []


def test_schema_fixture_is_a_real_check() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "2.1.0", "runs": [{"results": []}]}, SCHEMA)  # no tool


def test_valid_and_one_result_per_failing_check(run: Run) -> None:
    doc = json.loads(sarif.render(run))
    _valid(doc)
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
    assert {rule for _, rule in got} == {r["id"] for r in sarif_run["tool"]["driver"]["rules"]}


def test_kind_matches_the_status(run: Run) -> None:
    results = json.loads(sarif.render(run))["runs"][0]["results"]
    by_rule = {r["ruleId"]: r for r in results}
    assert (by_rule["usb-storage-blocked"]["kind"], by_rule["usb-storage-blocked"]["level"]) == (
        "fail",
        "error",
    )
    assert (by_rule["nft-input-policy-drop"]["kind"], by_rule["nft-input-policy-drop"]["level"]) == (
        "fail",
        "note",
    )
    assert (by_rule["auditd-rules-auth"]["kind"], by_rule["auditd-rules-auth"]["level"]) == ("open", "none")
    waived = by_rule["backup-offsite-fresh"]
    assert waived["kind"] == "fail"
    assert waived["suppressions"][0]["justification"].startswith("例外措置 EXC-2025-004")


def test_invocation_names_each_host_not_assessed(run: Run) -> None:
    (invocation,) = json.loads(sarif.render(run))["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    hosts = [n["properties"]["host"] for n in invocation["toolExecutionNotifications"]]
    assert hosts == ["in-proxy-01", "lg-term-09"]
    assert invocation["startTimeUtc"] == "2025-06-02T00:00:00Z"


def test_all_unreachable_does_not_look_clean(run: Run) -> None:
    down = tuple(dataclasses.replace(h, status="unreachable", message="timeout") for h in run.hosts)
    doc = json.loads(sarif.render(dataclasses.replace(run, hosts=down, findings=())))
    _valid(doc)
    (invocation,) = doc["runs"][0]["invocations"]
    assert doc["runs"][0]["results"] == []
    assert invocation["executionSuccessful"] is False
    assert len(invocation["toolExecutionNotifications"]) == len(run.hosts)
    clean = json.loads(sarif.render(dataclasses.replace(run, hosts=run.hosts[:1], findings=())))
    assert clean["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_fingerprints_stable_and_distinct(run: Run) -> None:
    first = [r["partialFingerprints"] for r in json.loads(sarif.render(run))["runs"][0]["results"]]
    again = [r["partialFingerprints"] for r in json.loads(sarif.render(run))["runs"][0]["results"]]
    assert first == again
    assert len({f["kijunFinding/v1"] for f in first}) == len(first)


def test_deciding_line_first_with_start_line(run: Run) -> None:
    """A drop-in that sets the failing value is the first location, not the main file."""
    finding = run.findings[1]  # LOG-02, evidence lists logrotate.conf first
    check = dataclasses.replace(finding.checks[0], origin={"file": "/etc/logrotate.d/rsyslog", "line": 7})
    finding = dataclasses.replace(finding, checks=(check,))
    doc = json.loads(sarif.render(dataclasses.replace(run, findings=(finding,))))
    _valid(doc)
    (result,) = doc["runs"][0]["results"]
    first, second = (loc["physicalLocation"] for loc in result["locations"])
    assert first == {
        "artifactLocation": {"uri": "etc/logrotate.d/rsyslog", "uriBaseId": "HOSTROOT"},
        "region": {"startLine": 7},
    }
    assert second["artifactLocation"]["uri"] == "etc/logrotate.conf" and "region" not in second
    assert "set in /etc/logrotate.d/rsyslog:7" in result["message"]["text"]


def test_root_scan_points_at_the_deciding_line_in_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end: `kijun scan --root hosts/web01` with a drop-in that wins over the main file.

    The first location is the drop-in's line, relative to where kijun ran (hosts/web01/...), so
    code scanning annotates the repository's own file; the main file, which says the opposite,
    comes second.
    """
    ssh = tmp_path / "hosts" / "web01" / "etc" / "ssh"
    (ssh / "sshd_config.d").mkdir(parents=True)
    (ssh / "sshd_config").write_text(
        "Include /etc/ssh/sshd_config.d/*.conf\nPort 22\nPermitRootLogin no\n", encoding="utf-8"
    )
    (ssh / "sshd_config.d" / "50-vendor.conf").write_text("# vendor\nPermitRootLogin yes\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    args = ["scan", "--root", "hosts/web01", "--format", "sarif", "--out", "out", "--quiet"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    doc = json.loads((tmp_path / "out" / "latest" / "results.sarif").read_text("utf-8"))
    _valid(doc)
    by_rule = {r["ruleId"]: r for r in doc["runs"][0]["results"]}
    first, second = (loc["physicalLocation"] for loc in by_rule["sshd-root-login-disabled"]["locations"])
    assert first == {
        "artifactLocation": {"uri": "hosts/web01/etc/ssh/sshd_config.d/50-vendor.conf"},
        "region": {"startLine": 2},
    }
    assert second == {"artifactLocation": {"uri": "hosts/web01/etc/ssh/sshd_config"}}
    uris = [
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for r in by_rule.values()
        for loc in r["locations"]
        if "physicalLocation" in loc
    ]
    assert all((tmp_path / u).exists() for u in uris)  # only files that are in the folder


def test_hosts_elsewhere_keep_the_host_root_base(run: Run) -> None:
    results = json.loads(sarif.render(run))["runs"][0]["results"]
    locations = [loc for r in results for loc in r["locations"] if "physicalLocation" in loc]
    assert locations
    assert {loc["physicalLocation"]["artifactLocation"]["uriBaseId"] for loc in locations} == {"HOSTROOT"}
    for r in results:
        for loc in r["locations"]:
            assert loc["logicalLocations"][0]["name"] == r["properties"]["host"]


def test_findings_are_read_once(run: Run) -> None:
    once = dataclasses.replace(run, findings=iter(run.findings))  # type: ignore[arg-type]
    assert sarif.render(once) == sarif.render(run)
