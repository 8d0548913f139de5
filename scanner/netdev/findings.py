"""Findings of network devices: NET-01/02/03 (and whatever the zone policy's judged_by names) from their rules.

One finding per control on the device host (``os: network``), with one check per zone pair the
device connects, naming each rule that opens an undeclared flow. A device whose configuration was
not collected, not parsed or partly not understood is never a pass: unreachable or error (a
failure found in the understood part still fails).
"""

from __future__ import annotations

from typing import Any

from scanner.engine import combine, control_finding
from scanner.inventory import Host
from scanner.netdev.model import Device
from scanner.netdev.verdict import Pair, describe
from scanner.policy import Pack
from scanner.results import CheckResult, Finding, Status

CONTROLS = ("NET-01", "NET-02", "NET-03")  # what a device is judged on when nothing can be judged
SHOWN = 10


def _pair_check(pair: Pair) -> CheckResult:
    cid = f"netdev-{pair.source}-to-{pair.dest}-rules-declared".replace("_", "-")
    ja = f"{pair.source}から{pair.dest}へ宣言外の通信を許可するルールがない"
    en = f"No rule permits an undeclared flow from {pair.source} to {pair.dest}"
    expected = "only flows declared in the zone policy, by rules narrower than any/all"
    if pair.violations:
        text = "; ".join(describe(v) for v in pair.violations[:SHOWN])
        more = f"; and {len(pair.violations) - SHOWN} more" if len(pair.violations) > SHOWN else ""
        return CheckResult(cid, Status.FAIL, ja, en, pair.violations, expected, text + more)
    return CheckResult(cid, Status.PASS, ja, en, pair.flows, expected, "")


def _understood(device: Device) -> CheckResult | None:
    if not device.unparsed:
        return None
    shown = "; ".join(f"{device.file}:{n.line}: {n.text} ({n.why})" for n in device.unparsed[:SHOWN])
    observed = [{"line": n.line, "text": n.text, "why": n.why} for n in device.unparsed]
    message = f"not assessed: {len(device.unparsed)} line(s) not understood: {shown}"
    return CheckResult(
        "netdev-config-understood",
        Status.ERROR,
        "設定がすべて解釈できた",
        "Every rule-relevant line is understood",
        observed,
        "no line left out",
        message,
    )


def for_device(
    host: Host, pack: Pack, device: Device, pairs: list[Pair], extra: dict[str, list[CheckResult]]
) -> list[Finding]:
    """Return the device's findings: per control, its zone-pair checks (plus cross-checks in ``extra``)."""
    by_control: dict[str, list[CheckResult]] = {}
    for pair in pairs:
        if pair.control in pack.controls:
            by_control.setdefault(pair.control, []).append(_pair_check(pair))
    for cid, checks in extra.items():
        by_control.setdefault(cid, []).extend(checks)
    understood = _understood(device)
    if not pairs:
        why = (
            f"no two interfaces of {device.name} face zones of the inventory "
            f"(interfaces: {', '.join(device.interfaces) or 'none'}): its rules were not judged"
        )
        return failed(host, pack, Status.ERROR, why)
    out = [
        control_finding(
            pack.controls[cid],
            host,
            pack,
            Status.NOT_APPLICABLE,
            message=f"{device.name} connects no zone pair that {cid} judges",
        )
        for cid in CONTROLS
        if cid in pack.controls and cid not in by_control
    ]
    for cid in sorted(by_control):
        checks = by_control[cid] + ([understood] if understood else [])
        status = combine(checks)
        message = "; ".join(c.message for c in checks if c.status is status and c.message)
        out.append(
            control_finding(pack.controls[cid], host, pack, status, checks=tuple(checks), message=message)
        )
    return out


def failed(host: Host, pack: Pack, status: Status, why: str) -> list[Finding]:
    """Return the device's NET findings when its rules could not be judged (never pass)."""
    return [
        control_finding(pack.controls[c], host, pack, status, message=why)
        for c in CONTROLS
        if c in pack.controls
    ]


def replace(findings: list[Finding], device: list[Finding], hosts: set[str]) -> list[Finding]:
    """Return the findings with the engine's NET findings of device hosts replaced by the rule-based ones."""
    judged = {(f.host, f.control_id) for f in device}
    kept = [f for f in findings if (f.host, f.control_id) not in judged]
    return kept + device


def table(
    device: Device, pairs: list[Pair], probes: dict[tuple[str, str], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Return, per zone pair, the rules and the probe results side by side (the data the HTML report shows)."""
    out = []
    for pair in pairs:
        out.append(
            {
                "device": device.name,
                "vendor": device.vendor,
                "from_zone": pair.source,
                "to_zone": pair.dest,
                "control": pair.control,
                "rules": pair.flows,
                "violations": len(pair.violations),
                "probes": probes.get((pair.source, pair.dest), []),
            }
        )
    return out
