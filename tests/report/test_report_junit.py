"""JUnit XML: one suite per host, failure/error/skipped per status, stable names and classnames."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from scanner.report import junit
from scanner.results import Run

HOSTILE = "<script>alert(1)</script>"  # as in conftest.make_run

# host -> (tests, failures, errors, skipped), counted from the sample run's statuses
EXPECTED = {
    "mn-srv-01": (4, 1, 1, 1),
    "mn-term-01": (4, 2, 0, 1),
    "lg-srv-01": (3, 1, 0, 1),
    "in-proxy-01": (2, 0, 2, 0),
    "lg-term-09": (1, 0, 1, 0),  # not assessed, no findings: one collection error
}


@pytest.fixture
def suites(run: Run) -> dict[str, ET.Element]:
    root = ET.fromstring(junit.render(run))
    assert root.tag == "testsuites"
    return {s.get("name", ""): s for s in root.findall("testsuite")}


def _case(suite: ET.Element, control: str) -> ET.Element:
    (case,) = [c for c in suite.findall("testcase") if c.get("name", "").startswith(control + " ")]
    return case


def test_one_suite_per_host_in_inventory_order(run: Run) -> None:
    root = ET.fromstring(junit.render(run))
    assert [s.get("name") for s in root.findall("testsuite")] == [h.name for h in run.hosts]


@pytest.mark.parametrize("host", EXPECTED)
def test_counts_per_suite(suites: dict[str, ET.Element], host: str) -> None:
    suite = suites[host]
    cases = suite.findall("testcase")
    counted = (
        len(cases),
        sum(1 for c in cases if c.find("failure") is not None),
        sum(1 for c in cases if c.find("error") is not None),
        sum(1 for c in cases if c.find("skipped") is not None),
    )
    attrs = tuple(int(suite.get(k, "-1")) for k in ("tests", "failures", "errors", "skipped"))
    assert counted == attrs == EXPECTED[host]


def test_suite_properties(suites: dict[str, ET.Element]) -> None:
    props = {p.get("name"): p.get("value") for p in suites["mn-term-01"].iter("property")}
    assert props["zone"] == "mynumber"
    assert props["role"] == "terminal"
    assert props["owner"] == "戸籍住民課"
    assert props["run_id"] == "20250602T090000-7f3a"
    assert {p.get("name"): p.get("value") for p in suites["in-proxy-01"].iter("property")}["host_status"] == (
        "unreachable"
    )


def test_names_and_classnames(suites: dict[str, ET.Element]) -> None:
    cases = suites["mn-srv-01"].findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("kijun.access_control.ACC-04", "ACC-04 Direct root login is disabled"),
        ("kijun.logging.LOG-02", "LOG-02 Logs are kept for the retention period"),
        ("kijun.backup.BAK-02", "BAK-02 A copy exists at the external data center"),
        ("kijun.logging.LOG-01", "LOG-01 LOG-01 requirement is met"),
    ]


def test_failure_carries_severity_observed_and_expected(suites: dict[str, ET.Element]) -> None:
    failure = _case(suites["mn-term-01"], "DLP-01").find("failure")
    assert failure is not None
    assert failure.get("message") == '[critical] usb-storage-blocked: observed "loaded", expected "blocked"'


def test_hostile_observed_value_survives_as_text(suites: dict[str, ET.Element]) -> None:
    failure = _case(suites["mn-srv-01"], "LOG-02").find("failure")
    assert failure is not None
    assert HOSTILE in failure.get("message", "")
    assert '{"ge": 1825}' in failure.get("message", "")


def test_lapsed_waiver_is_a_failure_that_says_so(suites: dict[str, ET.Element]) -> None:
    case = _case(suites["mn-term-01"], "ACC-04")
    assert case.find("skipped") is None
    failure = case.find("failure")
    assert failure is not None
    assert "EXC-2024-001 not applied" in (failure.text or "")


def test_skipped_reasons(suites: dict[str, ET.Element]) -> None:
    waived = _case(suites["mn-srv-01"], "BAK-02").find("skipped")
    manual = _case(suites["mn-term-01"], "PHY-01").find("skipped")
    not_applicable = _case(suites["lg-srv-01"], "MFA-01").find("skipped")
    assert waived is not None and manual is not None and not_applicable is not None
    assert waived.get("message", "").startswith("waived: EXC-2025-004 until 2026-03-31")
    assert "山田 太郎" in waived.get("message", "")
    assert manual.get("message", "").startswith("manual: attestation required: 入退室記録")
    assert not_applicable.get("message") == "not_applicable: applies to mynumber terminals only"


def test_errors_for_error_and_unreachable(suites: dict[str, ET.Element]) -> None:
    error = _case(suites["mn-srv-01"], "LOG-01").find("error")
    unreachable = _case(suites["in-proxy-01"], "NET-05").find("error")
    collection = suites["lg-term-09"].find("testcase")
    assert error is not None and unreachable is not None and collection is not None
    assert error.get("message") == "error: auditd rules could not be parsed"
    assert unreachable.get("type") == "unreachable"
    assert collection.get("classname") == "kijun.host.collection"
    collection_error = collection.find("error")
    assert collection_error is not None
    assert collection_error.get("message") == "error: collector exited 2: sudo: a password is required"


def test_case_system_out_holds_the_properties(suites: dict[str, ET.Element]) -> None:
    out = _case(suites["mn-srv-01"], "LOG-02").findtext("system-out") or ""
    lines = out.splitlines()
    assert "severity: high" in lines
    assert "citation: 文京区情報セキュリティに関する規則 第25条 — アクセス記録を取得し、保存する" in lines
    assert "evidence: file:/etc/logrotate.conf, file:/etc/logrotate.d/rsyslog" in lines
    waived = _case(suites["mn-srv-01"], "BAK-02").findtext("system-out") or ""
    assert "waiver: EXC-2025-004 applied=true expires=2026-03-31" in waived


def test_output_is_stable(run: Run) -> None:
    assert junit.render(run) == junit.render(run)
