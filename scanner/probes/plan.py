"""Plan one vantage's probe: which targets and ports the matrix needs, and which CIDRs to sweep.

Targets are the inventory hosts in every zone whose traffic from the vantage's zone a control
judges, the canaries when a control judges egress, and witnesses: up to five hosts of the
vantage's own zone, the declared proxy, and the ends of allowed flows. A witness must answer,
or "everything filtered" could mean only that the vantage reaches nothing. Every target is
scanned on every planned port (one nmap run per vantage: one port list).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from scanner.inventory import Host, Inventory
from scanner.policy import Pack
from scanner.probes.vantage import Vantage
from scanner.probes.zonepolicy import OUTSIDE, ZonePolicy

SAME_ZONE_WITNESSES = 5


@dataclass(frozen=True)
class Target:
    """One address the probe connects to."""

    address: str
    name: str  # inventory host name, or the canary's label
    zone: str  # inventory zone, or "outside"
    judged_by: str = ""  # the control judging vantage zone → this zone ("" for a pure witness)
    witness: bool = False


@dataclass
class Plan:
    """Everything one vantage's probe does, and what it is for."""

    targets: list[Target] = field(default_factory=list)
    unprobed: list[tuple[Target, str]] = field(default_factory=list)  # (target, why it cannot be)
    ports: list[int] = field(default_factory=list)
    sweep: list[str] = field(default_factory=list)  # CIDRs of the vantage's zone (INV-01)
    judged: dict[str, set[str]] = field(default_factory=dict)  # control -> destination zones

    def to_json(self) -> dict[str, object]:
        return {
            "targets": [t.__dict__ for t in self.targets],
            "unprobed": [{**t.__dict__, "why": why} for t, why in self.unprobed],
            "ports": self.ports,
            "sweep": self.sweep,
            "judged": {c: sorted(z) for c, z in sorted(self.judged.items())},
        }


def _ipv4(address: str) -> str:
    """Return the address when it is an IPv4 literal ("" otherwise: names and IPv6 are not probed yet)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    return str(ip) if ip.version == 4 else ""


def _declared_tcp(host: Host) -> set[int]:
    """Return the tcp ports the inventory declares the host offers (vars.allowed_ports: tcp/NNN)."""
    out = set()
    for entry in host.vars.get("allowed_ports", []) or []:
        proto, _, port = str(entry).partition("/")
        if proto == "tcp" and port.isdigit() and 0 < int(port) < 65536:
            out.add(int(port))
    return out


def plan_for(vantage: Vantage, policy: ZonePolicy, inventory: Inventory, pack: Pack) -> Plan:
    """Return the probe plan of one vantage.

    >>> plan_for(vantage, policy, inventory, pack).ports[:3]  # doctest: +SKIP
    [21, 22, 23]
    """
    plan = Plan()
    ports = {int(p) for p in policy.probe["ports"]}
    own = set(vantage.addresses)
    me = vantage.host.name if vantage.host else ""
    proxies = {name: port for name, port in policy.proxies}
    same_zone = 0

    def add(target: Target) -> None:
        if target.address:
            plan.targets.append(target)
        else:
            plan.unprobed.append(
                (target, "its address is not an IPv4 literal (names and IPv6 are not probed)")
            )

    for host in sorted(inventory.hosts, key=lambda h: h.name):
        if host.name == me or host.address in own:
            continue
        address = _ipv4(host.address)
        control = policy.control_for(vantage.zone, host.zone)
        control = control if control in pack.controls else ""
        # Ports a declared flow allows from this vantage to this host: they must answer (witnesses).
        flows = {
            p
            for f in policy.flows
            for p in f.ports
            if policy.allowed(me, vantage.zone, host.name, host.zone, p)
        }
        if control:
            plan.judged.setdefault(control, set()).add(host.zone)
            add(Target(address, host.name, host.zone, control, witness=bool(flows)))
            ports |= _declared_tcp(host) | flows
        elif host.name in proxies and host.zone == vantage.zone:
            add(Target(address, host.name, host.zone, witness=True))
            ports.add(proxies[host.name])
        elif host.zone == vantage.zone and same_zone < SAME_ZONE_WITNESSES and address:
            same_zone += 1
            add(Target(address, host.name, host.zone, witness=True))
        elif flows and address:
            add(Target(address, host.name, host.zone, witness=True))
            ports |= flows
    egress = policy.control_for(vantage.zone, OUTSIDE)
    if egress in pack.controls:
        plan.judged.setdefault(egress, set()).add(OUTSIDE)
        for canary in policy.canaries:
            add(Target(_ipv4(canary.address), canary.label or canary.address, OUTSIDE, egress))
            ports |= set(canary.ports)
    if policy.probe["sweep"] and vantage.sweep and "INV-01" in pack.controls:
        zone = inventory.zones.get(vantage.zone)
        plan.sweep = [
            c for c in (zone.cidrs if zone else ()) if ipaddress.ip_network(c, strict=False).version == 4
        ]
    plan.ports = sorted(ports)
    return plan
