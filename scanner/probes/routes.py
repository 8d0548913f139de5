"""Probe what a My Number host's own facts point at: routes out of the zones, proxies, NTP servers.

A route to one outside network (not a default route) is a path no vantage has: only the host
holding the route can use it. So after collection, every host whose zone's egress a deep control
judges (NET-01: mynumber) and whose facts show such a route, or a proxy or NTP server in another
zone or in none, becomes a vantage itself (its own transport, ssh or local; a second round trip
only for those hosts) and probes those destinations: every address of a routed network of at most
``ROUTED_MAX`` addresses (else its gateway), and the proxy and NTP addresses. The host-side
finding (network-routes-inside-zones) says the route exists; this says what it reaches. Findings
belong to the pseudo host ``route-<host>``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from typing import Any

from scanner.inventory import Host, Inventory
from scanner.policy import Pack
from scanner.probes.plan import Plan, Target, literal, routable, zone_of
from scanner.probes.vantage import Vantage, from_host
from scanner.probes.zonepolicy import OUTSIDE, ZonePolicy

ROUTED_MAX = 256  # a routed network this small is probed address by address


def destinations(facts: Mapping[str, Any], host_zone: str, inventory: Inventory) -> list[tuple[str, str]]:
    """Return (address, why) of what a host's facts point at outside its own zone."""
    network = facts.get("network", {}) or {}
    out: list[tuple[str, str]] = []
    routes = {r["dst"]: r for r in network.get("routes", []) or [] if isinstance(r, dict)}
    for dst in network.get("routes_outside_zones", []) or []:
        net = ipaddress.ip_network(dst, strict=False)
        route = routes.get(dst, {})
        if net.num_addresses <= ROUTED_MAX:
            out += [(str(a), f"route {dst}") for a in (net.hosts() if net.num_addresses > 2 else net)]
        elif literal(str(route.get("gateway", ""))):
            out.append((literal(str(route["gateway"])), f"gateway of route {dst}"))
    for endpoint in (facts.get("proxy", {}) or {}).get("endpoints", []) or []:
        out.append((literal(str(endpoint.get("host", ""))), "proxy"))
    for server in (facts.get("time", {}) or {}).get("servers", []) or []:
        out.append((literal(str(server)), "NTP server"))
    seen: set[str] = set()
    kept = []
    for address, why in out:
        if (
            address
            and routable(address)
            and address not in seen
            and host_zone not in inventory.zones_of(address)
        ):
            seen.add(address)
            kept.append((address, why))
    return kept


def _zone(address: str, inventory: Inventory) -> str:
    zones = inventory.zones_of(address)
    return zone_of(address, OUTSIDE, inventory) if zones else OUTSIDE


def plans(
    inventory: Inventory, pack: Pack, policy: ZonePolicy, trees: Mapping[str, Mapping[str, Any]]
) -> list[tuple[Vantage, Plan]]:
    """Return a vantage and plan for every deep-zone host whose facts point out of its zone."""
    out = []
    deep = set(policy.probe["deep_controls"])
    for host in sorted(inventory.hosts, key=lambda h: h.name):
        if host.transport not in ("ssh", "local") or policy.control_for(host.zone, OUTSIDE) not in deep:
            continue
        plan = Plan(
            ports=sorted({int(p) for p in policy.probe["ports"]}),
            udp=sorted({int(p) for p in policy.probe["udp_ports"]}),
            witnessed=False,
        )
        for address, why in destinations(trees.get(host.name, {}), host.zone, inventory):
            zone = _zone(address, inventory)
            control = policy.control_for(host.zone, zone)
            if control in pack.controls:
                plan.targets.append(Target(address, f"{address} ({why})", zone, control))
                plan.judged.setdefault(control, set()).add(zone)
        if plan.targets:
            out.append((_vantage(host, inventory), plan))
    return out


def _vantage(host: Host, inventory: Inventory) -> Vantage:
    return dataclasses.replace(from_host(host, inventory, sweep=False), kind="route")
