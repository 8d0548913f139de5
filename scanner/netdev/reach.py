"""Reachability from rules: which flows a device's first-match rule sets permit between two address sets.

A packet from zone A to zone B enters by the interface facing A and leaves by the one facing B
(connected networks, then static routes, longest match). It crosses the stages of that pair:
FortiOS one policy table (rules whose srcintf/dstintf match), ACL devices the ingress ``in`` and
egress ``out`` lists (no list: everything passes; ASA: security levels). The address, protocol and
port space is cut into atoms at every rule boundary, so each atom meets one first-matching rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.netdev import asa
from scanner.netdev.model import ALL_PORTS, PROTOCOLS, Device, Range, Rule, merge

MAX_ATOMS = 200_000  # per interface pair; beyond it the device is reported as not assessed


class TooLarge(ValueError):
    """The rule space of one interface pair is too large to enumerate."""


@dataclass(frozen=True)
class Atom:
    src: Range
    dst: Range
    proto: str
    ports: Range


@dataclass(frozen=True)
class Stage:
    """One filtering step: its label, its rules in order (None: no filter, everything passes), its default."""

    label: str
    rules: tuple[Rule, ...] | None
    default: str = "deny"


@dataclass(frozen=True)
class Permit:
    """An atom the device lets through, and the rules (or unfiltered stages) that let it."""

    atom: Atom
    rules: tuple[Rule, ...]
    open_stages: tuple[str, ...]  # stages without a filter (or a default permit) that let it pass
    via: tuple[str, str]  # ingress, egress interface


def _covers(ranges: tuple[Range, ...], r: Range) -> bool:
    return any(lo <= r[0] and r[1] <= hi for lo, hi in ranges)


def matches(rule: Rule, atom: Atom) -> bool:
    """Tell whether a rule matches every packet of an atom (a permit with source ports matches some)."""
    if not (rule.enabled and _covers(rule.src, atom.src) and _covers(rule.dst, atom.dst)):
        return False
    for service in rule.services:
        if service.proto == "ip":
            return True
        if service.proto != atom.proto:
            continue
        if atom.proto not in ("tcp", "udp"):
            return True
        partial = service.sports != (ALL_PORTS,)
        if _covers(service.ports, atom.ports) and (not partial or rule.action == "permit"):
            return True
    return False


def _table(device: Device) -> list[tuple[Range, str, str]]:
    out = [(net, i.name, i.vrf) for i in device.interfaces.values() for net in i.networks]
    return out + [(r.dest, r.interface, r.vrf) for r in device.routes]


def pieces(device: Device, r: Range) -> list[tuple[Range, str, str]]:
    """Split an interval by the interface each part is reached through (longest match); unrouted parts dropped."""
    table = _table(device)
    cuts = sorted(
        {r[0]}
        | {b for lo, hi in ((t[0][0], t[0][1] + 1) for t in table) for b in (lo, hi) if r[0] < b <= r[1]}
    )
    out: list[tuple[Range, str, str]] = []
    for i, lo in enumerate(cuts):
        hi = cuts[i + 1] - 1 if i + 1 < len(cuts) else r[1]
        best = [t for t in table if t[0][0] <= lo and hi <= t[0][1]]
        if best:
            _net, iface, vrf = min(best, key=lambda t: t[0][1] - t[0][0])
            if out and out[-1][1] == iface and out[-1][0][1] + 1 == lo:
                out[-1] = ((out[-1][0][0], hi), iface, vrf)
            else:
                out.append(((lo, hi), iface, vrf))
    return out


def _if_match(names: tuple[str, ...], device: Device, iface: str) -> bool:
    zone = device.interfaces[iface].zone if iface in device.interfaces else ""
    return "any" in names or iface in names or bool(zone and zone in names)


def stages(device: Device, src_if: str, dst_if: str) -> list[Stage]:
    """Return the filtering steps between an ingress and an egress interface."""
    if device.mode == "policy":
        table = device.rulesets.get("policy")
        rules = tuple(
            r
            for r in (table.rules if table else ())
            if _if_match(r.src_ifs, device, src_if) and _if_match(r.dst_ifs, device, dst_if)
        )
        return [Stage(f"policy {src_if} → {dst_if}", rules)]
    inside = device.interfaces.get(src_if)
    outside = device.interfaces.get(dst_if)
    out: list[Stage] = []
    acl_in = inside.acl_in if inside else ""
    glob = device.rulesets.get(device.global_acl) if device.global_acl else None
    if acl_in in device.rulesets or glob:
        own = device.rulesets[acl_in].rules if acl_in in device.rulesets else ()
        out.append(Stage(f"{src_if} in", own + (glob.rules if glob else ())))
    elif device.vendor == "cisco-asa":
        lo = inside.level if inside and inside.level is not None else 0
        hi = outside.level if outside and outside.level is not None else 0
        ok = lo > hi or (lo == hi and asa.same_security(device))
        out.append(Stage(f"security-level {lo} → {hi}", (), "permit" if ok else "deny"))
    else:
        out.append(Stage(f"{src_if} in", None))
    acl_out = outside.acl_out if outside else ""
    if acl_out in device.rulesets:
        out.append(Stage(f"{dst_if} out", device.rulesets[acl_out].rules))
    else:
        out.append(Stage(f"{dst_if} out", None))
    return out


def _cuts(space: Range, edges: list[Range]) -> list[Range]:
    points = {space[0]}
    for lo, hi in edges:
        for b in (lo, hi + 1):
            if space[0] < b <= space[1]:
                points.add(b)
    ordered = sorted(points)
    return [(p, (ordered[i + 1] - 1) if i + 1 < len(ordered) else space[1]) for i, p in enumerate(ordered)]


def atoms(
    src: Range,
    dst: Range,
    rules: list[Rule],
    extra_src: list[Range],
    extra_dst: list[Range],
    extra_ports: list[Range],
) -> list[Atom]:
    """Cut the space src × dst × protocol × port at every boundary the rules (and extras) draw."""
    srcs = _cuts(src, [r for rule in rules for r in rule.src] + extra_src)
    dsts = _cuts(dst, [r for rule in rules for r in rule.dst] + extra_dst)
    ports = _cuts(
        ALL_PORTS,
        [p for rule in rules for s in rule.services for p in s.ports if s.proto in ("tcp", "udp")]
        + extra_ports,
    )
    count = len(srcs) * len(dsts) * (2 * len(ports) + 2)
    if count > MAX_ATOMS:
        raise TooLarge(f"{count} atoms")
    out = []
    for s in srcs:
        for d in dsts:
            for proto in PROTOCOLS:
                for p in ports if proto in ("tcp", "udp") else [ALL_PORTS]:
                    out.append(Atom(s, d, proto, p))
    return out


def decide(stage: Stage, atom: Atom) -> tuple[bool, Rule | None]:
    """Return whether a stage lets an atom through, and the first rule that decided it."""
    if stage.rules is None:
        return True, None
    for rule in stage.rules:
        if matches(rule, atom):
            return rule.action == "permit", rule
    return stage.default == "permit", None


def _relevant(rules: tuple[Rule, ...] | None, src: Range, dst: Range) -> list[Rule]:
    def hits(ranges: tuple[Range, ...], r: Range) -> bool:
        return any(lo <= r[1] and r[0] <= hi for lo, hi in ranges)

    return [x for x in rules or () if hits(x.src, src) and hits(x.dst, dst)]


def permitted(
    device: Device,
    src: list[Range],
    dst: list[Range],
    extra_src: list[Range] | None = None,
    extra_dst: list[Range] | None = None,
    extra_ports: list[Range] | None = None,
) -> tuple[list[Permit], bool]:
    """Return the atoms from ``src`` to ``dst`` the device permits, and whether it connects them at all."""
    if extra_ports is None:
        extra_ports = []
    if extra_dst is None:
        extra_dst = []
    if extra_src is None:
        extra_src = []
    out: list[Permit] = []
    connected = False
    for s_range in merge(src):
        for s_piece, s_if, s_vrf in pieces(device, s_range):
            for d_range in merge(dst):
                for d_piece, d_if, d_vrf in pieces(device, d_range):
                    if s_if == d_if or s_vrf != d_vrf:
                        continue
                    connected = True
                    steps = stages(device, s_if, d_if)
                    rules = [r for st in steps for r in _relevant(st.rules, s_piece, d_piece)]
                    for atom in atoms(s_piece, d_piece, rules, extra_src, extra_dst, extra_ports):
                        decided = [decide(st, atom) for st in steps]
                        if all(ok for ok, _ in decided):
                            used = tuple(r for _, r in decided if r is not None)
                            open_ = tuple(
                                st.label for st, (_, r) in zip(steps, decided, strict=True) if r is None
                            )
                            out.append(Permit(atom, used, open_, (s_if, d_if)))
    return out, connected


def _ifs_cover(outer: tuple[str, ...], inner: tuple[str, ...]) -> bool:
    return "any" in outer or set(inner) <= set(outer)


def shadowed(device: Device) -> list[tuple[Rule, Rule | None]]:
    """Return rules that never match first (each with one earlier rule covering it, when one alone does)."""
    out: list[tuple[Rule, Rule | None]] = []
    for ruleset in device.rulesets.values():
        for i, rule in enumerate(ruleset.rules):
            if not rule.enabled:
                continue
            earlier = [
                e
                for e in ruleset.rules[:i]
                if e.enabled and _ifs_cover(e.src_ifs, rule.src_ifs) and _ifs_cover(e.dst_ifs, rule.dst_ifs)
            ]
            if not earlier:
                continue
            try:
                space = [
                    a
                    for s in rule.src
                    for d in rule.dst
                    for a in atoms(s, d, [*earlier, rule], [], [], [])
                    if matches(rule, a)
                ]
            except TooLarge:
                continue
            if space and all(any(matches(e, a) for e in earlier) for a in space):
                whole = next((e for e in earlier if all(matches(e, a) for a in space)), None)
                out.append((rule, whole))
    return out
