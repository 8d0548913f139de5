"""A control's finding on a host, with its citations, parameters in force and remediation."""

from __future__ import annotations

from typing import Any

from scanner.inventory import Host
from scanner.policy import Control, Pack
from scanner.results import Finding, Status

GUIDELINE = "総務省 地方公共団体における情報セキュリティポリシーに関するガイドライン"


def citations(control: Control, pack: Pack) -> tuple[dict[str, str], ...]:
    """Return a control's citations: the guideline article, then the profile's own."""
    guideline = ({"doc": GUIDELINE, "article": control.guideline},) if control.guideline else ()
    return guideline + pack.profile.citations.get(control.id, ())


def control_finding(control: Control, host: Host, pack: Pack, status: Status, **extra: Any) -> Finding:
    """Return a finding of a control on a host with its citations, parameters and remediation."""
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
        citations=citations(control, pack),
        params=pack.params_for(control, host.zone, host.role),
        remediation_ja=control.remediation_ja,
        remediation_en=control.remediation_en,
        attestation=(
            control.attestation_ja + (" / " + control.attestation_en if control.attestation_en else "")
        )
        if control.manual
        else "",
        **extra,
    )
