"""The egress probe: each collected host connects to a bounded list of targets it must not reach.

A vantage probes from one address per zone, so a firewall rule that opens a path for one other
address (a /32 exception) is invisible to it. The egress probe runs in the collector's one round
trip on every collected host (ssh or local transport), opt-in: ``probe.egress_probe`` in the zone
policy or ``--egress-probe``. Targets come from the scanner (scanner/collect/probes.py quotes
them): the canaries and the hosts of every zone a control judges from the host's zone, deep
controls (NET-01) first, each on its declared TCP ports and 22 and 443, at most
``egress_max_targets`` pairs; a TCP connect each, ``egress_timeout_s``, no payload. Findings
belong to the pseudo host ``egress-<host>`` and name the host as the source of every flow.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from scanner.collect.probes import EGRESS, egress_command
from scanner.inventory import Host, Inventory
from scanner.policy import Pack
from scanner.probes import observe
from scanner.probes.evaluate import evaluate
from scanner.probes.plan import Plan, Target, declared, literal
from scanner.probes.probe import _item
from scanner.probes.vantage import Vantage, option
from scanner.probes.zonepolicy import OUTSIDE, ZonePolicy
from scanner.rawfacts import RawFacts
from scanner.results import Finding

PORTS = (22, 443)  # tried on every target besides its declared ports
TRANSPORTS = ("ssh", "local")


def enabled(policy: ZonePolicy, options: Any) -> bool:
    return bool(option(options, "egress_probe", False) or policy.probe["egress_probe"])


def plan_for(host: Host, policy: ZonePolicy, inventory: Inventory, pack: Pack) -> Plan:
    """Return the egress plan of one host: targets each with its own ports, no witness, no sweep."""
    plan = Plan(witnessed=False)
    if host.transport not in TRANSPORTS:
        return plan
    deep = set(policy.probe["deep_controls"])
    found: list[tuple[bool, Target]] = []
    for other in sorted(inventory.hosts, key=lambda h: h.name):
        control = policy.control_for(host.zone, other.zone)
        address = literal(other.address)
        if other.name == host.name or control not in pack.controls or not address:
            continue
        ports = tuple(
            p
            for p in declared(other, "tcp") | set(PORTS)
            if not policy.allowed(host.name, host.zone, other.name, other.zone, p)
        )
        found.append((control in deep, Target(address, other.name, other.zone, control, ports=ports)))
    control = policy.control_for(host.zone, OUTSIDE)
    if control in pack.controls and not policy.allowed(host.name, host.zone, "", OUTSIDE, 0):
        for canary in policy.canaries:
            name = canary.label or canary.address
            found.append(
                (control in deep, Target(canary.address, name, OUTSIDE, control, ports=canary.ports))
            )
    budget = int(policy.probe["egress_max_targets"])
    for _, target in sorted(found, key=lambda dt: not dt[0]):  # deep pairs first, then the rest
        ports = target.ports[:budget]
        if not ports:
            continue
        budget -= len(ports)
        plan.targets.append(dataclasses.replace(target, ports=ports))
        plan.judged.setdefault(target.judged_by, set()).add(target.zone)
    return plan


def generated(
    inventory: Inventory, pack: Pack, policy: ZonePolicy, options: Any
) -> dict[str, tuple[tuple[str, str], ...]]:
    """Return, per host name, the generated probe the collector runs there (empty when not enabled)."""
    if not enabled(policy, options):
        return {}
    timeout = int(policy.probe["egress_timeout_s"])
    out: dict[str, tuple[tuple[str, str], ...]] = {}
    for host in inventory.hosts:
        plan = plan_for(host, policy, inventory, pack)
        pairs = [(t.address, p) for t in plan.targets for p in t.ports]
        if pairs:
            out[host.name] = ((EGRESS, egress_command(pairs, timeout)),)
    return out


def _refused(found: tuple[str, str]) -> tuple[str, str]:
    """Read a refused connect as not assessed: a target's reset and a router's ICMP port-unreachable look alike."""
    state, why = found
    if state != "closed":
        return found
    return (
        "refused",
        f"{why}: a reset from the target or a router's ICMP port-unreachable (a connect cannot tell)",
    )


def _never(script: str, timeout: float) -> bytes:
    raise RuntimeError("the egress probe runs inside the collector")


def findings(
    inventory: Inventory, pack: Pack, policy: ZonePolicy, raws: Mapping[str, RawFacts]
) -> tuple[list[Finding], dict[str, RawFacts]]:
    """Judge every collected host's egress results: findings and evidence of ``egress-<host>``."""
    out: list[Finding] = []
    evidence: dict[str, RawFacts] = {}
    for host in sorted(inventory.hosts, key=lambda h: h.name):
        raw = raws.get(host.name)
        item = raw.items.get(f"probe:{EGRESS}") if raw else None
        if raw is None or item is None:
            continue
        plan = plan_for(host, policy, inventory, pack)
        seen = observe.Observed(tool="egress", matrix_item=f"probe:{EGRESS}")
        try:
            if item.rc != 0:
                raise ValueError(f"exit {item.rc}: {(item.stderr or '').strip()[-300:]}")
            seen.ports = {k: _refused(v) for k, v in observe.fallback_ports(item.text).items()}
        except ValueError as exc:
            seen.matrix_error = f"the egress probe on {host.name} failed: {exc}"
        vantage = Vantage(
            host.name, host.zone, _never, (host.address,), host, False, host.transport, "egress"
        )
        out += evaluate(vantage, plan, seen, policy, inventory, pack, set())
        text = json.dumps(plan.to_json(), indent=1)
        items = {"probe:zone-plan": _item("zone-plan", "kijun egress plan", 0, text), f"probe:{EGRESS}": item}
        collector = {"name": "kijun-egress", "source_host": host.name, "zone": host.zone}
        evidence[vantage.pseudo] = RawFacts(vantage.pseudo, raw.collected_at, collector, items)
    return out, evidence
