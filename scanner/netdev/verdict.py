"""Judge a device's permitted flows against the zone policy: per ordered zone pair, what opens what, and what breaks.

A permitted flow between two zones is a violation when the control judging the pair (the zone
policy's ``judged_by``) has no declared flow covering it, and always when it is permitted by an
any/all rule or by no filter at all. Zone-policy flows are TCP ports; anything else between
judged zones is undeclared. Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from scanner.inventory import Inventory
from scanner.netdev import model, reach
from scanner.netdev.boxes import Box, intersect, subtract
from scanner.netdev.model import Device, Range, merge, ports_text, range_text
from scanner.probes.zonepolicy import ANY, OUTSIDE, Endpoint, ZonePolicy


@dataclass
class Pair:
    """What one device lets through from one zone to another, judged."""

    source: str
    dest: str
    control: str
    connected: bool
    flows: list[dict[str, Any]] = field(default_factory=list)  # every permitted flow, grouped by rule
    violations: list[dict[str, Any]] = field(default_factory=list)


def zone_ranges(inventory: Inventory) -> dict[str, list[Range]]:
    """Return each zone's IPv4 intervals, and ``outside``: every address in no zone."""
    out: dict[str, list[Range]] = {}
    for name, zone in inventory.zones.items():
        nets = [ipaddress.ip_network(c, strict=False) for c in zone.cidrs]
        out[name] = merge([model.network(str(n)) for n in nets if n.version == 4])
    taken = merge([r for rs in out.values() for r in rs])
    rest: list[Range] = []
    start = 0
    for lo, hi in taken:
        if lo > start:
            rest.append((start, lo - 1))
        start = hi + 1
    if start <= model.ALL_ADDRESSES[1]:
        rest.append((start, model.ALL_ADDRESSES[1]))
    out[OUTSIDE] = rest
    return out


def _address(inventory: Inventory, name: str) -> Range | None:
    host = inventory.host(name)
    try:
        value = int(ipaddress.IPv4Address(host.address)) if host else None
    except ValueError:
        value = None
    return (value, value) if value is not None else None


def _end(end: Endpoint, zone: str, zones: dict[str, list[Range]], inventory: Inventory) -> list[Range]:
    """Return the addresses of a flow endpoint inside one zone (a host, or the whole zone)."""
    if end.host:
        found = _address(inventory, end.host)
        return [found] if found else []
    if end.zone == zone or (end.zone == ANY and zone != OUTSIDE):
        return zones[zone]
    return []


def declared(
    policy: ZonePolicy, inventory: Inventory, zones: dict[str, list[Range]], source: str, dest: str
) -> list[tuple[Box, str]]:
    """Return the boxes the zone policy declares from one zone to another, with the flow ids."""
    out: list[tuple[Box, str]] = []
    if dest == OUTSIDE:  # the declared proxy is the one way out (any protocol, any port)
        for name, _ in policy.proxies:
            found = _address(inventory, name)
            if found:
                out += [
                    (Box(found, r, proto, model.ALL_PORTS), "egress-proxy")
                    for r in zones[OUTSIDE]
                    for proto in model.PROTOCOLS
                ]
    for flow in policy.flows:
        srcs, dsts = _end(flow.source, source, zones, inventory), _end(flow.dest, dest, zones, inventory)
        ports = merge([(p, p) for p in flow.ports])
        out += [(Box(s, d, "tcp", p), flow.id) for s in srcs for d in dsts for p in ports]
    return out


def label(box: Box, flows: list[tuple[Box, str]]) -> list[tuple[Box, str]]:
    """Split a permitted box into the parts each declared flow covers and the rest ("")."""
    todo, out = [box], []
    for cover, flow in flows:
        left = []
        for part in todo:
            inside = intersect(part, cover)
            if inside is None:
                left.append(part)
                continue
            out.append((inside, flow))
            left += subtract(part, cover)
        todo = left
    return out + [(part, "") for part in todo]


def _service(protos: dict[str, list[Range]]) -> str:
    if set(protos) == set(model.PROTOCOLS) and all(
        merge(p) == [model.ALL_PORTS] for k, p in protos.items() if k in ("tcp", "udp")
    ):
        return "all"
    return ", ".join(
        f"{k}/{ports_text(merge(p))}" if k in ("tcp", "udp") else k for k, p in sorted(protos.items())
    )


def _addr(ranges: list[Range]) -> str:
    merged = merge(ranges)
    if len(merged) > 3:
        return f"{len(merged)} ranges from {range_text(merged[0]).split(',')[0]} to {range_text(merged[-1]).split(',')[-1].strip()}"
    return ", ".join(range_text(r) for r in merged)


