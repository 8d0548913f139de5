"""What a scan calls for its network devices: NET findings from their rules and the zone-pair table.

``scan_devices`` takes the ``os: network`` hosts: it parses each device's collected
configuration (scanner/netdev/device.py), judges what its rules permit between the zones
(verdict.py), compares that with what the probes saw (crosscheck.py) and returns findings replacing the
engine's NET findings of those hosts, plus the per-zone-pair table the HTML report shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scanner.errors import LoadError
from scanner.inventory import Host, Inventory
from scanner.netdev import crosscheck, device, findings, reach, verdict
from scanner.netdev.model import Device
from scanner.policy import Pack
from scanner.probes.zonefile import for_inventory
from scanner.rawfacts import RawFacts
from scanner.results import Finding, Status

__all__ = ["check_inventory", "scan_devices"]


def check_inventory(inventory: Inventory) -> None:
    """Raise LoadError when a network device names no vendor kijun reads (before any host is touched)."""
    for host in inventory.hosts:
        if host.os == "network" and device.vendor(host) not in device.PARSERS:
            raise LoadError(
                str(inventory.path),
                host.line,
                f"host {host.name}: os network needs vars.vendor, one of {', '.join(device.PARSERS)} "
                f"(got {device.vendor(host)!r})",
            )


def scan_devices(
    inventory: Inventory,
    pack: Pack,
    zone_policy: str,
    collected: Sequence[tuple[Host, RawFacts | None, str]],
    probed: list[Finding],
) -> tuple[list[Finding], dict[str, Any]]:
    """Return the NET findings of the network devices and their table (zone pairs: rules beside probes).

    ``collected`` holds each device host, its raw facts (None when not collected) and why not.
    """
    hosts = [(h, raw, why) for h, raw, why in collected if h.os == "network"]
    if not hosts:
        return [], {}
    try:
        policy = for_inventory(inventory, Path(zone_policy) if zone_policy else None, pack)
    except LoadError as exc:  # reached only with --no-probe (the CLI checks it before the scan otherwise)
        return [
            f for h, _, _ in hosts for f in findings.failed(h, pack, Status.ERROR, f"zone policy: {exc}")
        ], {}
    probes = crosscheck.probe_results(probed)
    out: list[Finding] = []
    rows: list[dict[str, Any]] = []
    summaries: list[dict[str, Any]] = []
    for host, raw, why in hosts:
        if raw is None:
            out += findings.failed(host, pack, Status.UNREACHABLE, why or "device not collected")
            continue
        try:
            model = device.parse(raw, host)
            pairs = verdict.judge(model, inventory, policy)
        except (ValueError, IndexError) as exc:
            out += findings.failed(host, pack, Status.ERROR, f"configuration not assessed: {exc}")
            continue
        extra = crosscheck.probe_checks(model, pairs, probes)
        out += findings.for_device(host, pack, model, pairs, extra)
        table = findings.table(model, pairs, probes)
        missing = crosscheck.missing_rules(model, pairs, policy, inventory)
        for row in table:
            row["declared_without_rule"] = [
                m for m in missing if (m["from_zone"], m["to_zone"]) == (row["from_zone"], row["to_zone"])
            ]
        rows += table
        summaries.append(summary(model, pairs))
    return out, {"pairs": rows, "devices": summaries} if rows or summaries else {}


def summary(model: Device, pairs: list[verdict.Pair]) -> dict[str, Any]:
    """Return what a device's rules look like as a whole: shadowed, unused and disabled rules, notes."""
    used = {line for pair in pairs for flow in pair.flows for line in flow["lines"]}
    rules = [r for s in model.rulesets.values() for r in s.rules]
    covered = reach.shadowed(model)
    shadowed = {r.line for r, _ in covered}
    return {
        "device": model.name,
        "vendor": model.vendor,
        "shadowed": [
            {
                "rule": r.label(),
                "where": model.where(r),
                "covered_by": e.label() if e else "several earlier rules",
            }
            for r, e in covered
        ],
        "unused": [
            {"rule": r.label(), "where": model.where(r)}
            for r in rules
            if r.enabled and r.action == "permit" and r.line not in used and r.line not in shadowed
        ],
        "disabled": [{"rule": r.label(), "where": model.where(r)} for r in rules if not r.enabled],
        "notes": [{"line": n.line, "text": n.text, "why": n.why} for n in model.notes],
    }
