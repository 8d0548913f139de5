"""The JUnit XML reporter: a testsuite per host, a testcase per finding (junit-xml).

junit-xml 1.9 has properties on test suites only, so each testcase carries its severity,
citations, waiver and evidence in its ``system-out``, one ``key: value`` per line.
"""

from __future__ import annotations

from junit_xml import TestCase, TestSuite, to_xml_report_string

from scanner.report.labels import citation_text, value_text
from scanner.results import Finding, HostResult, Run, Status

_SKIPPED = (Status.WAIVED, Status.MANUAL, Status.NOT_APPLICABLE)


def render(run: Run) -> str:
    """Render a run as JUnit XML: one testsuite per host, hosts in inventory order.

    >>> Path("junit.xml").write_text(render(run), encoding="utf-8")
    """
    by_host: dict[str, list[Finding]] = {}
    for f in run.findings:
        by_host.setdefault(f.host, []).append(f)
    hosts = {h.name: h for h in run.hosts}
    names = list(hosts) + [n for n in by_host if n not in hosts]
    suites = [_suite(run, n, hosts.get(n), by_host.get(n, [])) for n in names]
    return str(to_xml_report_string(suites, prettyprint=True))


def _suite(run: Run, name: str, host: HostResult | None, findings: list[Finding]) -> TestSuite:
    """Build the testsuite of one host, with a collection error case if it has no findings at all."""
    first = findings[0] if findings else None
    props = {
        "zone": host.zone if host else first.zone if first else "",
        "role": host.role if host else first.role if first else "",
        "owner": host.owner if host else first.owner if first else "",
        "host_status": host.status if host else "assessed",
        "run_id": run.run_id,
        "profile": run.profile,
        "scanner_version": run.scanner_version,
        "fail_on": run.fail_on.value,
    }
    cases = [_case(f) for f in findings]
    if host and not host.assessed and not findings:
        # A host with no findings at all must still break the build as not assessed.
        case = TestCase("collection", classname="kijun.host.collection")
        case.add_error_info(
            message=f"{host.status}: {host.message or 'not assessed'}", error_type=host.status
        )
        cases.append(case)
    timestamp = (host.collected_at if host else "") or run.started_at
    return TestSuite(
        name, cases, hostname=host.address if host else None, timestamp=timestamp, properties=props
    )


def _case(f: Finding) -> TestCase:
    """Build the testcase of one finding, mapping its status to failure, error or skipped."""
    case = TestCase(
        f"{f.control_id} {f.title_en or f.title_ja}".strip(),
        classname=f"kijun.{f.area}.{f.control_id}",
        stdout=_details(f),
    )
    if f.status is Status.FAIL:
        case.add_failure_info(message=_failure_message(f), output=_failure_output(f), failure_type="fail")
    elif f.status in (Status.ERROR, Status.UNREACHABLE):
        reason = f.message or "; ".join(c.message for c in f.checks if c.message) or f.status.value
        case.add_error_info(message=f"{f.status.value}: {reason}", error_type=f.status.value)
    elif f.status in _SKIPPED:
        case.add_skipped_info(message=_skip_reason(f))
    return case


def _failure_message(f: Finding) -> str:
    """Say what failed: severity, then observed vs expected of each failing check."""
    parts = [
        f"{c.check_id}: observed {value_text(c.observed)}, expected {value_text(c.expected)}"
        for c in f.checks
        if c.status is Status.FAIL
    ]
    return f"[{f.severity.value}] " + ("; ".join(parts) or f.message or "fail")


def _failure_output(f: Finding) -> str:
    """Return the message, a lapsed waiver and the remediation of a failure."""
    lines = [f.message] if f.message else []
    if f.waiver and not f.waiver.applied:
        lines.append(f"waiver {f.waiver.id} not applied: {f.waiver.reason} (expires {f.waiver.expires})")
    lines += [r for r in (f.remediation_ja, f.remediation_en) if r]
    return "\n".join(lines)


def _skip_reason(f: Finding) -> str:
    """Say why a finding is skipped: the waiver, the attestation needed, or why it does not apply."""
    if f.status is Status.WAIVED and f.waiver:
        w = f.waiver
        return (
            f"waived: {w.id} until {w.expires or '?'} "
            f"(approved by {w.approved_by or '?'}, {w.approver_role or '?'}): {w.reason}"
        ).rstrip(": ")
    if f.status is Status.MANUAL:
        return f"manual: attestation required: {f.attestation or f.message or '?'}"
    return f"{f.status.value}: {f.message or '-'}"


def _details(f: Finding) -> str:
    """Return the per-testcase properties as ``key: value`` lines (junit-xml has no testcase properties)."""
    lines = [
        f"severity: {f.severity.value}",
        f"status: {f.status.value}",
        f"title_ja: {f.title_ja}",
        f"title_en: {f.title_en}",
    ]
    lines += [f"citation: {citation_text(c)}" for c in f.citations]
    if f.waiver:
        w = f.waiver
        lines.append(
            f"waiver: {w.id} applied={str(w.applied).lower()} expires={w.expires} "
            f"approved_by={w.approved_by} ({w.approver_role})"
        )
    evidence = sorted({e for c in f.checks for e in c.evidence})
    if evidence:
        lines.append(f"evidence: {', '.join(evidence)}")
    return "\n".join(lines)
