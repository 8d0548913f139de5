"""Evaluate controls over one host's facts: pure, no I/O (findings in, findings out)."""

from __future__ import annotations

from typing import Any

from scanner.compiled import program
from scanner.facts import Facts
from scanner.inventory import Host
from scanner.operators import MISSING
from scanner.plans import citations, plan
from scanner.policy import Check, Control, Pack
from scanner.results import CheckResult, Finding, Status


def run_check(
    check: Check,
    facts: Facts,
    params: dict[str, Any],
    seen: dict[frozenset[str], tuple[str, ...]] | None = None,
) -> CheckResult:
    """Evaluate one check; a parser error in a subject it reads makes it an error, never a pass.

    ``seen`` keeps one host's evidence lists by subjects, for the checks after the first.
    """
    evidence = seen.get(check.subjects) if seen is not None else None
    if evidence is None:
        evidence = tuple(sorted({i for s in check.subjects for i in facts.evidence.get(s, [])}))
        if seen is not None:
            seen[check.subjects] = evidence
    broken = sorted(s for s in check.subjects if s in facts.errors) if facts.errors else []
    if broken:
        message = "; ".join(facts.errors[s] for s in broken)
        return CheckResult(
            check.id, Status.ERROR, check.title_ja, check.title_en, message=message, evidence=evidence
        )
    when, condition = program(check)
    if when is not None:
        gate = when(facts.tree, params, "error", MISSING)
        if gate.status is Status.ERROR:
            return CheckResult(
                check.id,
                Status.ERROR,
                check.title_ja,
                check.title_en,
                gate.observed,
                gate.expected,
                gate.message,
                evidence,
            )
        if gate.status is not Status.PASS:
            return CheckResult(
                check.id,
                Status.NOT_APPLICABLE,
                check.title_ja,
                check.title_en,
                gate.observed,
                gate.expected,
                "precondition not met",
                evidence,
            )
    out = condition(facts.tree, params, check.if_missing, MISSING)
    return CheckResult(
        check.id,
        out.status,
        check.title_ja,
        check.title_en,
        out.observed,
        out.expected,
        out.message,
        evidence,
        origin=check_origin(check.condition, facts, out.decided) if facts.origins else None,
    )


def facts_read(condition: Any) -> list[str]:
    """Return the fact paths a condition reads, in the order they appear."""
    if isinstance(condition, dict):
        own = [condition["fact"]] if isinstance(condition.get("fact"), str) else []
        return own + [p for k, v in condition.items() if k != "fact" for p in facts_read(v)]
    if isinstance(condition, list):
        return [p for item in condition for p in facts_read(item)]
    return []


def check_origin(
    condition: dict[str, Any], facts: Facts, decided: list[str] | None = None
) -> dict[str, Any] | None:
    """Return where the fact that decided a check was set (the first failing one for a failing check).

    ``decided`` lists the fact paths that decided the outcome, in order (``Outcome.decided``);
    without it, every fact the condition reads is a candidate.
    """
    for path in facts_read(condition) if decided is None else decided:
        found = facts.origin_of(path)
        if found is not None:
            return found
    return None


def combine(results: list[CheckResult]) -> Status:
    """A control passes only when every applicable check passes; a failure outranks an error."""
    statuses = [r.status for r in results if r.status is not Status.NOT_APPLICABLE]
    if not statuses:
        return Status.NOT_APPLICABLE
    if Status.FAIL in statuses:
        return Status.FAIL
    if Status.ERROR in statuses:
        return Status.ERROR
    return Status.PASS


def control_finding(control: Control, host: Host, pack: Pack, status: Status, **extra: Any) -> Finding:
    """Return a finding of a control on a host with its citations, parameters and remediation."""
    params = pack.params_for(control, host.zone, host.role)
    return _finding(control, host, params, citations(control, pack), status, **extra)


def _finding(
    control: Control,
    host: Host,
    params: dict[str, dict[str, Any]],
    cites: tuple[dict[str, str], ...],
    status: Status,
    **extra: Any,
) -> Finding:
    return Finding(
        host=host.name,
        control_id=control.id,
        status=status,
        severity=control.severity,
        area=control.area,
        title_ja=control.title_ja,
        title_en=control.title_en,
        zone=host.zone,
        role=host.role,
        owner=host.owner,
        citations=cites,
        params=params,
        remediation_ja=control.remediation_ja,
        remediation_en=control.remediation_en,
        attestation=(
            control.attestation_ja + (" / " + control.attestation_en if control.attestation_en else "")
        )
        if control.manual
        else "",
        **extra,
    )


def applicable(pack: Pack, host: Host) -> list[Control]:
    """Return the host-level controls whose applicability selects this host."""
    return [c for c in pack.controls.values() if c.level == "host" and c.applies.matches(host)]


ORGANIZATION = Host(name="(organization)", zone="", role="")


def evaluate_organization(pack: Pack) -> list[Finding]:
    """Return one finding per organization-level control (自己点検, 監査, 例外措置 records): manual for now."""
    return [
        control_finding(
            c, ORGANIZATION, pack, Status.MANUAL, message="attestation required (organization level)"
        )
        for c in pack.controls.values()
        if c.level == "organization"
    ]


def evaluate_host(pack: Pack, host: Host, facts: Facts | None, reason: str = "") -> list[Finding]:
    """Evaluate every control on one host; ``facts`` None means the host was not assessed.

    What applies to the host comes from its kind's plan (``scanner.plans``), worked out once.

    >>> evaluate_host(pack, host, None, "connection refused")[0].status  # doctest: +SKIP
    <Status.UNREACHABLE: 'unreachable'>
    """
    findings: list[Finding] = []
    seen: dict[frozenset[str], tuple[str, ...]] = {}
    for step in plan(pack, host).steps:
        params = {name: dict(spec) for name, spec in step.params.items()}  # each finding its own
        extra: dict[str, Any]
        if step.kind == "scope":
            status, extra = Status.NOT_APPLICABLE, {"message": "outside the control's scope"}
        elif step.kind == "manual":
            status, extra = Status.MANUAL, {"message": "attestation required"}
        elif step.kind == "no_check":
            status = Status.MANUAL
            extra = {"message": f"no machine check for os {host.os}: attestation required"}
        elif facts is None:
            status, extra = Status.UNREACHABLE, {"message": reason or "host not assessed"}
        else:
            results = [run_check(check, facts, step.values, seen) for check in step.checks]
            status = combine(results)
            message = "; ".join(r.message for r in results if r.status is status and r.message)
            extra = {"checks": tuple(results), "message": message}
        findings.append(_finding(step.control, host, params, step.citations, status, **extra))
    return findings
