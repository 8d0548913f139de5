"""例外措置 (waivers): load, validate, and apply to findings without ever hiding what they cannot.

A waiver turns a FAIL into WAIVED only while it is in force: approved on or before today,
unexpired, within the fiscal-year bound, approved by a role the profile names, for a waivable
control, and with its compensating controls passing on the same host. Otherwise the finding stays
FAIL and says why. A waiver cannot widen itself: an empty selector, or a zone the inventory does not
declare, is a load error.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from scanner.errors import LoadError
from scanner.inventory import Host
from scanner.policy import Applies, Pack, applies_from
from scanner.results import Finding, Status, WaiverRef
from scanner.yamlsrc import Node, load_yaml, validate


@dataclass(frozen=True)
class Waiver:
    """One approved, time-boxed exception."""

    id: str
    control: str
    host_names: tuple[str, ...]
    selector: Applies | None
    justification: str
    compensating: tuple[str, ...]
    requested_by: str
    approver: str
    approver_role: str
    approved_on: date
    expires: date
    ticket: str
    file: str
    line: int

    def covers(self, host: Host) -> bool:
        if self.selector is not None:
            return self.selector.matches(host)
        return any(fnmatch.fnmatchcase(host.name, pattern) for pattern in self.host_names)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "control": self.control,
            "hosts": list(self.host_names),
            "justification": self.justification,
            "compensating_controls": list(self.compensating),
            "requested_by": self.requested_by,
            "approved_by": {"name": self.approver, "role": self.approver_role},
            "approved_on": self.approved_on.isoformat(),
            "expires": self.expires.isoformat(),
            "ticket": self.ticket,
            "file": self.file,
        }


def fiscal_year_end(day: date) -> date:
    """Return 3月31日 of the fiscal year containing ``day`` (年度末)."""
    return date(day.year if day.month <= 3 else day.year + 1, 3, 31)


def _date(doc: Any, key: str, file: str) -> date:
    try:
        return date.fromisoformat(str(doc[key]))
    except ValueError:
        raise LoadError(file, doc.line_of(key), f"{key}: {doc[key]!r} is not a date (YYYY-MM-DD)") from None


def _check_selector(doc: Any, file: str, zones: Collection[str] | None) -> None:
    """Refuse selectors that would match more than they name: empty ones, and undeclared zones."""
    hosts = doc["hosts"]
    line = doc.line_of("hosts")
    if not isinstance(hosts, Node):
        if any(not str(h).strip() for h in hosts):
            raise LoadError(file, line, "hosts: an empty host name")
        return
    if not hosts:
        raise LoadError(file, line, "hosts: an empty selector would waive every host; name hosts or zones")
    for key, value in hosts.items():
        if not value:
            raise LoadError(file, hosts.line_of(key), f"hosts.{key}: empty; it would not narrow the waiver")
    for zone in hosts.get("zones", ()):
        if zones is not None and zone not in zones:
            known = ", ".join(sorted(zones)) or "none"
            raise LoadError(
                file,
                hosts.line_of("zones"),
                f"hosts.zones: {zone!r} is not a zone of the inventory ({known})",
            )


def load_waivers(folder: Path | None, pack: Pack, zones: Collection[str] | None = None) -> list[Waiver]:
    """Load every *.yaml in a folder; a malformed waiver is a load error (exit 2).

    ``zones`` are the inventory's zone names: a selector naming another zone is an error.
    """
    if folder is None or not folder.is_dir():
        return []
    waivers: list[Waiver] = []
    seen: dict[str, str] = {}
    all_ids = set(pack.controls)
    for path in sorted(folder.glob("*.y*ml")):
        file = str(path)
        doc = load_yaml(path)
        validate(doc, "waiver", path)
        if doc["id"] in seen:
            raise LoadError(
                file, doc.line_of("id"), f"duplicate waiver id {doc['id']!r} (also in {seen[doc['id']]})"
            )
        seen[doc["id"]] = file
        _check_selector(doc, file, zones)
        if doc["control"] not in all_ids:
            raise LoadError(file, doc.line_of("control"), f"unknown control {doc['control']!r}")
        for cid in doc.get("compensating_controls", []):
            if cid not in all_ids:
                raise LoadError(
                    file, doc.line_of("compensating_controls"), f"unknown compensating control {cid!r}"
                )
        approved_on, expires = _date(doc, "approved_on", file), _date(doc, "expires", file)
        if expires < approved_on:
            raise LoadError(file, doc.line_of("expires"), "expires is before approved_on")
        hosts = doc["hosts"]
        waivers.append(
            Waiver(
                id=str(doc["id"]),
                control=str(doc["control"]),
                host_names=tuple(hosts) if isinstance(hosts, list) else (),
                selector=applies_from(hosts) if isinstance(hosts, dict) else None,
                justification=str(doc["justification"]),
                compensating=tuple(doc.get("compensating_controls", [])),
                requested_by=str(doc.get("requested_by", "")),
                approver=str(doc["approved_by"]["name"]),
                approver_role=str(doc["approved_by"]["role"]),
                approved_on=approved_on,
                expires=expires,
                ticket=str(doc.get("ticket", "")),
                file=file,
                line=doc.line,
            )
        )
    return waivers


def approver_roles(pack: Pack) -> list[str]:
    """Return the role titles the profile allows to approve waivers (empty: nobody can)."""
    approver = pack.profile.roles.get("waiver_approver")
    allowed = approver if isinstance(approver, list) else [approver] if approver else []
    return [str(a).strip() for a in allowed if str(a).strip()]


def why_not(waiver: Waiver, pack: Pack, today: date, statuses: dict[str, Status]) -> str:
    """Return why a waiver does not apply on a host (empty string when it does)."""
    control = pack.controls[waiver.control]
    if not control.waivable:
        return f"{control.id} cannot be waived (waivable: false)"
    if today < waiver.approved_on:
        return (
            f"waiver {waiver.id} is approved on {waiver.approved_on.isoformat()}: not yet in force (承認日前)"
        )
    if today > waiver.expires:
        return f"waiver {waiver.id} lapsed on {waiver.expires.isoformat()} (期限切れ)"
    bound = fiscal_year_end(waiver.approved_on)
    if waiver.expires > bound:
        return f"waiver {waiver.id} expires {waiver.expires.isoformat()}, after the fiscal year end {bound.isoformat()}"
    allowed = approver_roles(pack)
    if not allowed:
        return "the profile names no waiver approver (roles.waiver_approver): no waiver can apply"
    if waiver.approver_role not in allowed:
        return f"approver role {waiver.approver_role!r} is not the profile's waiver approver ({', '.join(map(str, allowed))})"
    for cid in waiver.compensating:
        status = statuses.get(cid)
        if status is not Status.PASS:
            return f"compensating control {cid} is {status.value if status else 'not evaluated'} on this host"
    return ""


def apply(
    findings: list[Finding], hosts: dict[str, Host], waivers: list[Waiver], pack: Pack, today: date
) -> list[Finding]:
    """Return findings with waivers applied; failures whose waiver does not apply say why."""
    by_host: dict[str, dict[str, Status]] = {}
    for f in findings:
        by_host.setdefault(f.host, {})[f.control_id] = f.status
    out: list[Finding] = []
    for finding in findings:
        host = hosts.get(finding.host)
        match = next(
            (w for w in waivers if w.control == finding.control_id and host and w.covers(host)), None
        )
        if match is None or finding.status is not Status.FAIL:
            out.append(finding)
            continue
        reason = why_not(match, pack, today, by_host.get(finding.host, {}))
        ref = WaiverRef(
            match.id, not reason, reason, match.expires.isoformat(), match.approver, match.approver_role
        )
        if reason:
            out.append(replace(finding, waiver=ref, message=f"{finding.message}; {reason}".strip("; ")))
        else:
            out.append(replace(finding, status=Status.WAIVED, waiver=ref))
    return out


def summary(
    waivers: list[Waiver], findings: list[Finding], today: date | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Sort waivers into in force, lapsed (expired by ``today``), refused, and unused, for every report."""
    used: dict[str, list[WaiverRef]] = {}
    for f in findings:
        if f.waiver:
            used.setdefault(f.waiver.id, []).append(f.waiver)
    out: dict[str, list[dict[str, Any]]] = {"in_force": [], "lapsed": [], "not_applied": [], "unused": []}
    for w in waivers:
        refs = used.get(w.id, [])
        entry = w.to_json()
        entry["findings"] = len(refs)
        if today is not None and today > w.expires:
            entry["reason"] = f"lapsed on {w.expires.isoformat()} (期限切れ)"
            out["lapsed"].append(entry)
        elif today is not None and today < w.approved_on:
            entry["reason"] = f"approved on {w.approved_on.isoformat()}: not yet in force (承認日前)"
            out["not_applied"].append(entry)
        elif not refs:
            out["unused"].append(entry)
        elif all(r.applied for r in refs):
            out["in_force"].append(entry)
        else:
            entry["reason"] = next(r.reason for r in refs if not r.applied)
            out["not_applied"].append(entry)
    return out
