"""Statuses, severities, findings and the Run: the records every reporter reads.

The canonical results JSON is ``Run.to_json()``; its schema is scanner/schemas/results.schema.json.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scanner.inventory import Host


class Status(str, Enum):
    """The outcome of a check or a control on one host. Only PASS means compliant."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    UNREACHABLE = "unreachable"
    NOT_APPLICABLE = "not_applicable"
    WAIVED = "waived"
    MANUAL = "manual"

    @property
    def label_ja(self) -> str:
        return _STATUS_JA[self]


_STATUS_JA = {
    Status.PASS: "適合",
    Status.FAIL: "不適合",
    Status.ERROR: "エラー",
    Status.UNREACHABLE: "未到達",
    Status.NOT_APPLICABLE: "対象外",
    Status.WAIVED: "例外措置",
    Status.MANUAL: "要確認(手動)",
}


class Severity(str, Enum):
    """How bad a failure is; ``--fail-on`` compares against this order."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


ASSESSED = frozenset({Status.PASS, Status.FAIL, Status.WAIVED, Status.NOT_APPLICABLE, Status.MANUAL})


@dataclass(frozen=True)
class CheckResult:
    """One technical check evaluated on one host."""

    check_id: str
    status: Status
    title_ja: str = ""
    title_en: str = ""
    observed: Any = None
    expected: Any = None
    message: str = ""
    evidence: tuple[str, ...] = ()  # raw-fact item ids
    origin: dict[str, Any] | None = None  # {"file", "line"} where the fact that decided the check was set

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check_id,
            "status": self.status.value,
            "title": {"ja": self.title_ja, "en": self.title_en},
            "observed": self.observed,
            "expected": self.expected,
            "message": self.message,
            "evidence": list(self.evidence),
            "origin": dict(self.origin) if self.origin is not None else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckResult:
        """Rebuild a CheckResult from its ``to_json()`` form."""
        return cls(
            check_id=data["check"],
            status=Status(data["status"]),
            title_ja=data["title"]["ja"],
            title_en=data["title"]["en"],
            observed=data["observed"],
            expected=data["expected"],
            message=data["message"],
            evidence=tuple(data["evidence"]),
            origin=dict(data["origin"]) if data.get("origin") else None,
        )


def flat_json(record: Any) -> dict[str, Any]:
    """Return a dataclass of plain values as JSON: each field under its own name, in order."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


