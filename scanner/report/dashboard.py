"""The dashboard's data, gathered in one pass over the findings: the summary and a compact payload.

The payload the page's script renders from holds the catalog once (controls, checks) and the
findings as a flat list of numbers ``[host, control, status, extra, ...]``, where ``extra`` indexes
the details of a failure, error or waiver, or the string table for any other status's message.
Strings repeat across hosts (messages, evidence ids), so they are stored once in ``s``.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from scanner.report import labels, reading
from scanner.results import CheckResult, Finding, Run, Severity, Status

STATUSES: tuple[Status, ...] = labels.STATUS_ORDER  # status code = index here
_CODE = {s: i for i, s in enumerate(STATUSES)}
_DETAILED = (Status.FAIL, Status.ERROR, Status.WAIVED)
_ASSESSED = (Status.PASS, Status.FAIL, Status.WAIVED, Status.ERROR)


@dataclass
class Summary:
    """What the first screen shows, counted while the findings go by."""

    counts: dict[Status, int] = field(default_factory=lambda: dict.fromkeys(Status, 0))
    area_zone: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # [fail, assessed]
    controls: dict[int, list[int]] = field(default_factory=dict)  # control index -> counts per status
    oldest: dict[int, str] = field(default_factory=dict)  # control index -> oldest open_since
    severity: dict[Severity, list[Any]] = field(default_factory=dict)  # [fails, hosts set, oldest]
    blocking: int = 0  # failures at or above fail-on
    changed: list[Finding] = field(default_factory=list)  # what a diff with the previous run reads

    def exit_code(self, run: Run, allow_incomplete: bool) -> int:
        """Return the run's exit code from these counts (as Run.exit_code, without a second pass)."""
        if self.blocking:
            return 1
        incomplete = self.counts[Status.ERROR] or self.counts[Status.UNREACHABLE]
        if (incomplete or any(not h.assessed for h in run.hosts)) and not allow_incomplete:
            return 3
        return 0


class Payload:
    """Accumulate the compact payload; strings and catalog entries get an index the first time seen."""

    def __init__(self, run: Run) -> None:
        self.hosts: list[list[Any]] = []
        self.host_index: dict[str, int] = {}
        for h in run.hosts:
            self._host(h.name, h.zone, h.role, h.owner, h.status, h.message, h.address, h.collected_at)
        self.controls: list[list[Any]] = []
        self.control_index: dict[str, int] = {}
        self.checks: list[list[str]] = []
        self.check_index: dict[str, int] = {}
        self.strings: list[str] = []
        self.string_index: dict[str, int] = {}
        self.details: list[list[Any]] = []
        self.flat = array("i")
        self._sentences: dict[str, tuple[str, str]] = {}

    def _host(self, *row: str) -> int:
        self.host_index[row[0]] = len(self.hosts)
        self.hosts.append([*row, [0] * len(STATUSES)])
        return len(self.hosts) - 1

    def string(self, text: str) -> int:
        index = self.string_index.get(text)
        if index is None:
            index = self.string_index[text] = len(self.strings)
            self.strings.append(text)
        return index

    def control(self, f: Finding) -> int:
        index = self.control_index.get(f.control_id)
        if index is None:
            index = self.control_index[f.control_id] = len(self.controls)
            cites = [[c.get("doc", ""), c.get("article", ""), c.get("text", "")] for c in f.citations]
            self.controls.append(
                [
                    f.control_id,
                    f.area,
                    f.severity.value,
                    f.title_ja,
                    f.title_en,
                    f.remediation_ja,
                    f.remediation_en,
                    cites,
                    f.attestation,
                ]
            )
        return index

    def check(self, c: CheckResult) -> int:
        index = self.check_index.get(c.check_id)
        if index is None:
            index = self.check_index[c.check_id] = len(self.checks)
            self.checks.append([c.check_id, c.title_ja, c.title_en])
        return index

    def add(self, f: Finding, since: str) -> int:
        """Record one finding; return its control index."""
        host = self.host_index.get(f.host)
        if host is None:
            host = self._host(f.host, f.zone, f.role, f.owner, "assessed", "", "", "")
        control, code = self.control(f), _CODE[f.status]
        self.hosts[host][-1][code] += 1
        extra = (
            self._detail(f, since) if f.status in _DETAILED else self.string(f.message) if f.message else -1
        )
        self.flat.extend((host, control, code, extra))
        return control

    def _detail(self, f: Finding, since: str) -> int:
        checks = [self._check(c) for c in f.checks]
        waiver = None
        if f.waiver:
            w = f.waiver
            waiver = [w.id, w.applied, w.reason, w.expires, w.approved_by, w.approver_role]
        self.details.append([f.message, since, checks, waiver])
        return len(self.details) - 1

    def _check(self, c: CheckResult) -> list[Any]:
        if isinstance(c.expected, str):
            said = self._sentences.get(c.expected)
            if said is None:
                said = self._sentences[c.expected] = labels.expected_text(c.expected)
        else:
            said = labels.expected_text(c.expected)
        shown = c.status is not Status.PASS
        return [
            self.check(c),
            _CODE[c.status],
            labels.value_text(c.observed) if shown else "",
            said[0],
            said[1],
            labels.origin_text(c),
            c.message,
            [self.string(e) for e in c.evidence] if shown else [],
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "hosts": self.hosts,
            "controls": self.controls,
            "checks": self.checks,
            "details": self.details,
            "s": self.strings,
            "f": self.flat.tolist(),
        }


def gather(run: Run, failing_before: frozenset[str] = frozenset()) -> tuple[Summary, Payload]:
    """Read the findings once and return the summary and the payload.

    Findings that fail now, or whose key failed in the previous run (``failing_before``), are kept
    in ``Summary.changed``: they are all that a diff with that run looks at.
    """
    gathering = Gathering(run, failing_before)
    reading.feed(run, [gathering])
    return gathering.summary, gathering.payload


class Gathering:
    """The summary and payload of a run as the findings go by (a ``reading.Reader``)."""

    def __init__(self, run: Run, failing_before: frozenset[str] = frozenset()) -> None:
        self.since_map: dict[str, str] = dict(run.envelope.get("open_since") or {})
        self.summary, self.payload = Summary(), Payload(run)
        self.today = run.started_at[:10]
        self.fail_on = run.fail_on.rank
        self.failing_before = failing_before

    def wanted(self, host: str, status: Status) -> bool:
        return True

    def add(self, host: str, status: Status, f: Finding | None) -> None:
        assert f is not None  # every finding is wanted
        summary = self.summary
        failed = status is Status.FAIL
        since = self.since_map.get(f.key, self.today) if failed else ""
        control = self.payload.add(f, since)
        if failed or (self.failing_before and f.key in self.failing_before):
            summary.changed.append(f)
        summary.counts[status] += 1
        summary.controls.setdefault(control, [0] * len(STATUSES))[_CODE[status]] += 1
        if status in _ASSESSED:
            cell = summary.area_zone.setdefault((f.area, f.zone), [0, 0])
            cell[0] += failed
            cell[1] += 1
        if failed:
            summary.blocking += f.severity.rank >= self.fail_on
            row = summary.severity.setdefault(f.severity, [0, set(), since])
            row[0] += 1
            row[1].add(f.host)
            row[2] = min(row[2], since)
            summary.oldest[control] = min(summary.oldest.get(control, since), since)


def age_days(since: str, today: str) -> int:
    """Return whole days from ``since`` to ``today`` (ISO dates), 0 when either is unreadable."""
    try:
        return (date.fromisoformat(today[:10]) - date.fromisoformat(since[:10])).days
    except ValueError:
        return 0
