"""Reachability from rules: which flows a device's first-match rule sets permit between two address sets.

A packet from zone A to zone B enters by the interface facing A and leaves by the one facing B
(connected networks, then static routes, longest match). It crosses the stages of that pair:
FortiOS one policy table (rules whose srcintf/dstintf match), ACL devices the ingress ``in`` and
egress ``out`` lists (no list: everything passes; ASA: security levels). The address, protocol and
port space is carved rule by rule (scanner/netdev/boxes.py): each part meets its first matching rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.netdev import asa
from scanner.netdev.boxes import Box, carve, first_match, rule_boxes, space
from scanner.netdev.model import ALL_PORTS, Device, Range, Rule, merge
from scanner.netdev.overlap import Index

MAX_BOXES = 200_000  # per interface pair; beyond it the device is reported as not assessed


class TooLarge(ValueError):
    """The rule space of one interface pair is too large to enumerate."""


@dataclass(frozen=True)
class Stage:
    """One filtering step: its label, its rules in order (None: no filter, everything passes), its default."""

    label: str
    rules: tuple[Rule, ...] | None
    default: str = "deny"


@dataclass(frozen=True)
class Permit:
    """A box the device lets through, and the rules (or unfiltered stages) that let it."""

    box: Box
    rules: tuple[Rule, ...]
    open_stages: tuple[str, ...]  # stages without a filter (or a default permit) that let it pass
    via: tuple[str, str]  # ingress, egress interface


def _covers(ranges: tuple[Range, ...], r: Range) -> bool:
    return any(lo <= r[0] and r[1] <= hi for lo, hi in ranges)


def matches(rule: Rule, atom: Box) -> bool:
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


def decide(stage: Stage, atom: Box) -> tuple[bool, Rule | None]:
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


def permitted(device: Device, src: list[Range], dst: list[Range]) -> tuple[list[Permit], bool]:
    """Return the boxes from ``src`` to ``dst`` the device permits, and whether it connects them at all."""
    out: list[Permit] = []
    connected = False
    for s_range in merge(src):
        for s_piece, s_if, s_vrf in pieces(device, s_range):
            for d_range in merge(dst):
                for d_piece, d_if, d_vrf in pieces(device, d_range):
                    if s_if == d_if or s_vrf != d_vrf:
                        continue
                    connected = True
                    out += _through(device, s_piece, d_piece, s_if, d_if)
    return out, connected


def _through(device: Device, src: Range, dst: Range, s_if: str, d_if: str) -> list[Permit]:
    """Return what crosses every stage between two interfaces, with the rules that let it."""
    current: list[tuple[Box, tuple[Rule, ...], tuple[str, ...]]] = [(b, (), ()) for b in space(src, dst)]
    for stage in stages(device, s_if, d_if):
        if stage.rules is None:
            current = [(b, rules, (*open_, stage.label)) for b, rules, open_ in current]
            continue
        rules = _relevant(stage.rules, src, dst)
        after: list[tuple[Box, tuple[Rule, ...], tuple[str, ...]]] = []
        for box, carried, open_ in current:
            passed, left = first_match(rules, [(box, carried)])
            after += [(b, r, open_) for b, r in passed]
            if stage.default == "permit":  # ASA security levels: what no rule matched passes
                after += [(b, r, (*open_, stage.label)) for b, r in left]
        current = after
        if len(current) > MAX_BOXES:
            raise TooLarge(f"{len(current)} boxes between {s_if} and {d_if}")
    return [Permit(b, rules, open_, (s_if, d_if)) for b, rules, open_ in current]


def _ifs_cover(outer: tuple[str, ...], inner: tuple[str, ...]) -> bool:
    return "any" in outer or set(inner) <= set(outer)


def shadowed(device: Device) -> list[tuple[Rule, Rule | None]]:
    """Return rules that never match first (each with one earlier rule covering it, when one alone does).

    Earlier rules are looked up in address indexes (scanner/netdev/overlap.py) rather than scanned,
    so a rule costs the earlier rules that overlap it, not all of them.
    """
    out: list[tuple[Rule, Rule | None]] = []
    for ruleset in device.rulesets.values():
        by_src, by_dst = Index(), Index()
        boxes: dict[int, list[Box]] = {}
        for i, rule in enumerate(ruleset.rules):
            if not rule.enabled:
                continue
            boxes[i] = rule_boxes(rule)
            if by_src.size(rule.src) <= by_dst.size(rule.dst):
                candidates = by_src.overlapping(rule.src)
            else:
                candidates = by_dst.overlapping(rule.dst)
            earlier = [
                j
                for j in sorted(candidates)
                if _meets(ruleset.rules[j], rule)
                and _ifs_cover(ruleset.rules[j].src_ifs, rule.src_ifs)
                and _ifs_cover(ruleset.rules[j].dst_ifs, rule.dst_ifs)
            ]
            by_src.add(i, rule.src)
            by_dst.add(i, rule.dst)
            mine = boxes[i]
            if not earlier or not mine:
                continue
            if not carve(mine, [b for j in earlier for b in boxes[j]]):
                whole = next((ruleset.rules[j] for j in earlier if not carve(mine, boxes[j])), None)
                out.append((rule, whole))
    return out


def _meets(earlier: Rule, rule: Rule) -> bool:
    """Tell whether two rules' sources overlap and their destinations too."""
    return any(_relevant((earlier,), s, d) for s in rule.src for d in rule.dst)
