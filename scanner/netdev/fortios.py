"""FortiOS (FortiGate) ``show full-configuration`` to the rule model: interfaces, zones, objects, VIPs, policies.

Understood: ``config system interface`` (ip), ``system zone``, ``router static``, ``firewall
address`` (subnet, iprange), ``addrgrp``, ``service custom`` (tcp/udp-portrange, protocol IP/ICMP),
``service group``, ``vip`` (static NAT: a policy to a VIP reaches its mapped address) and
``firewall policy`` (srcintf, dstintf, srcaddr, dstaddr, service, action, status, schedule, nat).
Anything else a policy relies on (negation, internet-service, FQDN or geography objects, IPv6
policies, more than one VDOM) is kept as not understood.
"""

from __future__ import annotations

from typing import TypeVar

from scanner.netdev import model
from scanner.netdev.blocks import Block, fortios
from scanner.netdev.model import (
    ALL_ADDRESSES,
    ALL_PORTS,
    Device,
    Interface,
    Note,
    Range,
    Route,
    Rule,
    RuleSet,
    Service,
)

T = TypeVar("T")

# Predefined objects a `show` (not full) export may leave out (FortiOS defaults).
BUILTIN_ADDRESSES: dict[str, list[Range]] = {"all": [ALL_ADDRESSES], "none": []}
BUILTIN_SERVICES: dict[str, list[Service]] = {
    "ALL": [Service("ip")],
    "ALL_TCP": [Service("tcp")],
    "ALL_UDP": [Service("udp")],
    "ALL_ICMP": [Service("icmp")],
    "PING": [Service("icmp")],
    "HTTP": [Service("tcp", ((80, 80),))],
    "HTTPS": [Service("tcp", ((443, 443),))],
    "SSH": [Service("tcp", ((22, 22),))],
    "DNS": [Service("tcp", ((53, 53),)), Service("udp", ((53, 53),))],
    "SMB": [Service("tcp", ((445, 445),))],
    "RDP": [Service("tcp", ((3389, 3389),))],
    "SMTP": [Service("tcp", ((25, 25),))],
    "NTP": [Service("tcp", ((123, 123),)), Service("udp", ((123, 123),))],
}
_NEGATE = ("srcaddr-negate", "dstaddr-negate", "service-negate")
_FOREIGN = ("internet-service", "internet-service-src")


def _portranges(values: list[str], proto: str) -> list[Service]:
    """Return services of ``set tcp-portrange 80 8080-8090 53:1024-65535`` (dst[:src])."""
    out = []
    for item in values:
        dst, _, src = item.partition(":")
        lo, _, hi = dst.partition("-")
        slo, _, shi = src.partition("-")
        sports = ((int(slo), int(shi or slo)),) if src else (ALL_PORTS,)
        out.append(Service(proto, ((int(lo), int(hi or lo)),), sports))
    return out


def _service(edit: Block) -> list[Service] | None:
    proto = edit.get("protocol", "TCP/UDP/SCTP").upper()
    if proto == "IP":
        number = edit.get("protocol-number", "0")
        return [Service("ip")] if number in ("0", "") else [Service("other")]
    if proto in ("ICMP", "ICMP6"):
        return [Service("icmp")]
    if proto != "TCP/UDP/SCTP":
        return None
    out = _portranges(edit.values("tcp-portrange"), "tcp") + _portranges(edit.values("udp-portrange"), "udp")
    if edit.values("sctp-portrange"):
        out.append(Service("other"))
    return out


class _Objects:
    """Address and service objects and groups, resolved on demand (groups may nest)."""

    def __init__(self, root: Block, device: Device) -> None:
        self.device = device
        self.addresses: dict[str, list[Range] | None] = dict(BUILTIN_ADDRESSES)  # None: not understood
        self.services: dict[str, list[Service] | None] = dict(BUILTIN_SERVICES)
        self.groups: dict[str, list[str]] = {}
        self.service_groups: dict[str, list[str]] = {}
        self.vips: dict[str, list[Range]] = {}
        for edit in _edits(root, "firewall address"):
            kind = edit.get("type", "ipmask")
            if kind == "ipmask":
                address, _, mask = edit.get("subnet", "0.0.0.0 0.0.0.0").partition(" ")
                self.addresses[edit.name] = [model.masked(address, mask or "255.255.255.255")]
            elif kind == "iprange":
                self.addresses[edit.name] = [
                    (model.host(edit.get("start-ip"))[0], model.host(edit.get("end-ip"))[0])
                ]
            else:
                self.addresses[edit.name] = None
        for edit in _edits(root, "firewall addrgrp"):
            self.groups[edit.name] = edit.values("member")
        for edit in _edits(root, "firewall service custom"):
            self.services[edit.name] = _service(edit)
        for edit in _edits(root, "firewall service group"):
            self.service_groups[edit.name] = edit.values("member")
        for edit in _edits(root, "firewall vip"):
            mapped = [model.network(m.split("-")[0]) for m in edit.values("mappedip")]
            self.vips[edit.name] = mapped
            ext = edit.get("extip")
            device.notes.append(
                Note(
                    edit.line,
                    f"vip {edit.name}: {ext} → {' '.join(edit.values('mappedip'))}",
                    "static NAT: policies to this VIP reach the mapped address",
                )
            )

    def address(self, name: str, line: int) -> list[Range] | None:
        return self._expand(name, line, frozenset(), (self.vips, self.groups, self.addresses), "address type")

    def service(self, name: str, line: int) -> list[Service] | None:
        none: dict[str, list[Service]] = {}
        return self._expand(
            name, line, frozenset(), (none, self.service_groups, self.services), "service protocol"
        )

    def _expand(
        self,
        name: str,
        line: int,
        seen: frozenset[str],
        names: tuple[dict[str, list[T]], dict[str, list[str]], dict[str, list[T] | None]],
        what: str,
    ) -> list[T] | None:
        """Return the members of a fixed object, (nested) group or object, in that order of lookup.

        None, noted as unparsed, when one of them is unknown or not understood (``what``: "address type").
        """
        fixed, groups, objects = names
        if name in fixed:
            return fixed[name]
        if name in groups and name not in seen:
            out: list[T] = []
            for member in groups[name]:
                got = self._expand(member, line, seen | {name}, names, what)
                if got is None:
                    return None
                out += got
            return out
        found = objects.get(name)
        if found is None:
            kind = what.split()[0]
            why = f"unknown {kind} object" if name not in objects else f"{what} not understood"
            self.device.unparsed.append(Note(line, f"{kind} {name}", why))
        return found


