"""Cross-check the rules with the probes: every open path a probe saw needs a rule that permits it.

A probe path through a device that no rule of that device permits means another path exists (a
second router, a dual-homed host, a forgotten interface): a failure on the device's control. A
declared flow that no rule permits is reported too (the zone policy says it is needed).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from scanner.inventory import Inventory
from scanner.netdev import reach
from scanner.netdev.boxes import Box
from scanner.netdev.model import Device
from scanner.netdev.verdict import Pair
from scanner.probes.zonepolicy import ANY, ZonePolicy
from scanner.results import CheckResult, Finding, Status


def probe_results(findings: list[Finding]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Return the probe checks per zone pair: vantage, status, message and the open paths."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for finding in findings:
        if not finding.host.startswith("probes-"):
            continue
        for check in finding.checks:
            cid = check.check_id
            if not (cid.startswith("probe-") and cid.endswith("-blocked") and "-to-" in cid):
                continue
            source, _, dest = cid.removeprefix("probe-").removesuffix("-blocked").partition("-to-")
            paths = check.observed if check.status is Status.FAIL and isinstance(check.observed, list) else []
            out.setdefault((source, dest), []).append(
                {
                    "vantage": finding.host,
                    "control": finding.control_id,
                    "status": check.status.value,
                    "message": check.message[:300],
                    "paths": paths,
                }
            )
    return out


def _int(address: str) -> int | None:
    try:
        return int(ipaddress.IPv4Address(address))
    except ValueError:
        return None


def explain(device: Device, src: int, dst: int, proto: str, port: int) -> tuple[bool, str]:
    """Return whether the device is on the path of one packet, and the rule(s) permitting it ("" if none)."""
    s = reach.pieces(device, (src, src))
    d = reach.pieces(device, (dst, dst))
    if not s or not d or s[0][1] == d[0][1] or s[0][2] != d[0][2]:
        return False, ""
    atom = Box((src, src), (dst, dst), proto, (port, port))
    decided = [reach.decide(st, atom) for st in reach.stages(device, s[0][1], d[0][1])]
    if not all(ok for ok, _ in decided):
        return True, ""
    rules = [r for _, r in decided if r is not None]
    return True, " + ".join(f"{r.label()} ({device.where(r)})" for r in rules) or "(no filter)"


def probe_checks(
    device: Device, pairs: list[Pair], probes: dict[tuple[str, str], list[dict[str, Any]]]
) -> dict[str, list[CheckResult]]:
    """Return, per control, a failing check for each probe path through the device that no rule explains."""
    out: dict[str, list[CheckResult]] = {}
    for pair in pairs:
        unexplained = []
        for result in probes.get((pair.source, pair.dest), []):
            for path in result["paths"]:
                src, dst = _int(str(path.get("from_address", ""))), _int(str(path.get("to_address", "")))
                proto, _, port = str(path.get("port", "")).partition("/")
                if src is None or dst is None or not port.isdigit():
                    continue
                on_path, rule = explain(device, src, dst, proto, int(port))
                path["explained_by"] = path.get("explained_by", []) + (
                    [f"{device.name} {rule}"] if rule else []
                )
                if on_path and not rule:
                    unexplained.append(path)
        if unexplained and pair.control:
            text = "; ".join(
                f"probe saw {p['from_address']} → {p.get('to', '')} ({p['to_address']}) {p['port']} {p.get('state', '')} "
                f"but no rule on {device.name} permits it: open but no rule found — another path exists"
                for p in unexplained[:10]
            )
            cid = f"netdev-{pair.source}-to-{pair.dest}-probes-explained".replace("_", "-")
            check = CheckResult(
                cid,
                Status.FAIL,
                "プローブで開いていた通信を許可するルールがある",
                "Every path the probes found open is permitted by a rule",
                unexplained,
                "a permitting rule for each open path",
                text,
            )
            out.setdefault(pair.control, []).append(check)
    return out


def missing_rules(
    device: Device, pairs: list[Pair], policy: ZonePolicy, inventory: Inventory
) -> list[dict[str, Any]]:
    """Return the declared flows between zones the device connects that none of its rules permits."""
    out = []
    for flow in policy.flows:
        sources = _zones(flow.source.zone, flow.source.host, inventory)
        dests = _zones(flow.dest.zone, flow.dest.host, inventory)
        for pair in pairs:
            if (
                pair.source in sources
                and pair.dest in dests
                and not any(flow.id in f["why"].split(",") for f in pair.flows)
            ):
                out.append(
                    {
                        "flow": flow.id,
                        "from_zone": pair.source,
                        "to_zone": pair.dest,
                        "ports": list(flow.ports),
                        "device": device.name,
                        "note": f"declared flow {flow.id} ({flow.file}:{flow.line}) has no permitting rule on {device.name}",
                    }
                )
    return out


def _zones(zone: str, host: str, inventory: Inventory) -> set[str]:
    if host:
        found = inventory.host(host)
        return {found.zone} if found else set()
    return set(inventory.zones) if zone == ANY else {zone}
