"""What a policy pack asks of one kind of host, worked out once per kind and reused for every host.

Which controls apply, which of their checks run on the host's OS, the parameters in force and the
citations depend only on the host's zone, role, classification, OS and the labels the controls
select on; at municipal scale a thousand hosts are a few dozen kinds. ``plan`` answers once per
kind and pack; ``scanner.engine`` evaluates a host's facts along it and ``scanner.selection``
reads the fact subjects from it.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from scanner.compiled import Job, job
from scanner.findings import control_finding
from scanner.inventory import Host
from scanner.policy import Check, Control, Pack
from scanner.results import Finding, Status
from scanner.verdicts import SERIALS


@dataclass(frozen=True)
class Step:
    """One host-level control as a kind of host meets it.

    ``kind`` is "scope" (outside the control's scope), "manual" (attestation), "no_check" (no
    machine check for the OS) or "checks" (``checks`` run with ``values``). ``finding`` is the
    control's finding on a nameless host of the kind, for the engine to copy: the finding of a
    scope, manual or no_check step as it is, that of a "checks" step before its status and checks.
    """

    control: Control
    kind: str
    checks: tuple[Check, ...]
    values: Mapping[str, Any]  # parameter name -> value, as the conditions read them (read-only)
    finding: Finding
    jobs: tuple[Job, ...] = ()  # the checks compiled, in order
    serials: tuple[int, ...] = ()  # each check's own on this step, for the verdicts kept by content


@dataclass(frozen=True)
class Plan:
    """The steps of every host-level control in pack order, and the fact subjects their checks read."""

    steps: tuple[Step, ...]
    subjects: frozenset[str]


# id(pack) -> (the label keys the controls select on, plan by kind of host)
_FIXED = {
    "scope": (Status.NOT_APPLICABLE, "outside the control's scope"),
    "manual": (Status.MANUAL, "attestation required"),
    "no_check": (Status.MANUAL, "no machine check for os {os}: attestation required"),
}
_PLANS: dict[int, tuple[tuple[str, ...], dict[tuple[Any, ...], Plan]]] = {}


def plan(pack: Pack, host: Host) -> Plan:
    """Return the plan for this host's kind (computed on first use, once per pack)."""
    known = _PLANS.get(id(pack))
    if known is None:
        labels = tuple(sorted({k for c in pack.controls.values() for k in c.applies.labels}))
        known = _PLANS[id(pack)] = (labels, {})
        weakref.finalize(pack, _PLANS.pop, id(pack), None)
    labels, plans = known
    key = (host.zone, host.role, host.classification, host.os, *(host.labels.get(k) for k in labels))
    try:
        found = plans.get(key)
    except TypeError:  # a label value that cannot be a key: worked out for this host alone
        return _make(pack, host)
    if found is None:
        found = plans[key] = _make(pack, host)
    return found


def _make(pack: Pack, host: Host) -> Plan:
    blank = Host(name="", zone=host.zone, role=host.role, os=host.os)

    def step(control: Control, kind: str, checks: tuple[Check, ...] = ()) -> Step:
        status, message = _FIXED.get(kind, (Status.PASS, ""))
        message = message.replace("{os}", host.os)
        finding = control_finding(control, blank, pack, status, message=message)
        values = MappingProxyType({name: spec["value"] for name, spec in finding.params.items()})
        jobs = tuple(job(c) for c in checks)
        return Step(control, kind, checks, values, finding, jobs, tuple(next(SERIALS) for _ in jobs))

    steps: list[Step] = []
    subjects: set[str] = set()
    for control in pack.controls.values():
        if control.level == "organization":
            continue
        if not control.applies.matches(host):
            steps.append(step(control, "scope"))
            continue
        checks = tuple(pack.checks[c] for c in control.checks if pack.checks[c].platform in (host.os, "any"))
        if control.level == "host":  # what scanner.engine.applicable selects
            for check in checks:
                subjects |= check.subjects
        if control.manual:
            steps.append(step(control, "manual"))
        elif not checks:
            steps.append(step(control, "no_check"))
        else:
            steps.append(step(control, "checks", checks))
    if host.os == "network":
        subjects.add("netdev")  # the device's configuration, judged by scanner/netdev
    return Plan(tuple(steps), frozenset(subjects))
