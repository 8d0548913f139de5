"""Judge what one vantage saw against the zone policy: findings per control, each naming its flows.

Pure: no I/O. An answer (open, or closed: a reset came back) is a path; only filtered is blocked;
anything else (a timed-out host, a failed run) is unknown and makes the control an error, never a
pass. A failure outranks an error: an open port proves a path whatever else went wrong.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from scanner.engine import combine, control_finding
from scanner.inventory import Host, Inventory
from scanner.policy import Control, Pack
from scanner.probes.nmapargs import sport_ports
from scanner.probes.observe import PATH_STATES, Observed
from scanner.probes.plan import Plan, Target
from scanner.probes.vantage import Vantage
from scanner.probes.zonepolicy import OUTSIDE, ZonePolicy
from scanner.results import CheckResult, Finding, Status

SHOWN = 20  # flows named in a message; the observed list holds them all


def _label(inventory: Inventory, zone: str, lang: str) -> str:
    if zone == OUTSIDE:
        return "インターネット(ゾーン外)" if lang == "ja" else "the internet (outside the zones)"
    found = inventory.zones.get(zone)
    if found is None:
        return zone
    return found.label_ja if lang == "ja" else found.label_en


def _where(vantage: Vantage) -> str:
    return f"{vantage.name} ({vantage.addresses[0]})" if vantage.addresses else vantage.name


# UDP ports nmap sends an application request to (nmap-payloads): no answer means no path.
ANSWERING = {53: "DNS query", 123: "NTP request", 161: "SNMP get", 500: "IKE", 4500: "IKE NAT-T"}


def _flow(vantage: Vantage, target: Target, port: str, state: str, reason: str) -> dict[str, Any]:
    return {
        "from": vantage.name,
        "from_address": vantage.addresses[0] if vantage.addresses else "",
        "from_zone": vantage.zone,
        "to": target.name,
        "to_address": target.address,
        "to_zone": target.zone,
        "port": port,
        "state": state,
        "reason": reason,
    }


def _text(vantage: Vantage, flows: list[dict[str, Any]]) -> str:
    shown = [
        f"{_where(vantage)} → {f['to']} ({f['to_address']}) {f['port']} {f['state']}"
        + (f" ({f['reason']})" if f["reason"] else "")
        for f in flows[:SHOWN]
    ]
    more = f"; and {len(flows) - SHOWN} more" if len(flows) > SHOWN else ""
    return "; ".join(shown) + more


def _state(seen: Observed, target: Target, port: int) -> tuple[str, str]:
    if seen.matrix_error:
        return "unknown", seen.matrix_error
    return seen.ports.get((target.address, port), ("unknown", "no result for this port (host timeout?)"))


def udp_verdict(state: str, reason: str, port: int) -> str:
    """Return "path", "blocked" or "unassessed" for one UDP answer (nmap -sU, with reasons)."""
    if " from " in reason:
        return "blocked"  # an ICMP error from a router, not from the target: blocked by the network
    if state in PATH_STATES:
        return "path"  # an answer, or the target's own port-unreachable
    if state == "filtered" or (state == "open|filtered" and port in ANSWERING):
        return "blocked"  # nothing came back to a request that gets an answer where it arrives
    return "unassessed"


class _Pair:
    """Collect what one vantage saw towards one zone: paths, unknowns and what was not assessed."""

    def __init__(self, vantage: Vantage, policy: ZonePolicy, seen: Observed) -> None:
        self.vantage, self.policy, self.seen = vantage, policy, seen
        self.me = vantage.host.name if vantage.host else ""
        self.paths: list[dict[str, Any]] = []
        self.unknown: list[str] = []
        self.unassessed: list[str] = []

    def allowed(self, target: Target, proto: str, port: int) -> bool:
        number = port if proto == "tcp" else 0  # flows declare tcp ports; udp only leaves through the proxy
        return bool(self.policy.allowed(self.me, self.vantage.zone, target.name, target.zone, number))

    def judge(
        self, target: Target, label: str, proto: str, port: int, verdict: str, state: str, why: str
    ) -> None:
        if verdict == "path" and not self.allowed(target, proto, port):
            self.paths.append(_flow(self.vantage, target, label, state, why))
        elif verdict == "unknown":
            self.unknown.append(f"{target.name} ({target.address}) {label}: {why}")
        elif verdict == "unassessed":
            self.unassessed.append(f"{target.name} ({target.address}) {label} {state}")

    def tcp(self, target: Target, ports: list[int]) -> None:
        for port in ports:
            state, why = _state(self.seen, target, port)
            verdict = "path" if state in PATH_STATES else "blocked" if state == "filtered" else "unknown"
            verdict = "unassessed" if state == "refused" else verdict  # the egress probe's connect
            self.judge(target, target_label("tcp", port), "tcp", port, verdict, state, why)

    def udp(self, target: Target, ports: list[int]) -> None:
        if not self.seen.udp and "udp" not in self.seen.errors:
            return  # not run (not root, or a fallback): a note says so
        for port in ports:
            missing = ("unknown", self.seen.errors.get("udp", "no result for this port (host timeout?)"))
            state, why = self.seen.udp.get((target.address, port), missing)
            verdict = "unknown" if state == "unknown" else udp_verdict(state, why, port)
            self.judge(target, target_label("udp", port), "udp", port, verdict, state, why)

    def deep(self, target: Target, plan: Plan) -> None:
        for sport in plan.sports if (self.seen.sport or "sport" in self.seen.errors) else ():
            found = self.seen.sport.get(sport, {})
            for port in sport_ports(plan.ports, sport):
                missing = ("unknown", self.seen.errors.get("sport", "no result for this port"))
                state, why = found.get((target.address, port), missing)
                verdict = "path" if state in PATH_STATES else "blocked" if state == "filtered" else "unknown"
                label = f"tcp/{port} from source port {sport}"
                self.judge(target, label, "tcp", port, verdict, state, why)
        if plan.full:
            if target.address not in self.seen.full_done:
                why = self.seen.errors.get("full", "the full sweep did not finish within its budget")
                self.unknown.append(f"{target.name} ({target.address}) full TCP sweep: {why}")
            for (address, port), (state, why) in sorted(self.seen.full.items()):
                if address == target.address and port not in plan.ports:
                    self.judge(target, f"tcp/{port} (full sweep)", "tcp", port, "path", state, why)


def target_label(proto: str, port: int) -> str:
    return f"{proto}/{port}"


def _pair(
    vantage: Vantage, dest: str, plan: Plan, seen: Observed, policy: ZonePolicy, inventory: Inventory
) -> CheckResult:
    """Return the check of one zone pair: no path except the declared flows."""
    pair = _Pair(vantage, policy, seen)
    for target in (t for t in plan.targets if t.zone == dest and t.judged_by):
        pair.tcp(target, list(target.ports) or plan.ports)
        pair.udp(target, plan.udp)
        if target.deep:
            pair.deep(target, plan)
    unknown = pair.unknown
    unknown += [f"{t.name}: not probed, {why}" for t, why in plan.unprobed if t.zone == dest and t.judged_by]
    if dest == OUTSIDE and not policy.canaries:
        unknown.append("no canary declared (egress.canaries in the zone policy): egress is not probed")
    cid = "probe-" + f"{vantage.zone}-to-{dest}-blocked".replace("_", "-")
    ja = f"{_label(inventory, vantage.zone, 'ja')}から{_label(inventory, dest, 'ja')}へ宣言外の経路がない"
    en = f"No undeclared path from {_label(inventory, vantage.zone, 'en')} to {_label(inventory, dest, 'en')}"
    flows = sorted({f.id for f in policy.flows})
    expected = "filtered (no path), except declared flows" + (f": {', '.join(flows)}" if flows else "")
    item = (seen.matrix_item,)
    paths = pair.paths
    if paths:
        return CheckResult(cid, Status.FAIL, ja, en, paths, expected, _text(vantage, paths), item)
    if seen.matrix_error:
        return CheckResult(cid, Status.ERROR, ja, en, None, expected, seen.matrix_error, item)
    if unknown:
        return CheckResult(cid, Status.ERROR, ja, en, None, expected, _some(unknown), item)
    notes = [*seen.notes, *(f"not assessed (no answer either way): {u}" for u in pair.unassessed)]
    return CheckResult(cid, Status.PASS, ja, en, [], expected, _some(notes), item)


def _some(lines: list[str]) -> str:
    more = f"; and {len(lines) - SHOWN} more" if len(lines) > SHOWN else ""
    return "; ".join(lines[:SHOWN]) + more


def _answered(seen: Observed, target: Target, ports: Iterable[int]) -> bool:
    return any(_state(seen, target, p)[0] in PATH_STATES for p in ports)


def _witness(vantage: Vantage, plan: Plan, seen: Observed) -> CheckResult | None:
    """Return an error check when the vantage reached nothing that must answer.

    Witnesses are targets that must answer (hosts of its own zone, declared flows, the proxy), and
    any other address its zone sweep found up (the zone's gateway, at least).
    """
    if seen.matrix_error or not plan.witnessed:
        return None  # a failed run is already an error on every pair; a collected host was reached
    witnesses = [t for t in plan.targets if t.witness]
    if any(_answered(seen, t, plan.ports) for t in witnesses):
        return None
    if any(a not in vantage.addresses and r != "localhost-response" for a, r in seen.up.items()):
        return None
    cid = "probe-vantage-reaches-witnesses"
    ja, en = "プローブ地点から到達すべき宛先に到達できる", "The vantage reaches the targets it must reach"
    names = ", ".join(f"{t.name} ({t.address})" for t in witnesses[:SHOWN]) or "none planned"
    why = (
        f"{vantage.name} reached no witness (hosts of zone {vantage.zone}, declared flows, the proxy, "
        f"its zone's sweep; planned: {names}): its filtered results prove nothing"
    )
    return CheckResult(cid, Status.ERROR, ja, en, [], "a witness answers", why, (seen.matrix_item,))


def _proxy(vantage: Vantage, plan: Plan, seen: Observed, policy: ZonePolicy) -> CheckResult | None:
    """Return the check that the declared proxy answers from a vantage in its zone (None if none is there)."""
    ports = dict(policy.proxies)
    here = [t for t in plan.targets if t.name in ports and t.zone == vantage.zone]
    if not here:
        return None
    states = {(t.name, t.address): _state(seen, t, ports[t.name]) for t in here}
    good = [n for (n, _), (s, _) in states.items() if s == "open"]
    observed = {f"{n} {a}:{ports[n]}": s for (n, a), (s, _) in states.items()}
    cid, expected = "probe-egress-proxy-reachable", "the declared proxy port is open"
    ja, en = "宣言されたプロキシに到達できる", "The declared proxy answers"
    if good:
        return CheckResult(cid, Status.PASS, ja, en, observed, expected, "", (seen.matrix_item,))
    why = f"the declared proxy does not answer from {vantage.name}: {observed}; egress through it is unproven"
    return CheckResult(cid, Status.ERROR, ja, en, observed, expected, why, (seen.matrix_item,))


def known_addresses(inventory: Inventory, policy: ZonePolicy, host_facts: dict[str, Any]) -> set[str]:
    """Return every address the inventory accounts for (hosts, vars.addresses, interfaces seen on them)."""
    known = {h.address for h in inventory.hosts if h.address}
    for host in inventory.hosts:
        known |= {str(a) for a in host.vars.get("addresses", []) or []}
        network = host_facts.get(host.name, {}).get("network", {})
        known |= {str(a["address"]) for a in network.get("addresses", []) if isinstance(a, dict)}
    return known | {a for a in policy.known if "/" not in a}


def _sweep(
    vantage: Vantage, plan: Plan, seen: Observed, policy: ZonePolicy, known: set[str], allowed: int
) -> CheckResult:
    """Return the INV-01 check: every address answering in the zone is accounted for."""
    nets = [ipaddress.ip_network(c, strict=False) for c in plan.sweep]
    ranges = [ipaddress.ip_network(a, strict=False) for a in policy.known if "/" in a]
    strangers = []
    for address, reason in sorted(seen.up.items(), key=lambda kv: ipaddress.ip_address(kv[0])):
        ip = ipaddress.ip_address(address)
        if not any(ip in n for n in nets) or reason == "localhost-response":
            continue  # the vantage itself
        if address in known or address in vantage.addresses or any(ip in r for r in ranges):
            continue
        strangers.append({"address": address, "zone": vantage.zone, "reason": reason})
    cid = "probe-sweep-" + f"{vantage.zone}-inventoried".replace("_", "-")
    ja, en = (
        "ゾーン内で応答するホストがすべて台帳に載っている",
        "Every host answering in the zone is in the inventory",
    )
    expected = f"at most {allowed} answering address(es) outside the inventory and the known addresses"
    evidence = (seen.sweep_item,)
    if len(strangers) > allowed:
        text = "; ".join(
            f"{s['address']} answered in {vantage.zone} ({s['reason']}) and is in no inventory entry"
            for s in strangers[:SHOWN]
        )
        return CheckResult(cid, Status.FAIL, ja, en, strangers, expected, text, evidence)
    if seen.sweep_error:
        return CheckResult(cid, Status.ERROR, ja, en, None, expected, seen.sweep_error, evidence)
    return CheckResult(cid, Status.PASS, ja, en, strangers, expected, "", evidence)


def _finding(control: Control, pack: Pack, vantage: Vantage, checks: list[CheckResult]) -> Finding:
    status = combine(checks)
    message = "; ".join(c.message for c in checks if c.status is status and c.message)
    owner = vantage.host.owner if vantage.host else ""
    pseudo = Host(name=vantage.pseudo, zone=vantage.zone, role="probe", owner=owner)
    return control_finding(control, pseudo, pack, status, checks=tuple(checks), message=message)


def evaluate(
    vantage: Vantage,
    plan: Plan,
    seen: Observed,
    policy: ZonePolicy,
    inventory: Inventory,
    pack: Pack,
    known: set[str],
) -> list[Finding]:
    """Return one finding per control this vantage's probe evidences (its pseudo host's findings)."""
    witness = _witness(vantage, plan, seen)
    findings = []
    for cid in sorted(plan.judged):
        checks = [_pair(vantage, dest, plan, seen, policy, inventory) for dest in sorted(plan.judged[cid])]
        if OUTSIDE in plan.judged[cid]:
            proxy = _proxy(vantage, plan, seen, policy)
            checks += [proxy] if proxy else []
        checks += [witness] if witness else []
        findings.append(_finding(pack.controls[cid], pack, vantage, checks))
    if plan.sweep and "INV-01" in pack.controls:
        control = pack.controls["INV-01"]
        allowed = int(pack.params_for(control, vantage.zone).get("max_unknown_hosts", {"value": 0})["value"])
        sweep = _sweep(vantage, plan, seen, policy, known, allowed)
        findings.append(_finding(control, pack, vantage, [sweep]))
    return findings
