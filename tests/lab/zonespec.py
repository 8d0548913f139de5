"""What a zone lab is: its zones and hosts, the inventory and zone policy it renders, and the router's matrix.

Zones are /24 subnets of the run's 10.x.0.0/16 prefix behind one router namespace; ``outside``
stands for the internet and holds the canary (never an inventory zone). The router's nftables
forward chain implements the matrix of the lab's zones.yaml (deny by default), so probes that
cross it see real separation; tests/lab/zones.py builds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from tests.lab import sshhost

OCTET = {"mynumber": 10, "lgwan": 20, "internet": 30, "mgmt": 90, "dc": 99, "outside": 200, "vendor": 210}
# Beyond the zones: the internet (the canary) and a vendor's network a broken host routes to.
BEYOND = ("outside", "vendor")
LABELS = {
    "mynumber": ("マイナンバー利用事務系", "My Number zone"),
    "lgwan": ("LGWAN接続系", "LGWAN zone"),
    "internet": ("インターネット接続系", "Internet zone"),
    "mgmt": ("運用管理セグメント", "Management zone"),
    "dc": ("外部データセンター", "External data center"),
}
SCANNER = 2  # the scanner (root namespace) is .2 in mgmt; the router is .1 in every zone


@dataclass(frozen=True)
class Spec:
    """One lab host: where it sits, what it runs, whether it is a vantage."""

    name: str
    zone: str
    last: int  # last octet
    role: str = "server"
    sshd: bool = True
    listen: tuple[int, ...] = ()  # tcp ports a tiny listener holds open besides sshd
    vantage: bool = False
    inventory: bool = True  # False: a stranger the inventory does not know
    env: str = ""  # /etc/environment of the host
    hidden: tuple[int, ...] = ()  # tcp ports its firewall opens, undeclared (a test starts a listener)
    dns: bool = False  # answers DNS queries on udp/53 (declared)


def proxy_env(prefix: str) -> str:
    url = f"http://{prefix}{OCTET['internet']}.20:8080/"
    return f'http_proxy="{url}"\nhttps_proxy="{url}"\nno_proxy="localhost,127.0.0.1"\n'


def functional(prefix: str) -> list[Spec]:
    """Return the lab of the separation tests: every zone, a vantage in four, services that matter."""
    return [
        Spec("mn-probe-01", "mynumber", 10, vantage=True),
        Spec("mn-app-01", "mynumber", 20, listen=(445,)),
        Spec("lg-probe-01", "lgwan", 10, vantage=True),
        Spec("lg-relay-01", "lgwan", 20, listen=(443,)),
        Spec("lg-app-01", "lgwan", 30),
        Spec("in-probe-01", "internet", 10, role="terminal", vantage=True, env=proxy_env(prefix)),
        Spec("in-proxy-01", "internet", 20, role="proxy", listen=(8080,), hidden=(41234,), dns=True),
        Spec("dc-backup-01", "dc", 10, role="backup_storage", vantage=True),
        Spec("canary", "outside", 10, sshd=False, listen=(80, 443), inventory=False),
        Spec("vendor-srv", "vendor", 10, sshd=False, listen=(443,), inventory=False),
    ]


def bench(prefix: str, per_zone: int) -> list[Spec]:
    """Return a lab of ``per_zone`` lightweight hosts in each of the five zones, one vantage per zone."""
    out = []
    for zone in ("mynumber", "lgwan", "internet", "dc", "mgmt"):
        for i in range(per_zone):
            out.append(Spec(f"{zone[:2]}-{i:03d}", zone, 10 + i, sshd=False, vantage=i == 0))
    return [*out, Spec("canary", "outside", 10, sshd=False, listen=(80, 443), inventory=False)]


def cidr(prefix: str, zone: str) -> str:
    return f"{prefix}{OCTET[zone]}.0/24"


def address(prefix: str, zone: str, last: int) -> str:
    return f"{prefix}{OCTET[zone]}.{last}"


def cidr6(prefix: str, zone: str) -> str:
    """Return a zone's IPv6 prefix: a ULA /64 made of the lab's 10.x prefix and the zone's octet."""
    return f"fd00:{prefix.split('.')[1]}:{OCTET[zone]}::/64"


def address6(prefix: str, zone: str, last: int) -> str:
    return f"fd00:{prefix.split('.')[1]}:{OCTET[zone]}::{last:x}"


def matrix(prefix: str) -> list[tuple[str, str]]:
    """Return the router's allow rules that implement the lab's zones.yaml (comment, nft statement)."""
    zones = [z for z in OCTET if z not in BEYOND]
    relay = address(prefix, "lgwan", 20)
    proxy = address(prefix, "internet", 20)
    return [
        *((f"inside {z}", f"ip saddr {cidr(prefix, z)} ip daddr {cidr(prefix, z)} accept") for z in OCTET),
        (
            "FLOW-MGMT-SSH",
            f"ip saddr {cidr(prefix, 'mgmt')} ip daddr {{ {', '.join(cidr(prefix, z) for z in zones)} }} "
            "tcp dport 22 accept",
        ),
        ("FLOW-ELTAX", f"ip saddr {cidr(prefix, 'mynumber')} ip daddr {relay} tcp dport 443 accept"),
        (
            "egress-proxy",
            f"ip saddr {proxy} ip daddr {cidr(prefix, 'outside')} tcp dport {{ 80, 443 }} accept",
        ),
    ]


