"""Cisco ASA ``show running-config`` to the rule model: nameif interfaces, objects, extended ACLs, access-groups.

Understood: ``interface`` (nameif, security-level, ip address), ``route``, ``object network``
(host, subnet, range; ``nat`` noted), ``object service``, ``object-group network|service``,
``access-list NAME extended`` (ACLs use real addresses since ASA 8.3, so NAT does not change what
they match), ``access-group NAME in|out interface X`` and ``access-group NAME global``. Without an
ACL on the ingress interface, traffic flows from a higher to a lower security level only.
"""

from __future__ import annotations

from scanner.netdev import acl, model
from scanner.netdev.blocks import Line, indented
from scanner.netdev.ios import cisco_objects
from scanner.netdev.model import Device, Interface, Note, Route, RuleSet

SAME_SECURITY = "interfaces of one security level talk without an ACL"


def _interface(device: Device, line: Line) -> None:
    nets: list[model.Range] = []
    nameif = ""
    level: int | None = None
    down = False
    for child in line.children:
        w = child.words
        if w[0] == "nameif":
            nameif = w[1]
        elif w[0] == "security-level":
            level = int(w[1])
        elif w[:2] == ["ip", "address"] and len(w) >= 4 and w[2][0].isdigit():
            nets.append(model.masked(w[2], w[3]))
        elif w == ["shutdown"]:
            down = True
    if nameif and not down:
        device.interfaces[nameif] = Interface(nameif, tuple(nets), line.number, zone=nameif, level=level)


def _ace(device: Device, line: Line, objects: acl.Objects, counts: dict[str, int]) -> None:
    w = line.words
    name = w[1]
    if w[2] == "remark":
        return
    if w[2] != "extended":
        device.unparsed.append(
            Note(line.number, line.text, f"access-list {name}: only extended ACLs are assessed")
        )
        return
    counts[name] = counts.get(name, 0) + 1
    try:
        parsed = acl.entry(w[3:], objects, wildcard=False)
    except (acl.NotUnderstood, ValueError, IndexError) as exc:
        device.unparsed.append(Note(line.number, line.text, f"access-list {name}: {exc or 'incomplete'}"))
        return
    rule = acl.rule(f"{name} line {counts[name]}", line, name, parsed, enabled="inactive" not in parsed[4])
    old = device.rulesets.get(name)
    device.rulesets[name] = RuleSet(
        name, (*(old.rules if old else ()), rule), "deny", old.line if old else line.number
    )


def parse(text: str, name: str, file: str) -> Device:
    """Return the rule model of an ASA configuration."""
    device = Device(name, "cisco-asa", file, "acl")
    lines = indented(text)
    objects = cisco_objects(lines, device)
    bindings: list[tuple[str, str, str, int]] = []  # acl, direction, nameif, line
    counts: dict[str, int] = {}
    for line in lines:
        if line.words[0] == "interface":
            _interface(device, line)
    for line in lines:
        w = line.words
        if w[0] == "route" and len(w) >= 5:
            device.routes.append(Route(model.masked(w[2], w[3]), w[1], line.number))
        elif w[0] == "access-list" and len(w) > 3:
            _ace(device, line, objects, counts)
        elif w[0] == "router" and len(w) > 1 and w[1] in ("ospf", "bgp", "eigrp", "rip", "isis"):
            device.notes.append(Note(line.number, line.text, model.DYNAMIC))
        elif w[0] == "access-group" and len(w) >= 3:
            if w[2] == "global":
                device.global_acl = w[1]
            elif len(w) >= 5 and w[3] == "interface":
                bindings.append((w[1], w[2], w[4], line.number))
        elif w[0] == "object" and w[1] == "network":
            for child in line.children:
                if child.words[0] == "nat":
                    device.notes.append(
                        Note(child.number, child.text, f"object {w[2]}: NAT (ACLs match real addresses)")
                    )
                elif child.words[0] in ("fqdn",):
                    device.unparsed.append(Note(child.number, child.text, "FQDN objects not assessed"))
        elif w[0] == "same-security-traffic" and "inter-interface" in w:
            device.notes.append(Note(line.number, line.text, SAME_SECURITY))
    for name_, direction, nameif, number in bindings:
        iface = device.interfaces.get(nameif)
        if iface is None:
            device.unparsed.append(Note(number, f"access-group {name_}", f"no interface named {nameif}"))
            continue
        field = {"acl_in": name_} if direction == "in" else {"acl_out": name_}
        device.interfaces[nameif] = Interface(**{**iface.__dict__, **field})
    return device


def same_security(device: Device) -> bool:
    """Tell whether ``same-security-traffic permit inter-interface`` is set."""
    return any(n.why == SAME_SECURITY for n in device.notes)