def _edits(root: Block, name: str) -> list[Block]:
    return [e for c in root.configs(name) for e in c.edits()]


def _interfaces(root: Block, device: Device) -> None:
    zones = {m: e.name for e in _edits(root, "system zone") for m in e.values("interface")}
    for edit in _edits(root, "system interface"):
        address, _, mask = edit.get("ip", "0.0.0.0 0.0.0.0").partition(" ")
        nets = (model.masked(address, mask),) if address != "0.0.0.0" else ()
        device.interfaces[edit.name] = Interface(edit.name, nets, edit.line, zone=zones.get(edit.name, ""))
    for edit in _edits(root, "router static"):
        if edit.get("status", "enable") == "disable":
            continue
        dst = edit.get("dst", "0.0.0.0 0.0.0.0").split()
        dest = model.masked(dst[0], dst[1]) if len(dst) == 2 else model.network(dst[0])
        device.routes.append(Route(dest, edit.get("device"), edit.line))


def _policy(edit: Block, objects: _Objects, device: Device) -> Rule | None:
    for key in (*_NEGATE, *_FOREIGN):
        if edit.get(key) == "enable":
            device.unparsed.append(
                Note(edit.line_of(key), f"policy {edit.name}: set {key} enable", "not understood")
            )
            return None
    for key in ("srcaddr6", "dstaddr6"):
        if edit.values(key) and edit.values(key) != ["none"] and edit.get("action") == "accept":
            device.unparsed.append(Note(edit.line_of(key), f"policy {edit.name}: {key}", "IPv6 not assessed"))
    src, dst, services = [], [], []
    for name in edit.values("srcaddr"):
        got = objects.address(name, edit.line_of("srcaddr"))
        if got is None:
            return None
        src += got
    for name in edit.values("dstaddr"):
        got = objects.address(name, edit.line_of("dstaddr"))
        if got is None:
            return None
        dst += got
    for name in edit.values("service"):
        svc = objects.service(name, edit.line_of("service"))
        if svc is None:
            return None
        services += svc
    return Rule(
        id=edit.name,
        line=edit.line,
        action="permit" if edit.get("action", "deny") == "accept" else "deny",
        src=tuple(src),
        dst=tuple(dst),
        services=tuple(services),
        text=f"policy {edit.name}",
        src_ifs=tuple(edit.values("srcintf")),
        dst_ifs=tuple(edit.values("dstintf")),
        enabled=edit.get("status", "enable") != "disable",
        schedule=edit.get("schedule", "always"),
        nat="source NAT" if edit.get("nat") == "enable" else "",
        name=edit.get("name"),
    )


def parse(text: str, name: str, file: str) -> Device:
    """Return the rule model of a FortiGate configuration.

    >>> parse(open("tests/netdev/configs/fortigate.conf").read(), "fw", "f").rulesets["policy"].rules[0].id  # doctest: +SKIP
    '1'
    """
    root = fortios(text)
    device = Device(name, "fortios", file, "policy")
    vdoms = [e for c in root.children if c.kind == "config" and c.name == "vdom" for e in c.edits()]
    if len({v.name for v in vdoms}) > 1:
        device.unparsed.append(
            Note(vdoms[1].line, f"vdom {vdoms[1].name}", "more than one VDOM not assessed")
        )
    _interfaces(root, device)
    objects = _Objects(root, device)
    rules = [r for e in _edits(root, "firewall policy") if (r := _policy(e, objects, device)) is not None]
    device.rulesets["policy"] = RuleSet("policy", tuple(rules), "deny")
    for proto in ("router ospf", "router bgp", "router rip", "router isis"):
        for block in root.configs(proto):
            if block.sets or block.children:
                device.notes.append(Note(block.line, f"config {proto}", model.DYNAMIC))
    for other in ("firewall policy6", "firewall proxy-policy", "firewall security-policy"):
        for block in root.configs(other):
            if block.edits():
                device.unparsed.append(Note(block.line, f"config {other}", "not assessed"))
    return device
