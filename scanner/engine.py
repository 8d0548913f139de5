"""Evaluate controls over one host's facts: pure, no I/O (findings in, findings out)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scanner import verdicts
from scanner.compiled import Job, job
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
    return _run(job(check), facts, params, memo or Memo(), None)


def _run(job: Job, facts: Facts, params: Mapping[str, Any], memo: Memo, serial: int | None) -> CheckResult:
    """``run_check`` of a compiled check; with a ``serial`` (a plan's check) its verdict may be kept."""
    subjects = job.subjects
    evidence = memo.evidence.get(subjects)
    if evidence is None:
        evidence = tuple(sorted({i for s in subjects for i in facts.evidence.get(s, [])}))
        memo.evidence[subjects] = evidence
    if facts.errors:
        broken = sorted(s for s in subjects if s in facts.errors)
        if broken:
            message = "; ".join(facts.errors[s] for s in broken)
            return _result(job, Status.ERROR, None, None, message, evidence, None)
    key, verdict = (None, None)
    if serial is not None and job.reads is not None:
        key, verdict = verdicts.recall(serial, job.reads, facts.tree)
    if verdict is None:
        verdict = _judge(job, facts.tree, params)
        if key is not None and serial is not None:
            verdicts.keep(serial, key, verdict)
    status, observed, expected, message, decided = verdict
    origin = _origin(facts, decided, memo.origins) if decided and facts.origins else None
    return _result(job, status, observed, expected, message, evidence, origin)


def _judge(job: Job, tree: dict[str, Any], params: Mapping[str, Any]) -> verdicts.Verdict:
    """Return a check's verdict on a facts tree: its precondition, then its condition."""
    if job.when is not None:
        gate = job.when(tree, params, "error", MISSING)
        if gate.status is not PASS:
            if gate.status is Status.ERROR:
                return Status.ERROR, gate.observed, gate.expected, gate.message, None
            return Status.NOT_APPLICABLE, gate.observed, gate.expected, "precondition not met", None
    out = job.condition(tree, params, job.if_missing, MISSING)
    return out.status, out.observed, out.expected, out.message, out.decided


PASS = Status.PASS
_new = object.__new__


def _result(
    job: Job,
    status: Status,
    observed: Any,
    expected: Any,
    message: str,
    evidence: tuple[str, ...],
    origin: dict[str, Any] | None,
) -> CheckResult:
    """Return ``CheckResult(job.check_id, status, ...)`` without the frozen ``__init__`` (a setattr per field)."""
    out: CheckResult = _new(CheckResult)
    fields = out.__dict__  # in the order of the dataclass fields, as __init__ would set them
    fields["check_id"] = job.check_id
    fields["status"] = status
    fields["title_ja"] = job.title_ja
    fields["title_en"] = job.title_en
    fields["observed"] = observed
    fields["expected"] = expected
    fields["message"] = message
    fields["evidence"] = evidence
    fields["origin"] = origin
    return out


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
        if path in seen:
            found = seen[path]
        else:
            found = seen[path] = _origin_of(facts.origins, path)
        if found is not None:
            return found
    return None


_PREFIXES: dict[str, tuple[str, ...]] = {}  # fact path -> it and its dotted prefixes, longest first


def _origin_of(origins: dict[str, dict[str, Any]], path: str) -> dict[str, Any] | None:
    """``Facts.origin_of`` with a path's prefixes split once per run (the paths are the checks')."""
    prefixes = _PREFIXES.get(path)
    if prefixes is None:
        parts = path.split(".")
        prefixes = tuple(".".join(parts[:end]) for end in range(len(parts), 0, -1))
        if len(_PREFIXES) < 4096:
            _PREFIXES[path] = prefixes
    for prefix in prefixes:
        found = origins.get(prefix)
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
    name, owner = host.name, host.owner
    for step in plan(pack, host).steps:
        out: Finding = _new(Finding)  # the kind's finding, copied and made this host's
        mine = out.__dict__
        mine.update(step.finding.__dict__)
        mine["host"] = name
        mine["owner"] = owner
        params = step.finding.params
        mine["params"] = {n: dict(spec) for n, spec in params.items()} if params else {}  # each its own
        if step.kind != "checks":
            pass  # the plan's finding says it all: outside the scope, or attestation required
        elif facts is None:
            mine["status"] = Status.UNREACHABLE
            mine["message"] = reason or "host not assessed"
        else:
            values = step.values
            results = [_run(j, facts, values, memo, n) for j, n in zip(step.jobs, step.serials, strict=True)]
            status = combine(results)
            mine["status"] = status
            mine["checks"] = tuple(results)
            mine["message"] = "; ".join(r.message for r in results if r.status is status and r.message)
        findings.append(out)
    return findings
