"""Cisco IOS / IOS-XE (Catalyst L3 switches, ISR routers) ``show running-config`` to the rule model.

Understood: ``interface`` (ip address, secondary, ip access-group in/out, shutdown, vrf
forwarding), ``ip route`` (also per VRF), ``ip access-list extended|standard``, numbered
``access-list`` (1-199, 1300-2699), ``object-group network|service`` and ``ip nat inside source
static`` (noted). An interface without an access-group routes everything: that is what the
verdicts then see. Unknown ACE syntax is kept as not understood (the device is not assessed).
"""

from __future__ import annotations

from scanner.netdev import acl, model
from scanner.netdev.blocks import Line, indented
from scanner.netdev.model import ALL_ADDRESSES, Device, Interface, Note, Route, Rule, RuleSet, Service


def _rule(
    acl_name: str, seq: str, line: Line, words: list[str], objects: acl.Objects, standard: bool
) -> Rule | None:
    if standard:
        src, _ = acl.address(words, 1, objects, wildcard=True) if len(words) > 1 else ([ALL_ADDRESSES], 0)
        if words[0] not in ("permit", "deny"):
            raise acl.NotUnderstood(f"action {words[0]!r}")
        parsed: acl.Entry = (words[0], src, [ALL_ADDRESSES], [Service("ip")], {})
    else:
        parsed = acl.entry(words, objects, wildcard=True)
    if parsed[4].get("established"):
        return None
    return acl.rule(f"{acl_name} {seq}", line, acl_name, parsed)


def _acl(
    device: Device, name: str, entries: list[tuple[Line, list[str]]], objects: acl.Objects, standard: bool
) -> None:
    rules: list[Rule] = list(device.rulesets[name].rules) if name in device.rulesets else []
    for line, words in entries:
        if not words or words[0] == "remark":
            continue
        seq = words[0] if words[0].isdigit() else str(10 * (len(rules) + 1))
        body = words[1:] if words[0].isdigit() else words
        try:
            rule = _rule(name, seq, line, body, objects, standard)
        except (acl.NotUnderstood, ValueError, IndexError) as exc:
            device.unparsed.append(Note(line.number, line.text, f"access-list {name}: {exc or 'incomplete'}"))
            continue
        if rule is None:
            device.notes.append(Note(line.number, line.text, "established: matches return traffic only"))
        else:
            rules.append(rule)
    device.rulesets[name] = RuleSet(name, tuple(rules), "deny", entries[0][0].number if entries else 0)


def _interface(device: Device, line: Line) -> None:
    name = line.words[1]
    nets: list[model.Range] = []
    acl_in = acl_out = vrf = ""
    down = False
    for child in line.children:
        w = child.words
        if w[:2] == ["ip", "address"] and len(w) >= 4 and w[2][0].isdigit():
            nets.append(model.masked(w[2], w[3]))
        elif w[:2] == ["ip", "access-group"] and len(w) >= 4:
            if w[3] == "in":
                acl_in = w[2]
            else:
                acl_out = w[2]
        elif w == ["shutdown"]:
            down = True
        elif w[:2] in (["vrf", "forwarding"], ["ip", "vrf"]) and len(w) >= 3:
            vrf = w[-1]
    if not down:
        device.interfaces[name] = Interface(
            name, tuple(nets), line.number, acl_in=acl_in, acl_out=acl_out, vrf=vrf
        )


def _route(device: Device, line: Line) -> None:
    w = line.words[2:]
    vrf = ""
    if w and w[0] == "vrf":
        vrf, w = w[1], w[2:]
    dest = model.masked(w[0], w[1])
    via = w[2]
    if via[0].isdigit():
        hop = model.host(via)[0]
        found = [i.name for i in device.interfaces.values() if any(lo <= hop <= hi for lo, hi in i.networks)]
        if not found:
            device.notes.append(
                Note(line.number, line.text, "next hop on no connected network: route ignored")
            )
            return
        via = found[0]
    device.routes.append(Route(dest, via, line.number, vrf))


def cisco_objects(lines: list[Line], device: Device) -> acl.Objects:
    """Read IOS/ASA ``object`` and ``object-group`` definitions (in order: groups name earlier ones)."""
    objects = acl.Objects()
    for line in lines:
        w = line.words
        try:
            if w[0] in ("object-group", "object") and w[1] == "network":
                objects.networks[w[2]] = acl.network_group(line.children, objects)
            elif w[0] in ("object-group", "object") and w[1] == "service":
                kind = w[3] if len(w) > 3 else ""
                if (
                    kind
                    and w[0] == "object-group"
                    and all(c.words[0] == "port-object" for c in line.children)
                ):
                    got = acl.service_group(line.children, objects, kind)
                    objects.ports[w[2]] = [r for s in got for r in s.ports]
                    objects.port_protos[w[2]] = kind
                objects.services[w[2]] = acl.service_group(line.children, objects, kind)
        except (acl.NotUnderstood, ValueError, IndexError) as exc:
            device.unparsed.append(Note(line.number, line.text, f"object not understood: {exc}"))
    return objects


def parse(text: str, name: str, file: str) -> Device:
    """Return the rule model of an IOS configuration."""
    device = Device(name, "cisco-ios", file, "acl")
    lines = indented(text)
    objects = cisco_objects(lines, device)
    numbered: dict[str, list[tuple[Line, list[str]]]] = {}
    for line in lines:
        w = line.words
        if w[0] == "interface" and len(w) > 1:
            _interface(device, line)
    for line in lines:
        w = line.words
        if w[:2] == ["ip", "route"]:
            _route(device, line)
        elif w[:2] == ["ip", "access-list"] and len(w) >= 4 and w[2] in ("extended", "standard"):
            _acl(device, w[3], [(c, c.words) for c in line.children], objects, w[2] == "standard")
        elif w[0] == "access-list" and len(w) > 2 and w[1].isdigit():
            numbered.setdefault(w[1], []).append((line, w[2:]))
        elif w[:4] == ["ip", "nat", "inside", "source"] and "static" in w:
            device.notes.append(
                Note(line.number, line.text, "static NAT: the inside address is reachable at the global one")
            )
        elif w[0] == "router" and len(w) > 1 and w[1] in ("ospf", "bgp", "eigrp", "rip", "isis"):
            device.notes.append(Note(line.number, line.text, model.DYNAMIC))
        elif w[:2] == ["ipv6", "access-list"] or w[:2] == ["ipv6", "route"]:
            device.notes.append(Note(line.number, line.text, "IPv6 not assessed"))
    for number, entries in numbered.items():
        standard = int(number) < 100 or 1300 <= int(number) <= 1999
        _acl(device, number, entries, objects, standard)
    for iface in device.interfaces.values():
        for bound in (iface.acl_in, iface.acl_out):
            if bound and bound not in device.rulesets:
                # IOS permits everything through an access-group naming no ACL; say so rather than guess.
                device.notes.append(
                    Note(
                        iface.line,
                        f"interface {iface.name}: access-group {bound}",
                        "names no ACL: permits all",
                    )
                )
    return device