@dataclass(frozen=True)
class WaiverRef:
    """The 例外措置 that touched a finding, and whether it applied."""

    id: str
    applied: bool
    reason: str = ""
    expires: str = ""
    approved_by: str = ""
    approver_role: str = ""

    def to_json(self) -> dict[str, Any]:
        return flat_json(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WaiverRef:
        """Rebuild a WaiverRef from its ``to_json()`` form."""
        return cls(**{f.name: data[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class Finding:
    """The result of one control on one host."""

    host: str
    control_id: str
    status: Status
    severity: Severity
    area: str
    title_ja: str
    title_en: str
    zone: str = ""
    role: str = ""
    owner: str = ""
    message: str = ""
    checks: tuple[CheckResult, ...] = ()
    citations: tuple[dict[str, str], ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    remediation_ja: str = ""
    remediation_en: str = ""
    waiver: WaiverRef | None = None
    attestation: str = ""  # for manual controls: what must be attested
    attested: dict[str, Any] | None = None  # the 自己点検 answer that decided a manual control

    @property
    def key(self) -> str:
        return f"{self.host}/{self.control_id}"

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "control": self.control_id,
            "status": self.status.value,
            "severity": self.severity.value,
            "area": self.area,
            "title": {"ja": self.title_ja, "en": self.title_en},
            "zone": self.zone,
            "role": self.role,
            "owner": self.owner,
            "message": self.message,
            "checks": [c.to_json() for c in self.checks],
            "citations": [dict(c) for c in self.citations],
            "params": self.params,
            "remediation": {"ja": self.remediation_ja, "en": self.remediation_en},
            "waiver": self.waiver.to_json() if self.waiver else None,
            "attestation": self.attestation,
            "attested": self.attested,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        """Rebuild a Finding from its ``to_json()`` form."""
        return cls(
            host=data["host"],
            control_id=data["control"],
            status=Status(data["status"]),
            severity=Severity(data["severity"]),
            area=data["area"],
            title_ja=data["title"]["ja"],
            title_en=data["title"]["en"],
            zone=data["zone"],
            role=data["role"],
            owner=data["owner"],
            message=data["message"],
            checks=tuple(CheckResult.from_json(c) for c in data["checks"]),
            citations=tuple(dict(c) for c in data["citations"]),
            params=dict(data["params"]),
            remediation_ja=data["remediation"]["ja"],
            remediation_en=data["remediation"]["en"],
            waiver=WaiverRef.from_json(data["waiver"]) if data["waiver"] else None,
            attestation=data["attestation"],
            attested=data.get("attested"),
        )


@dataclass(frozen=True)
class HostResult:
    """How collection went for one host."""

    name: str
    zone: str
    role: str
    transport: str
    status: str  # "assessed" | "unreachable" | "error"
    message: str = ""
    address: str = ""
    owner: str = ""
    collected_at: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    evidence_file: str = ""

    @classmethod
    def of(cls, host: Host, status: str, **rest: Any) -> HostResult:
        """Return the result of an inventory host: its name, zone, role, transport, address and owner."""
        return cls(
            host.name,
            host.zone,
            host.role,
            host.transport,
            status,
            address=host.address,
            owner=host.owner,
            **rest,
        )

    @property
    def assessed(self) -> bool:
        return self.status == "assessed"

    def to_json(self) -> dict[str, Any]:
        return flat_json(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HostResult:
        """Rebuild a HostResult from its ``to_json()`` form."""
        return cls(**{f.name: data[f.name] for f in fields(cls)})


@dataclass
class Tally:
    """What the summary of a run needs from its findings, gathered in one pass."""

    counts: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in Status})
    fails: list[Finding] = field(default_factory=list)
    unassessed: int = 0  # findings in error or unreachable

    def add(self, finding: Finding) -> None:
        self.counts[finding.status.value] += 1
        if finding.status is Status.FAIL:
            self.fails.append(finding)
        elif finding.status in (Status.ERROR, Status.UNREACHABLE):
            self.unassessed += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> Tally:
        out = cls()
        for f in findings:
            out.add(f)
        return out


@dataclass(frozen=True)
class Run:
    """One scan: the envelope and its findings."""

    run_id: str
    started_at: str
    finished_at: str
    mode: str
    scanner_version: str
    inventory: str
    profile: str
    municipality: dict[str, str]
    fail_on: Severity
    hosts: tuple[HostResult, ...]
    findings: Collection[Finding]  # a tuple, or a FindingLog read lazily from findings.jsonl
    envelope: dict[str, Any] = field(default_factory=dict)  # hashes, operator, scope, time sync

    def coverage(self) -> dict[str, int | float]:
        """Return hosts in scope, hosts assessed and their ratio (never counts the unassessed as pass)."""
        total = len(self.hosts)
        assessed = sum(1 for h in self.hosts if h.assessed)
        return {
            "in_scope": total,
            "assessed": assessed,
            "ratio": round(assessed / total, 4) if total else 0.0,
        }

    @property
    def tally(self) -> Tally:
        """Counts and failures in one pass (kept by a FindingLog, recomputed over a tuple)."""
        kept = getattr(self.findings, "tally", None)
        return kept if isinstance(kept, Tally) else Tally.of(self.findings)

    def counts(self) -> dict[str, int]:
        return dict(self.tally.counts)

    def failed(self) -> list[Finding]:
        """Return failures at or above the fail-on severity."""
        return [f for f in self.tally.fails if f.severity.rank >= self.fail_on.rank]

    def incomplete(self) -> bool:
        return any(not h.assessed for h in self.hosts) or self.tally.unassessed > 0

    def exit_code(self, allow_incomplete: bool = False) -> int:
        """0 clean, 1 a failure at or above fail-on, 3 incomplete with nothing failed."""
        if self.failed():
            return 1
        if self.incomplete() and not allow_incomplete:
            return 3
        return 0

    def head(self) -> dict[str, Any]:
        """Return the run's identity, coverage and counts (what envelope.json repeats)."""
        return {
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "mode": self.mode,
            "scanner_version": self.scanner_version,
            "inventory": self.inventory,
            "profile": self.profile,
            "municipality": self.municipality,
            "fail_on": self.fail_on.value,
            "coverage": self.coverage(),
            "counts": self.counts(),
        }

    def to_json(self) -> dict[str, Any]:
        """Return the whole run as one document (kijun/results/v1); run folders hold the compact v2."""
        head = self.head()
        coverage, counts = head.pop("coverage"), head.pop("counts")
        return {
            "schema": "kijun/results/v1",
            **head,
            "envelope": self.envelope,
            "coverage": coverage,
            "counts": counts,
            "hosts": [h.to_json() for h in self.hosts],
            "findings": [f.to_json() for f in self.findings],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Run:
        """Rebuild a Run from the canonical results JSON; coverage and counts are recomputed, not read."""
        if data.get("schema") != "kijun/results/v1":
            raise ValueError(f"not a kijun results document: schema {data.get('schema')!r}")
        hosts = tuple(HostResult.from_json(h) for h in data["hosts"])
        return cls.from_head(data, hosts, tuple(Finding.from_json(f) for f in data["findings"]))

    @classmethod
    def from_head(
        cls, data: dict[str, Any], hosts: tuple[HostResult, ...], findings: Collection[Finding]
    ) -> Run:
        """Rebuild a Run from the head and envelope of a results document, with its hosts and findings."""
        return cls(
            run_id=data["run_id"],
            started_at=data["started_at"],
            finished_at=data["finished_at"],
            mode=data["mode"],
            scanner_version=data["scanner_version"],
            inventory=data["inventory"],
            profile=data["profile"],
            municipality=dict(data["municipality"]),
            fail_on=Severity(data["fail_on"]),
            hosts=hosts,
            findings=findings,
            envelope=dict(data["envelope"]),
        )
