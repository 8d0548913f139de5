"""Evaluate controls over one host's facts: pure, no I/O (findings in, findings out)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scanner.compiled import program
from scanner.facts import Facts
from scanner.findings import control_finding as control_finding  # where callers have found it
from scanner.inventory import Host
from scanner.operators import MISSING
from scanner.plans import plan
from scanner.policy import Check, Control, Pack
from scanner.results import CheckResult, Finding, Status


class Memo:
    """What one host's checks share: evidence lists by subjects, origins by fact path."""

    def __init__(self) -> None:
        self.evidence: dict[frozenset[str], tuple[str, ...]] = {}
        self.origins: dict[str, dict[str, Any] | None] = {}


def run_check(check: Check, facts: Facts, params: Mapping[str, Any], memo: Memo | None = None) -> CheckResult:
    """Evaluate one check; a parser error in a subject it reads makes it an error, never a pass.

    ``memo`` keeps what the checks of the same host's facts share, for the checks after the first.
    """
    memo = memo or Memo()
    evidence = memo.evidence.get(check.subjects)
    if evidence is None:
        evidence = tuple(sorted({i for s in check.subjects for i in facts.evidence.get(s, [])}))
        memo.evidence[check.subjects] = evidence
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
        origin=_origin(facts, out.decided, memo.origins) if facts.origins else None,
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


def _origin(
    facts: Facts, decided: list[str], seen: dict[str, dict[str, Any] | None]
) -> dict[str, Any] | None:
    """``check_origin`` with the decided paths given, each path looked up once per host."""
    for path in decided:
        if path not in seen:
            seen[path] = facts.origin_of(path)
        if seen[path] is not None:
            return seen[path]
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
    memo = Memo()
    for step in plan(pack, host).steps:
        mine: dict[str, Any] = {"host": host.name, "owner": host.owner}
        mine["params"] = {name: dict(spec) for name, spec in step.finding.params.items()}  # each its own
        if step.kind != "checks":
            pass  # the plan's finding says it all: outside the scope, or attestation required
        elif facts is None:
            mine.update(status=Status.UNREACHABLE, message=reason or "host not assessed")
        else:
            results = [run_check(check, facts, step.values, memo) for check in step.checks]
            status = combine(results)
            message = "; ".join(r.message for r in results if r.status is status and r.message)
            mine.update(status=status, checks=tuple(results), message=message)
        findings.append(_copy(step.finding, mine))
    return findings


def _copy(finding: Finding, changes: dict[str, Any]) -> Finding:
    """Return a copy of a finding with some fields changed.

    The same as ``dataclasses.replace`` without running the frozen ``__init__`` again (a setattr
    per field), which is most of what a finding costs when a host has dozens.
    """
    out = object.__new__(Finding)
    out.__dict__.update(finding.__dict__)
    out.__dict__.update(changes)
    return out
