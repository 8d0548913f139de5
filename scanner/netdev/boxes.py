"""Boxes of traffic (source × destination × protocol × ports) and first-match evaluation over them.

A rule matches a union of boxes; a rule list is evaluated by carving each remaining box with each
rule in order: the part inside the rule is decided by it, the rest goes on to the next rule. Only
the boxes a rule touches are split, so the cost follows how much rules overlap, not how many.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scanner.netdev.model import ALL_PORTS, PROTOCOLS, Range, Rule


@dataclass(frozen=True)
class Box:
    src: Range
    dst: Range
    proto: str  # one of PROTOCOLS
    ports: Range  # destination ports (ALL_PORTS for icmp and other)


def _meet(a: Range, b: Range) -> Range | None:
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo <= hi else None


def intersect(a: Box, b: Box) -> Box | None:
    if a.proto != b.proto:
        return None
    src, dst, ports = _meet(a.src, b.src), _meet(a.dst, b.dst), _meet(a.ports, b.ports)
    if src is None or dst is None or ports is None:
        return None
    return Box(src, dst, a.proto, ports)


def subtract(a: Box, b: Box) -> list[Box]:
    """Return the disjoint parts of ``a`` outside ``b``."""
    core = intersect(a, b)
    if core is None:
        return [a]
    out: list[Box] = []
    src, dst, ports = a.src, a.dst, a.ports
    if src[0] < core.src[0]:
        out.append(Box((src[0], core.src[0] - 1), dst, a.proto, ports))
    if src[1] > core.src[1]:
        out.append(Box((core.src[1] + 1, src[1]), dst, a.proto, ports))
    if dst[0] < core.dst[0]:
        out.append(Box(core.src, (dst[0], core.dst[0] - 1), a.proto, ports))
    if dst[1] > core.dst[1]:
        out.append(Box(core.src, (core.dst[1] + 1, dst[1]), a.proto, ports))
    if ports[0] < core.ports[0]:
        out.append(Box(core.src, core.dst, a.proto, (ports[0], core.ports[0] - 1)))
    if ports[1] > core.ports[1]:
        out.append(Box(core.src, core.dst, a.proto, (core.ports[1] + 1, ports[1])))
    return out


def rule_boxes(rule: Rule) -> list[Box]:
    """Return the boxes a rule matches (a deny restricted to some source ports matches none)."""
    out = []
    for service in rule.services:
        partial = service.sports != (ALL_PORTS,)
        if partial and rule.action != "permit":
            continue  # it denies only some packets of each box: not a match (never hides a path)
        protos = PROTOCOLS if service.proto == "ip" else (service.proto,)
        for proto in protos:
            ports = service.ports if proto in ("tcp", "udp") and service.proto != "ip" else (ALL_PORTS,)
            out += [Box(s, d, proto, p) for s in rule.src for d in rule.dst for p in ports]
    return out


def space(src: Range, dst: Range) -> list[Box]:
    """Return every packet from ``src`` to ``dst`` as boxes, one per protocol."""
    return [Box(src, dst, proto, ALL_PORTS) for proto in PROTOCOLS]


Carried = tuple[Box, tuple[Rule, ...]]


def first_match(rules: Iterable[Rule], start: list[Carried]) -> tuple[list[Carried], list[Carried]]:
    """Evaluate a rule list over boxes; return (permitted boxes with their rules, boxes no rule matched)."""
    remaining = list(start)
    permitted: list[Carried] = []
    for rule in rules:
        if not rule.enabled or not remaining:
            continue
        for match in rule_boxes(rule):
            left: list[Carried] = []
            for box, carried in remaining:
                inside = intersect(box, match)
                if inside is None:
                    left.append((box, carried))
                    continue
                if rule.action == "permit":
                    permitted.append((inside, (*carried, rule)))
                left += [(part, carried) for part in subtract(box, match)]
            remaining = left
    return permitted, remaining


def carve(boxes: list[Box], cutters: Iterable[Box]) -> list[Box]:
    """Return what is left of ``boxes`` outside every cutter."""
    left = list(boxes)
    for cutter in cutters:
        left = [part for box in left for part in subtract(box, cutter)]
        if not left:
            break
    return left
