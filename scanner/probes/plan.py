"""Plan one vantage's probe: which addresses and ports the runs need, and which CIDRs to sweep.

Targets are every address of the inventory hosts in every zone whose traffic from the vantage's
zone a control judges (the inventory address, ``vars.addresses`` and every routable address in
the host's collected facts, IPv4 and IPv6), the canaries when a control judges egress, and
witnesses: up to five hosts of the vantage's own zone, the declared proxy, and the ends of
allowed flows. A witness must answer, or "everything filtered" could mean only that the vantage
reaches nothing. Ports are the zone policy's list, the ports each target listens on (facts), the
declared ones and the flows; UDP the policy's ``udp_ports`` and declared ``udp/N``; targets judged
by a deep control (NET-01) also get source-port probes and, in an audit or on request, a full
TCP sweep. An address is judged by the zone it lies in (a second interface in another zone is
judged as that zone).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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
    deep: bool = False  # a deep pair (NET-01): source-port probes, full sweep when asked
    ports: tuple[int, ...] = ()  # the tcp ports probed on this target ((): the plan's list)

    @property
    def family(self) -> int:
        return ipaddress.ip_address(self.address).version


@dataclass
class Plan:
    """Everything one vantage's probe does, and what it is for."""

    targets: list[Target] = field(default_factory=list)
    unprobed: list[tuple[Target, str]] = field(default_factory=list)  # (target, why it cannot be)
    ports: list[int] = field(default_factory=list)  # tcp, every target
    udp: list[int] = field(default_factory=list)  # udp, every target (root only)
    sports: list[int] = field(default_factory=list)  # source ports tried on deep targets (root only)
    full: bool = False  # a full TCP sweep of the deep targets
    sweep: list[str] = field(default_factory=list)  # CIDRs of the vantage's zone (INV-01)
    judged: dict[str, set[str]] = field(default_factory=dict)  # control -> destination zones
    witnessed: bool = True  # False for an egress probe from a collected host (it was reached already)

    def to_json(self) -> dict[str, object]:
        return {
            "targets": [t.__dict__ for t in self.targets],
            "unprobed": [{**t.__dict__, "why": why} for t, why in self.unprobed],
            "ports": self.ports,
            "udp": self.udp,
            "source_ports": self.sports,
            "full_sweep": self.full,
            "sweep": self.sweep,
            "judged": {c: sorted(z) for c, z in sorted(self.judged.items())},
        }

    def cost(self, rate: int) -> dict[str, int]:
        """Return the probes each run sends and the full sweep's floor in seconds at ``rate`` per second."""
        deep = sum(1 for t in self.targets if t.deep)
        full = deep * 65535 if self.full else 0
        return {
            "tcp": len(self.targets) * len(self.ports),
            "udp": len(self.targets) * len(self.udp),
            "source_port": deep * len(self.ports) * len(self.sports),
            "full_sweep": full,
            "full_sweep_s": -(-full // max(rate, 1)),
        }


def literal(address: str) -> str:
    """Return the address as a canonical IP literal ("" for a name or anything else)."""
    try:
        return str(ipaddress.ip_address(address.split("/")[0].split("%")[0]))
    except ValueError:
        return ""


def routable(address: str) -> bool:
    """Tell whether an address can carry traffic between zones (not loopback, link-local, multicast)."""
    ip = ipaddress.ip_address(address)
    return not (ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified)


def addresses_of(host: Host, facts: Mapping[str, Any]) -> list[str]:
    """Return every routable address of a host: inventory, vars.addresses, interfaces in its facts."""
    declared = [literal(a) for a in [host.address, *(str(a) for a in host.vars.get("addresses", []) or [])]]
    network = facts.get("network", {}) if isinstance(facts, Mapping) else {}
    seen = [literal(str(a.get("address", ""))) for a in network.get("addresses", []) if isinstance(a, dict)]
    out: list[str] = []
    for address in [*declared, *(a for a in seen if a and routable(a))]:
        if address and address not in out:
            out.append(address)
    return out


def declared(host: Host, proto: str) -> set[int]:
    """Return the ports of one protocol the inventory declares the host offers (vars.allowed_ports)."""
    out = set()
    for entry in host.vars.get("allowed_ports", []) or []:
        kind, _, port = str(entry).partition("/")
        if kind == proto and port.isdigit() and 0 < int(port) < 65536:
            out.add(int(port))
    return out


def listening(facts: Mapping[str, Any], proto: str) -> set[int]:
    """Return the ports a host listens on (its collected facts), tcp or udp, IPv4 and IPv6."""
    network = facts.get("network", {}) if isinstance(facts, Mapping) else {}
    return {
        int(e["port"])
        for e in network.get("listening", []) or []
        if isinstance(e, dict) and str(e.get("proto", "")).startswith(proto)
    }


def zone_of(address: str, host_zone: str, inventory: Inventory) -> str:
    """Return the zone an address lies in (the host's own zone when it lies in none or several)."""
    zones = inventory.zones_of(address)
    return zones[0] if len(zones) == 1 else host_zone


def plan_for(
    vantage: Vantage,
    policy: ZonePolicy,
    inventory: Inventory,
    pack: Pack,
    facts: Mapping[str, Mapping[str, Any]] | None = None,
    full: bool = False,
) -> Plan:
    """Return the probe plan of one vantage (``facts``: parsed facts of collected hosts, by name).

    >>> plan_for(vantage, policy, inventory, pack).ports[:3]  # doctest: +SKIP
    [21, 22, 23]
    """
    facts = facts or {}
    probe = policy.probe
    plan = Plan(
        full=full or bool(probe["full_sweep"]), sports=sorted({int(p) for p in probe["source_ports"]})
    )
    ports = {int(p) for p in probe["ports"]}
    udp = {int(p) for p in probe["udp_ports"]}
    deep = set(probe["deep_controls"])
    own = set(vantage.addresses)
    me = vantage.host.name if vantage.host else ""
    proxies = {name: port for name, port in policy.proxies}
    same_zone = 0

    for host in sorted(inventory.hosts, key=lambda h: h.name):
        mine = facts.get(host.name, {})
        every = addresses_of(host, mine)
        if host.name == me or own.intersection(every):
            continue
        if not every:
            control = policy.control_for(vantage.zone, host.zone)
            why = "no IP literal for it (the inventory gives a name, the facts no address)"
            if control in pack.controls:
                plan.judged.setdefault(control, set()).add(host.zone)
                plan.unprobed.append((Target("", host.name, host.zone, control), why))
        extra = listening(mine, "tcp") | declared(host, "tcp")
        for address in every:
            zone = zone_of(address, host.zone, inventory)
            control = policy.control_for(vantage.zone, zone)
            control = control if control in pack.controls else ""
            # Ports a declared flow allows from this vantage to this host: they must answer (witnesses).
            flows = {
                p
                for f in policy.flows
                for p in f.ports
                if policy.allowed(me, vantage.zone, host.name, zone, p)
            }
            if control:
                plan.judged.setdefault(control, set()).add(zone)
                target = Target(address, host.name, zone, control, bool(flows), control in deep)
                plan.targets.append(target)
                ports |= extra | flows
                udp |= listening(mine, "udp") | declared(host, "udp")
            elif host.name in proxies and zone == vantage.zone:
                plan.targets.append(Target(address, host.name, zone, witness=True))
                ports.add(proxies[host.name])
            elif zone == vantage.zone and same_zone < SAME_ZONE_WITNESSES:
                same_zone += 1
                plan.targets.append(Target(address, host.name, zone, witness=True))
            elif flows:
                plan.targets.append(Target(address, host.name, zone, witness=True))
                ports |= flows
    egress = policy.control_for(vantage.zone, OUTSIDE)
    if egress in pack.controls:
        plan.judged.setdefault(egress, set()).add(OUTSIDE)
        for canary in policy.canaries:
            plan.targets.append(
                Target(canary.address, canary.label or canary.address, OUTSIDE, egress, deep=egress in deep)
            )
            ports |= set(canary.ports)
    if probe["sweep"] and vantage.sweep and "INV-01" in pack.controls:
        home = inventory.zones.get(vantage.zone)
        plan.sweep = [
            c for c in (home.cidrs if home else ()) if ipaddress.ip_network(c, strict=False).version == 4
        ]
    plan.ports, plan.udp = sorted(ports), sorted(udp)
    return plan
