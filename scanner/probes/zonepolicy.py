"""The zone policy (the reachability matrix between zones) as records, and its check against an inventory.

Between declared zones everything is denied unless a flow allows it; ``judged_by`` rules say which
control judges traffic from one zone to another. ``outside`` is the internet beyond the zones (the
canaries stand for it); ``*`` matches any declared zone, never outside. scanner/probes/zonefile.py
reads the files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scanner.errors import LoadError
from scanner.inventory import Inventory
from scanner.policy import Pack

OUTSIDE = "outside"
ANY = "*"
# Zones the pack's default matrix may name although an inventory does not declare them.
STANDARD_ZONES = frozenset({"mynumber", "lgwan", "internet", "dc", "mgmt"})


@dataclass(frozen=True)
class Endpoint:
    """One side of a flow: a zone (``*`` for any declared zone, ``outside``) or one inventory host."""

    zone: str = ""
    host: str = ""

    def text(self) -> str:
        return self.host or self.zone


@dataclass(frozen=True)
class Flow:
    """A declared, allowed flow across zones (特定通信, administration, ...)."""

    id: str
    source: Endpoint
    dest: Endpoint
    ports: tuple[int, ...]
    why: str
    approved_flow: str = ""
    ticket: str = ""
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class Rule:
    """Which control judges traffic from one zone to another (first matching rule wins)."""

    source: str
    dest: str
    control: str


@dataclass(frozen=True)
class Canary:
    """An address outside the zones that only the declared proxy may reach."""

    address: str
    ports: tuple[int, ...]
    label: str = ""


@dataclass(frozen=True)
class VantageSpec:
    """A declared vantage: an inventory host, or the scanner host itself (local) in a zone."""

    name: str
    host: str = ""
    zone: str = ""
    addresses: tuple[str, ...] = ()
    sweep: bool = True
    file: str = ""
    line: int = 0

    @property
    def local(self) -> bool:
        return not self.host


@dataclass(frozen=True)
class ZonePolicy:
    """The matrix in force: rules, flows, egress, probe settings, vantages; files and their hashes."""

    probe: dict[str, Any]
    rules: tuple[Rule, ...]
    flows: tuple[Flow, ...]
    proxies: tuple[tuple[str, int], ...] = ()  # (inventory host, port)
    canaries: tuple[Canary, ...] = ()
    known: dict[str, str] = field(default_factory=dict)  # address or CIDR -> what it is
    vantages: tuple[VantageSpec, ...] = ()
    files: dict[str, str] = field(default_factory=dict)  # path -> sha256
    where: dict[str, tuple[str, int]] = field(default_factory=dict)  # "proxy:<host>" -> (file, line)

    def control_for(self, source: str, dest: str) -> str:
        """Return the control judging source zone → dest zone ("" when none, or inside one zone)."""
        if source == dest:
            return ""
        for rule in self.rules:
            if _zone_match(rule.source, source) and _zone_match(rule.dest, dest):
                return rule.control
        return ""

    def allowed(self, source_host: str, source_zone: str, dest_host: str, dest_zone: str, port: int) -> str:
        """Return the id of the flow allowing this connection ("" when none does)."""
        if dest_zone == OUTSIDE and any(host == source_host for host, _ in self.proxies):
            return "egress-proxy"  # the declared proxy is the one way out
        for flow in self.flows:
            if (
                port in flow.ports
                and _end_match(flow.source, source_host, source_zone)
                and _end_match(flow.dest, dest_host, dest_zone)
            ):
                return flow.id
        return ""


def _zone_match(pattern: str, zone: str) -> bool:
    return pattern == zone or (pattern == ANY and zone != OUTSIDE)


def _end_match(end: Endpoint, host: str, zone: str) -> bool:
    if end.host:
        return end.host == host
    return _zone_match(end.zone, zone)


def check(policy: ZonePolicy, inventory: Inventory, pack: Pack | None = None, default: str = "") -> None:
    """Raise LoadError when the policy names unknown hosts or zones, or allows what cannot be waived.

    Flows from the ``default`` file (the pack's) may name the standard zones an inventory lacks.
    """
    names = {h.name for h in inventory.hosts}
    for flow in policy.flows:
        zones = set(inventory.zones) | {ANY, OUTSIDE} | (STANDARD_ZONES if flow.file == default else set())
        for end in (flow.source, flow.dest):
            if end.host and end.host not in names:
                raise LoadError(
                    flow.file, flow.line, f"flow {flow.id}: host {end.host!r} is not in the inventory"
                )
            if end.zone and end.zone not in zones:
                raise LoadError(flow.file, flow.line, f"flow {flow.id}: zone {end.zone!r} is not declared")
        if flow.source.zone == OUTSIDE:
            raise LoadError(flow.file, flow.line, f"flow {flow.id}: nothing is probed from outside the zones")
        _check_waivable(policy, flow, inventory, pack)
    for host, _ in policy.proxies:
        if host not in names:
            file, line = policy.where.get(f"proxy:{host}", ("zone policy", 0))
            raise LoadError(file, line, f"egress.proxies: host {host!r} is not in the inventory")
    for spec in policy.vantages:
        if spec.host and spec.host not in names:
            raise LoadError(spec.file, spec.line, f"vantages: host {spec.host!r} is not in the inventory")
        if spec.local and spec.zone not in inventory.zones:
            raise LoadError(
                spec.file, spec.line, f"vantages: {spec.name}: zone {spec.zone!r} is not declared"
            )


def _zones_of(end: Endpoint, inventory: Inventory) -> set[str]:
    if end.host:
        host = inventory.host(end.host)
        return {host.zone} if host else set()
    if end.zone == ANY:
        return set(inventory.zones)
    return {end.zone}


def _check_waivable(policy: ZonePolicy, flow: Flow, inventory: Inventory, pack: Pack | None) -> None:
    """Refuse a flow across a pair whose control can never be waived (NET-01: no exception, ever)."""
    if pack is None:
        return
    for a in sorted(_zones_of(flow.source, inventory)):
        for b in sorted(_zones_of(flow.dest, inventory)):
            cid = policy.control_for(a, b)
            control = pack.controls.get(cid)
            if control is not None and not control.waivable:
                raise LoadError(
                    flow.file,
                    flow.line,
                    f"flow {flow.id} allows {a} → {b}, which {cid} judges; {cid} cannot be waived "
                    "(waivable: false), so no flow may be declared there",
                )