def _group(device: Device, permits: list[tuple[Box, reach.Permit, str]]) -> list[dict[str, Any]]:
    """Group atoms by the rules that permit them into readable flows (rule, file:line, src, dst, service)."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for box, permit, why in permits:
        key = (tuple(r.id for r in permit.rules), permit.open_stages, permit.via, why)
        group = groups.setdefault(
            key,
            {
                "rules": permit.rules,
                "open": permit.open_stages,
                "why": why,
                "src": [],
                "dst": [],
                "protos": {},
                "via": permit.via,
            },
        )
        group["src"].append(box.src)
        group["dst"].append(box.dst)
        group["protos"].setdefault(box.proto, []).append(box.ports)
    out = []
    for g in groups.values():
        rules = g["rules"]
        named = " + ".join(r.label() for r in rules)
        unfiltered = f"no filter on {', '.join(g['open'])}" if g["open"] and not rules else ""
        out.append(
            {
                "device": device.name,
                "rule": " + ".join(x for x in (named, unfiltered) if x),
                "where": ", ".join(device.where(r) for r in rules) or device.file,
                "lines": [r.line for r in rules],
                "via": f"{g['via'][0]} → {g['via'][1]}",
                "unfiltered": list(g["open"]),
                "src": _addr(g["src"]),
                "dst": _addr(g["dst"]),
                "service": _service(g["protos"]),
                "why": g["why"],
                "schedule": ", ".join(sorted({r.schedule for r in rules if r.schedule != "always"})),
            }
        )
    return sorted(out, key=lambda f: (f["lines"] or [0], f["service"]))


def judge(device: Device, inventory: Inventory, policy: ZonePolicy) -> list[Pair]:
    """Return every ordered zone pair the device connects, with its permitted flows and violations."""
    zones = zone_ranges(inventory)
    out: list[Pair] = []
    _unrouted(device, zones)
    for source in sorted(z for z in zones if z != OUTSIDE):
        for dest in sorted(zones):
            if dest == source or not zones[source] or not zones[dest]:
                continue
            permits, connected = reach.permitted(device, zones[source], zones[dest])
            if not connected:
                continue
            control = policy.control_for(source, dest)
            flows = declared(policy, inventory, zones, source, dest)
            judged: list[tuple[Box, reach.Permit, str]] = []
            bad: list[tuple[Box, reach.Permit, str]] = []
            for permit in permits:
                unfiltered = not permit.rules
                # any/all rules are always findings between two separated zones (the proxy's egress
                # to "outside" needs destination all, so it is judged by its declared flow only).
                broad = unfiltered or (dest != OUTSIDE and any(r.broad for r in permit.rules))
                for part, flow in label(permit.box, flows):
                    judged.append((part, permit, flow or ("undeclared" if control else "not judged")))
                    if control and (broad or not flow):
                        bad.append((part, permit, _breaks(source, dest, control, unfiltered, broad)))
            pair = Pair(source, dest, control, connected, _group(device, judged), _group(device, bad))
            for v in pair.violations:
                v.update({"from_zone": source, "to_zone": dest, "control": control})
            out.append(pair)
    return out


def _unrouted(device: Device, zones: dict[str, list[Range]]) -> None:
    """With dynamic routing, a zone no connected or static route reaches is not assessed (never skipped)."""
    if not any(n.why == model.DYNAMIC for n in device.notes):
        return
    for zone, ranges in sorted(zones.items()):
        if zone != OUTSIDE and ranges and not any(reach.pieces(device, r) for r in ranges):
            device.unparsed.append(
                model.Note(
                    0,
                    f"zone {zone}",
                    "reached by no connected or static route; routes learnt by "
                    "dynamic routing are not in the configuration",
                )
            )


def _breaks(source: str, dest: str, control: str, unfiltered: bool, broad: bool) -> str:
    entry = f"zone policy judged_by {source} → {dest}: {control}"
    if unfiltered:
        return f"no filter at all on this path; {entry}"
    if broad:
        return f"an any/all rule between separated zones; {entry}"
    return f"no declared flow covers it; {entry}"


def describe(v: dict[str, Any]) -> str:
    """Return one violation as a sentence naming the device, the rule, the flow and what it breaks."""
    return (
        f"{v['device']} {v['rule']} ({v['where']}) permits {v['from_zone']} {v['src']} → "
        f"{v['to_zone']} {v['dst']} {v['service']}: {v['why']}"
    )
