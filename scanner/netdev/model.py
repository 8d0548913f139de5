"""The common rule model of firewalls and routers: interfaces, routes, rule sets in order, and what was not understood.

Every vendor parser (fortios, ios, asa, rtx) turns a configuration into one ``Device``. Addresses
are IPv4 intervals of integers (inclusive), ports are intervals too, so that reachability
(scanner/netdev/reach.py) is interval arithmetic. A line that matters for reachability but is
not understood is kept in ``unparsed``: the device is then not assessed, never passed.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

Range = tuple[int, int]  # inclusive
ALL_ADDRESSES: Range = (0, 2**32 - 1)
ALL_PORTS: Range = (0, 65535)
PROTOCOLS = ("tcp", "udp", "icmp", "other")
DYNAMIC = "dynamic routing: routes it learns are not in the configuration"  # "other": every IP protocol besides these three

# Well-known names the vendors accept in place of a port number (IOS/ASA keywords, RTX names).
PORT_NAMES = {
    "ftp-data": 20,
    "ftpdata": 20,
    "ftp": 21,
    "ssh": 22,
    "telnet": 23,
    "smtp": 25,
    "domain": 53,
    "dns": 53,
    "bootps": 67,
    "bootpc": 68,
    "tftp": 69,
    "www": 80,
    "http": 80,
    "pop3": 110,
    "sunrpc": 111,
    "ident": 113,
    "nntp": 119,
    "ntp": 123,
    "netbios-ns": 137,
    "netbios-dgm": 138,
    "netbios-ssn": 139,
    "imap": 143,
    "imap4": 143,
    "snmp": 161,
    "snmptrap": 162,
    "bgp": 179,
    "ldap": 389,
    "https": 443,
    "microsoft-ds": 445,
    "isakmp": 500,
    "syslog": 514,
    "login": 513,
    "lpd": 515,
    "route": 520,
    "rip": 520,
    "ldaps": 636,
    "submission": 587,
    "imaps": 993,
    "pop3s": 995,
    "sqlnet": 1521,
    "pptp": 1723,
    "radius": 1812,
    "nfs": 2049,
    "rdp": 3389,
}


@dataclass(frozen=True)
class Service:
    """What a rule matches above IP: a protocol and destination (and source) port intervals."""

    proto: str  # tcp | udp | icmp | other | ip (every protocol)
    ports: tuple[Range, ...] = (ALL_PORTS,)
    sports: tuple[Range, ...] = (ALL_PORTS,)

    @property
    def every(self) -> bool:
        return self.proto == "ip"

    def text(self) -> str:
        if self.proto in ("ip", "icmp", "other"):
            return "all" if self.proto == "ip" else self.proto
        return f"{self.proto}/{ports_text(self.ports)}"


ANY_SERVICE = Service("ip")


@dataclass(frozen=True)
class Rule:
    """One policy or ACL entry, in order, with where it is written."""

    id: str
    line: int
    action: str  # permit | deny
    src: tuple[Range, ...]
    dst: tuple[Range, ...]
    services: tuple[Service, ...]
    text: str = ""
    src_ifs: tuple[str, ...] = ()  # policy devices: ingress interfaces or zones ("any")
    dst_ifs: tuple[str, ...] = ()
    enabled: bool = True
    schedule: str = "always"
    nat: str = ""
    name: str = ""

    @property
    def broad(self) -> bool:
        """Tell whether the rule is an any/all rule: every source, every destination or every service."""
        return ALL_ADDRESSES in self.src or ALL_ADDRESSES in self.dst or any(s.every for s in self.services)

    def label(self) -> str:
        return self.id + (f" ({self.name})" if self.name and self.name not in self.id else "")


@dataclass(frozen=True)
class RuleSet:
    """An ordered rule list (an ACL, a filter list, a firewall policy table) and its default."""

    name: str
    rules: tuple[Rule, ...]
    default: str = "deny"  # what happens when no rule matches
    line: int = 0


@dataclass(frozen=True)
class Interface:
    """An interface with its connected networks and, where the vendor has them, zone and ACLs."""

    name: str
    networks: tuple[Range, ...] = ()
    line: int = 0
    zone: str = ""  # FortiOS zone / ASA nameif
    level: int | None = None  # ASA security-level
    acl_in: str = ""
    acl_out: str = ""
    dynamic_out: tuple[str, ...] = ()  # RTX dynamic filters on the out direction
    dynamic_in: tuple[str, ...] = ()
    vrf: str = ""  # IOS: interfaces route to each other only inside one VRF


@dataclass(frozen=True)
class Route:
    """A static route: destination interval and the interface it leaves by."""

    dest: Range
    interface: str
    line: int = 0
    vrf: str = ""


@dataclass(frozen=True)
class Note:
    """A line kept aside: not understood (the device is then not assessed) or worth saying (NAT)."""

    line: int
    text: str
    why: str


@dataclass
class Device:
    """One firewall or router as the verdicts see it."""

    name: str
    vendor: str
    file: str
    mode: str  # policy (FortiOS: one table across interface pairs) | acl (IOS, RTX, ASA)
    interfaces: dict[str, Interface] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    rulesets: dict[str, RuleSet] = field(default_factory=dict)
    unparsed: list[Note] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    global_acl: str = ""  # ASA access-group NAME global

    def where(self, rule: Rule) -> str:
        return f"{self.file}:{rule.line}"

    def to_json(self) -> dict[str, Any]:
        """Return the device as facts: interfaces, routes, rule counts, what was not understood."""
        return {
            "vendor": self.vendor,
            "mode": self.mode,
            "interfaces": {
                n: {"networks": [range_text(r) for r in i.networks], "zone": i.zone, "line": i.line}
                for n, i in self.interfaces.items()
            },
            "routes": [
                {"dest": range_text(r.dest), "interface": r.interface, "line": r.line} for r in self.routes
            ],
            "rulesets": {
                n: [{"id": r.id, "line": r.line, "action": r.action, "enabled": r.enabled} for r in s.rules]
                for n, s in self.rulesets.items()
            },
            "not_understood": [{"line": n.line, "text": n.text, "why": n.why} for n in self.unparsed],
            "notes": [{"line": n.line, "text": n.text, "why": n.why} for n in self.notes],
        }


def network(text: str) -> Range:
    """Return the interval of a CIDR or an address ("10.0.0.0/8", "10.1.2.3")."""
    net = ipaddress.IPv4Network(text, strict=False)
    return int(net.network_address), int(net.broadcast_address)


def masked(address: str, mask: str, wildcard: bool = False) -> Range:
    """Return the interval of an address with a netmask (or a Cisco wildcard when ``wildcard``)."""
    bits = int(ipaddress.IPv4Address(mask))
    if wildcard:
        bits = bits ^ 0xFFFFFFFF
    if bits and (bits | (bits - 1)) & 0xFFFFFFFF != 0xFFFFFFFF:
        raise ValueError(f"non-contiguous mask {mask}")
    base = int(ipaddress.IPv4Address(address)) & bits
    return base, base | (~bits & 0xFFFFFFFF)


def host(address: str) -> Range:
    value = int(ipaddress.IPv4Address(address))
    return value, value


def port(text: str) -> int:
    """Return a port number from a number or a well-known name."""
    if text.isdigit():
        return int(text)
    if text.lower() in PORT_NAMES:
        return PORT_NAMES[text.lower()]
    raise ValueError(f"unknown port name {text!r}")


def range_text(r: Range) -> str:
    """Return an interval as the fewest CIDRs (or a-b when that is shorter to read)."""
    lo, hi = ipaddress.IPv4Address(r[0]), ipaddress.IPv4Address(r[1])
    nets = [str(n) for n in ipaddress.summarize_address_range(lo, hi)]
    return nets[0] if len(nets) == 1 else ", ".join(nets) if len(nets) <= 3 else f"{lo}-{hi}"


def ports_text(ports: tuple[Range, ...] | list[Range]) -> str:
    if list(ports) == [ALL_PORTS]:
        return "all"
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in ports)


def merge(ranges: list[Range]) -> list[Range]:
    """Return sorted, merged intervals."""
    out: list[Range] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out