def router_rules(prefix: str, extra: list[tuple[str, str]] | None = None, reject: bool = False) -> str:
    """Return the router's nftables ruleset: the matrix, then drop (and nothing leaves the lab).

    ``reject``: refuse with an ICMP port-unreachable instead of dropping (a correct network still).
    """
    lab = ", ".join(cidr(prefix, z) for z in OCTET)
    lab6 = ", ".join(cidr6(prefix, z) for z in OCTET)
    body = "\n        ".join(f'{rule} comment "{why}"' for why, rule in [*matrix(prefix), *(extra or [])])
    last = 'reject with icmpx type port-unreachable comment "refused, not dropped"' if reject else ""
    return f"""\
table inet kijun_zones {{
    set lab {{ type ipv4_addr; flags interval; elements = {{ {lab} }} }}
    set lab6 {{ type ipv6_addr; flags interval; elements = {{ {lab6} }} }}
    chain forward {{
        type filter hook forward priority filter; policy drop;
        ip daddr != @lab drop comment "nothing leaves the lab"
        ip6 daddr != @lab6 drop comment "nothing leaves the lab"
        ct state established,related accept
        {body}
        {last}
    }}
    chain output {{
        type filter hook output priority filter; policy accept;
        oifname "lo" accept
        ip daddr != @lab drop comment "nothing leaves the lab"
        ip6 daddr != @lab6 meta l4proto != ipv6-icmp drop comment "nothing leaves the lab"
    }}
}}
"""


def host_firewall(spec: Spec) -> str:
    """Return a host's own nftables ruleset: inbound dropped by default, its services allowed (NET-06)."""
    ports = sorted({22, *spec.listen, *spec.hidden} if spec.sshd else {*spec.listen, *spec.hidden})
    allow = f"tcp dport {{ {', '.join(map(str, ports))} }} accept" if ports else ""
    allow += "\n        udp dport 53 accept" if spec.dns else ""
    return f"""\
table inet host {{
    chain input {{
        type filter hook input priority filter; policy drop;
        iif "lo" accept
        ct state established,related accept
        meta l4proto ipv6-icmp accept comment "neighbour discovery"
        {allow}
        meta l4proto tcp reject with tcp reset comment "closed ports answer, so the zone sweep sees the host"
    }}
}}
"""


def inventory(prefix: str, specs: list[Spec]) -> dict[str, Any]:
    """Return the lab inventory (hosts collected over ssh, as the kijun user with sudo)."""
    return {
        "name": "kijun-zone-lab",
        "description": "Network-namespace zone lab for the separation probes (tests only).",
        "zones": {
            z: {
                "label_ja": LABELS[z][0],
                "label_en": LABELS[z][1],
                "cidrs": [cidr(prefix, z), cidr6(prefix, z)],
            }
            for z in LABELS
        },
        "defaults": {"user": sshhost.USER, "transport": "ssh", "become": True},
        "hosts": [
            {
                "name": s.name,
                "address": address(prefix, s.zone, s.last),
                "zone": s.zone,
                "role": s.role,
                "vars": {"allowed_ports": [f"tcp/{p}" for p in s.listen] + (["udp/53"] if s.dns else [])},
            }
            for s in specs
            if s.inventory
        ],
    }


def zone_policy(prefix: str, specs: list[Spec]) -> dict[str, Any]:
    """Return the lab's zones.yaml: the matrix the router implements, its vantages, proxy and canary."""
    canary = next(s for s in specs if s.zone == "outside")
    return {
        "description": "Zone lab: the default matrix plus the lab's 特定通信 and egress.",
        "probe": {
            "max_retries": 1,
            "host_timeout_s": 30,
            "max_rtt_timeout_ms": 300,
            "connect_timeout_s": 2,
            "egress_probe": True,
            "full_sweep_rate": 10000,
            "full_sweep_budget_s": 60,
        },
        "flows": [
            {
                "id": "FLOW-ELTAX",
                "from": {"zone": "mynumber"},
                "to": {"host": "lg-relay-01"},
                "ports": [443],
                "why": "特定通信 (eLTAX) via the LGWAN relay",
                "approved_flow": "eltax",
            }
        ]
        if any(s.name == "lg-relay-01" for s in specs)
        else [],
        "egress": {
            "proxies": [{"host": s.name, "port": 8080} for s in specs if s.role == "proxy"],
            "canaries": [
                {"address": address(prefix, "outside", canary.last), "ports": [80, 443], "label": "canary"}
            ],
        },
        "known_addresses": [{"address": address(prefix, z, 1), "label": "lab router"} for z in LABELS],
        "vantages": [
            {
                "name": "scanner",
                "local": True,
                "zone": "mgmt",
                "addresses": [address(prefix, "mgmt", SCANNER)],
            },
            *({"host": s.name} for s in specs if s.vantage and s.zone != "mgmt"),
        ],
    }


def dump(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
