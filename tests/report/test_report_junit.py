"""JUnit XML: one suite per host, unique readable testcases, the documented status mapping, both XSDs."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

import junitparser
import pytest
import xmlschema

from scanner.report import junit
from scanner.results import Finding, Run, Status

HOSTILE = "<script>alert(1)</script>"  # as in conftest.make_run
FIXTURES = Path(__file__).parent / "fixtures"

# host -> (tests, failures, errors, skipped); not_applicable is left out by default
EXPECTED = {
    "mn-srv-01": (4, 1, 1, 1),
    "mn-term-01": (4, 2, 0, 1),
    "lg-srv-01": (2, 1, 0, 0),
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


@pytest.mark.parametrize("xsd", ["jenkins-junit.xsd", "ant-junit.xsd"])
@pytest.mark.parametrize("options", [{}, {"failures_only": True}, {"not_applicable": True}])
def test_valid_against_jenkins_and_ant_xsd(
    run: Run, tmp_path: Path, xsd: str, options: dict[str, bool]
) -> None:
    schema = xmlschema.XMLSchema(FIXTURES / xsd)
    path = tmp_path / "junit.xml"
    path.write_text(junit.render(run, **options), encoding="utf-8")
    assert [str(e) for e in schema.iter_errors(str(path))] == []


def test_schema_rejects_what_junit_xml_writes(tmp_path: Path) -> None:
    """The fixture is a real check: junit-xml's <skipped message=...> is what Jenkins' XSD refuses."""
    path = tmp_path / "bad.xml"
    path.write_text(
        '<testsuites><testsuite name="h" tests="1"><testcase name="x">'
        '<skipped type="skipped" message="waived"/></testcase></testsuite></testsuites>',
        encoding="utf-8",
    )
    assert not xmlschema.XMLSchema(FIXTURES / "jenkins-junit.xsd").is_valid(str(path))


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


def test_testcases_unique_as_gitlab_keys_them(run: Run, tmp_path: Path) -> None:
    """GitLab keeps the first of a duplicate (classname, name): every failure must have its own key."""
    path = tmp_path / "junit.xml"
    path.write_text(junit.render(run, not_applicable=True), encoding="utf-8")
    xml = junitparser.JUnitXml.fromfile(str(path))
    keys = [(case.classname, case.name) for suite in xml for case in suite]
    assert len(keys) == len(set(keys)) == len(run.findings) + 1  # + the collection error of lg-term-09
    failed = {(c.classname, c.name) for s in xml for c in s if c.result and c.result[0]._tag == "failure"}
    assert len(failed) == sum(1 for f in run.findings if f.status is Status.FAIL)


def test_junitparser_reads_statuses_and_reasons(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(junit.render(run), encoding="utf-8")
    by_name = {
        (suite.name, case.name.split()[0]): case
        for suite in junitparser.JUnitXml.fromfile(str(path))
        for case in suite
    }
    waived = by_name[("mn-srv-01", "BAK-02")].result[0]
    assert isinstance(waived, junitparser.Skipped)
    assert (waived.text or "").startswith("waived 例外措置: EXC-2025-004 until 2026-03-31")
    assert isinstance(by_name[("mn-term-01", "DLP-01")].result[0], junitparser.Failure)
    assert isinstance(by_name[("in-proxy-01", "NET-05")].result[0], junitparser.Error)
    assert by_name[("mn-srv-01", "ACC-04")].is_passed


def test_names_and_classnames(suites: dict[str, ET.Element]) -> None:
    cases = suites["mn-srv-01"].findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        (
            "kijun.mynumber.mn-srv-01",
            "ACC-04 rootの直接ログインが禁止されている / Direct root login is disabled",
        ),
        ("kijun.mynumber.mn-srv-01", "LOG-02 ログの保存期間 / Logs are kept for the retention period"),
        (
            "kijun.mynumber.mn-srv-01",
            "BAK-02 外部データセンターに複製がある / A copy exists at the external data center",
        ),
        ("kijun.mynumber.mn-srv-01", "LOG-01 LOG-01の要件を満たしている / LOG-01 requirement is met"),
    ]


def test_time_from_the_host_timings(suites: dict[str, ET.Element]) -> None:
    suite = suites["mn-srv-01"]  # timings connect 0.12 + collect 0.8
    assert suite.get("time") == "0.920"
    assert {c.get("time") for c in suite.findall("testcase")} == {"0.230"}
    assert suite.get("timestamp") == "2025-06-02T00:00:05"  # 09:00:05+09:00 in UTC, no zone (Ant)
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["timing_collect"] == "0.8"
    assert props["collected_at"] == "2025-06-02T09:00:05+09:00"


def test_suite_properties(suites: dict[str, ET.Element]) -> None:
    props = {p.get("name"): p.get("value") for p in suites["mn-term-01"].iter("property")}
    assert props["zone"] == "mynumber"
    assert props["role"] == "terminal"
    assert props["owner"] == "戸籍住民課"
    assert props["run_id"] == "20250602T090000-7f3a"
    assert {p.get("name"): p.get("value") for p in suites["in-proxy-01"].iter("property")}["host_status"] == (
        "unreachable"
    )


def test_failure_carries_severity_observed_and_expected(suites: dict[str, ET.Element]) -> None:
    failure = _case(suites["mn-term-01"], "DLP-01").find("failure")
    assert failure is not None
    assert failure.get("type") == "critical"
    assert failure.get("message") == '[critical] usb-storage-blocked: observed "loaded", expected blocked'


def test_failure_text_has_the_details(suites: dict[str, ET.Element]) -> None:
    text = _case(suites["mn-srv-01"], "LOG-02").findtext("failure") or ""
    lines = text.splitlines()
    assert "severity: high" in lines
    assert "citation: 文京区情報セキュリティに関する規則 第25条 — アクセス記録を取得し、保存する" in lines
    assert "remediation: Raise logrotate's rotate count to cover the retention period." in lines
    assert "evidence: file:/etc/logrotate.conf, file:/etc/logrotate.d/rsyslog" in lines


def test_hostile_observed_value_survives_as_text(suites: dict[str, ET.Element]) -> None:
    failure = _case(suites["mn-srv-01"], "LOG-02").find("failure")
    assert failure is not None
    assert HOSTILE in failure.get("message", "")
    assert '{"ge": 1825}' in failure.get("message", "")


def test_control_characters_cannot_break_the_xml(run: Run) -> None:
    finding = dataclasses.replace(run.findings[1], message="bad\x00byte\x1b[2J\ufffe")
    xml = junit.render(dataclasses.replace(run, findings=(finding,)))
    case = _case({s.get("name", ""): s for s in ET.fromstring(xml)}["mn-srv-01"], "LOG-02")
    assert "message: bad\\x00byte\\x1b[2J" in (case.findtext("failure") or "")


def test_lapsed_waiver_is_a_failure_that_says_so(suites: dict[str, ET.Element]) -> None:
    case = _case(suites["mn-term-01"], "ACC-04")
    assert case.find("skipped") is None
    failure = case.find("failure")
    assert failure is not None
    assert "waiver EXC-2024-001 not applied: 期限切れ expired" in (failure.text or "")


def test_skipped_reasons_are_text(suites: dict[str, ET.Element]) -> None:
    waived = _case(suites["mn-srv-01"], "BAK-02").find("skipped")
    manual = _case(suites["mn-term-01"], "PHY-01").find("skipped")
    assert waived is not None and manual is not None
    assert waived.attrib == {} and manual.attrib == {}
    assert (waived.text or "").startswith("waived 例外措置: EXC-2025-004 until 2026-03-31")
    assert "山田 太郎" in (waived.text or "")
    assert (manual.text or "").startswith("manual 要確認(手動): attestation required: 入退室記録")


def test_not_applicable_only_when_asked(run: Run) -> None:
    default = {s.get("name", ""): s for s in ET.fromstring(junit.render(run))}
    assert [c.get("name", "").split()[0] for c in default["lg-srv-01"].findall("testcase")] == [
        "ACC-04",
        "NET-06",
    ]
    suites = {s.get("name", ""): s for s in ET.fromstring(junit.render(run, not_applicable=True))}
    skipped = _case(suites["lg-srv-01"], "MFA-01").find("skipped")
    assert skipped is not None
    assert skipped.text == "not_applicable: applies to mynumber terminals only"


def test_errors_for_error_and_unreachable(suites: dict[str, ET.Element]) -> None:
    error = _case(suites["mn-srv-01"], "LOG-01").find("error")
    unreachable = _case(suites["in-proxy-01"], "NET-05").find("error")
    collection = suites["lg-term-09"].find("testcase")
    assert error is not None and unreachable is not None and collection is not None
    assert error.get("message") == "error: auditd rules could not be parsed"
    assert unreachable.get("type") == "unreachable"
    assert collection.get("classname") == "kijun.lgwan.lg-term-09"
    collection_error = collection.find("error")
    assert collection_error is not None
    assert collection_error.get("message") == "error: collector exited 2: sudo: a password is required"


def test_failures_only_keeps_failing_hosts_and_cases(run: Run) -> None:
    root = ET.fromstring(junit.render(run, failures_only=True))
    got = {s.get("name"): sorted(c.get("name", "").split()[0] for c in s.findall("testcase")) for s in root}
    assert got == {
        "mn-srv-01": ["LOG-01", "LOG-02"],
        "mn-term-01": ["ACC-04", "DLP-01"],
        "lg-srv-01": ["NET-06"],
        "in-proxy-01": ["ACC-04", "NET-05"],
        "lg-term-09": ["collection"],
    }


def test_findings_are_read_once(run: Run) -> None:
    """Reporters take a stream (issue 12): a one-shot iterator must be enough."""
    once = dataclasses.replace(run, findings=iter(run.findings))  # type: ignore[arg-type]
    assert junit.render(once) == junit.render(run)


def test_host_without_inventory_entry_still_gets_a_suite(run: Run) -> None:
    stray = Finding("ghost-01", "ACC-04", Status.FAIL, run.findings[0].severity, "access_control", "t", "t")
    xml = junit.render(dataclasses.replace(run, findings=(*run.findings, stray)))
    names = [s.get("name") for s in ET.fromstring(xml)]
    assert names[-1] == "ghost-01"


def test_output_is_stable(run: Run) -> None:
    assert junit.render(run) == junit.render(run)


def test_scan_writes_failures_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end through the CLI: the option reaches the file a run folder holds."""
    from click.testing import CliRunner

    from scanner.cli import main

    ssh = tmp_path / "web01" / "etc" / "ssh"
    ssh.mkdir(parents=True)
    (ssh / "sshd_config").write_text("PermitRootLogin yes\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    args = [
        "scan",
        "--root",
        "web01",
        "--format",
        "junit",
        "--out",
        "out",
        "--quiet",
        "--junit-failures-only",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    root = ET.parse(tmp_path / "out" / "latest" / "junit.xml").getroot()
    cases = list(root.iter("testcase"))
    assert cases and all(c.find("failure") is not None or c.find("error") is not None for c in cases)
    assert "ACC-04" in {c.get("name", "").split()[0] for c in cases}
