"""Render the zone lab's nftables router policy as a FortiOS and as an IOS configuration of the same policy.

The lab's router rules (tests/lab/zonespec.py ``matrix`` plus a variant's extra rules) are nft
statements of a small grammar: ``ip saddr A [ip daddr B] [tcp|udp dport P] accept`` where A, B and P
may be sets ``{ x, y }``. Each becomes a FortiOS policy (srcintf/dstintf any, address and service
objects) and IOS ACEs in one ACL bound ``in`` on every zone interface, in the same order.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from tests.lab import zonespec

_STATEMENT = re.compile(
    r"ip saddr (?P<src>\{[^}]*\}|\S+)(?: ip daddr (?P<dst>\{[^}]*\}|\S+))?"
    r"(?: (?P<proto>tcp|udp) dport (?P<ports>\{[^}]*\}|\S+))? accept"
)


@dataclass(frozen=True)
class LabRule:
    name: str
    src: tuple[str, ...]
    dst: tuple[str, ...]
    proto: str  # ip | tcp | udp
    ports: tuple[int, ...]


def _items(text: str | None) -> tuple[str, ...]:
    if not text:
        return ("0.0.0.0/0",)
    return tuple(x.strip() for x in text.strip("{}").split(",") if x.strip())


def rules(statements: list[tuple[str, str]]) -> list[LabRule]:
    """Parse the router's (comment, statement) pairs."""
    out = []
    for name, statement in statements:
        m = _STATEMENT.fullmatch(statement)
        if m is None:
            raise ValueError(f"lab statement not rendered: {statement!r}")
        ports = tuple(int(p) for p in _items(m["ports"])) if m["ports"] else ()
        out.append(LabRule(name, _items(m["src"]), _items(m["dst"]), m["proto"] or "ip", ports))
    return out


def _net(text: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(text if "/" in text else f"{text}/32", strict=False)


def fortios(prefix: str, extra: list[tuple[str, str]] | None = None) -> str:
    """Return the FortiOS configuration of the lab router with ``extra`` rules after the matrix."""
    lab = rules([*zonespec.matrix(prefix), *(extra or [])])
    out = ["#config-version=FGVM64-7.2.8-FW-build1639:opmode=0:vdom=0:user=kijun", "config system interface"]
    for zone in zonespec.OCTET:
        out += [
            f'    edit "z-{zone}"',
            '        set vdom "root"',
            f"        set ip {zonespec.address(prefix, zone, 1)} 255.255.255.0",
            "    next",
        ]
    out += ["end", "config firewall address"]
    names: dict[str, str] = {}
    for rule in lab:
        for item in (*rule.src, *rule.dst):
            net = _net(item)
            if str(net) not in names:
                names[str(net)] = f"n-{net.network_address}-{net.prefixlen}"
                out += [
                    f'    edit "{names[str(net)]}"',
                    f"        set subnet {net.network_address} {net.netmask}",
                    "    next",
                ]
    out += ["end", "config firewall service custom", '    edit "ALL"', "        set protocol IP", "    next"]
    services = sorted({(r.proto, p) for r in lab for p in r.ports})
    for proto, port in services:
        out += [f'    edit "{proto}-{port}"', f"        set {proto}-portrange {port}", "    next"]
    out += ["end", "config firewall policy"]
    for number, rule in enumerate(lab, 1):
        service = " ".join(f'"{rule.proto}-{p}"' for p in rule.ports) or '"ALL"'
        out += [
            f"    edit {number}",
            f'        set name "{rule.name}"',
            '        set srcintf "any"',
            '        set dstintf "any"',
            "        set action accept",
            "        set srcaddr " + " ".join(f'"{names[str(_net(s))]}"' for s in rule.src),
            "        set dstaddr " + " ".join(f'"{names[str(_net(d))]}"' for d in rule.dst),
            '        set schedule "always"',
            f"        set service {service}",
            "    next",
        ]
    return "\n".join([*out, "end", ""])


def _ios_address(text: str) -> str:
    net = _net(text)
    if net.prefixlen == 32:
        return f"host {net.network_address}"
    if net.prefixlen == 0:
        return "any"
    return f"{net.network_address} {net.hostmask}"


def ios(prefix: str, extra: list[tuple[str, str]] | None = None) -> str:
    """Return the IOS configuration of the lab router: one ACL, bound in on every zone interface."""
    lab = rules([*zonespec.matrix(prefix), *(extra or [])])
    out = ["hostname lab-router", "!"]
    for zone, octet in zonespec.OCTET.items():
        out += [
            f"interface Vlan{octet}",
            f" description {zone}",
            f" ip address {zonespec.address(prefix, zone, 1)} 255.255.255.0",
            " ip access-group LAB-FWD in",
            "!",
        ]
    out.append("ip access-list extended LAB-FWD")
    seq = 0
    for rule in lab:
        out.append(f" remark {rule.name}")
        for src in rule.src:
            for dst in rule.dst:
                for port in rule.ports or (0,):
                    seq += 10
                    tail = f" eq {port}" if rule.proto != "ip" else ""
                    out.append(f" {seq} permit {rule.proto} {_ios_address(src)} {_ios_address(dst)}{tail}")
    return "\n".join([*out, "!", "end", ""])


def variants(prefix: str, address: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
    """Return the broken variants of the lab router (name → extra rules), plus the correct one."""
    cidr = lambda zone: zonespec.cidr(prefix, zone)  # noqa: E731
    return {
        "correct": [],
        "stray": [
            ("stray-smb", f"ip saddr {cidr('lgwan')} ip daddr {address['mn-app-01']} tcp dport 445 accept")
        ],
        "any": [("any-mn-to-internet", f"ip saddr {cidr('mynumber')} ip daddr {cidr('internet')} accept")],
        "host32": [
            (
                "one-host-exception",
                f"ip saddr {address['mn-probe-01']}/32 ip daddr {address['in-proxy-01']} tcp dport 8080 accept",
            )
        ],
        "port": [
            (
                "unusual-port",
                f"ip saddr {cidr('lgwan')} ip daddr {address['mn-app-01']} tcp dport 4444 accept",
            )
        ],
    }


# What each variant breaks: (control, from zone, to zone).
BROKEN = {
    "correct": set(),
    "stray": {("NET-02", "lgwan", "mynumber")},
    "any": {("NET-01", "mynumber", "internet")},
    "host32": {("NET-01", "mynumber", "internet")},
    "port": {("NET-02", "lgwan", "mynumber")},
}
