"""Network: addresses and routes (`ip -j`), listening sockets (`ss`) and the host firewall (nftables)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .model import BASTION, Spec
from .services import role_units


def mac(spec: Spec, ifname: str) -> str:
    digest = hashlib.sha256(f"{spec.name}:{ifname}".encode()).digest()
    prefix = "3c:52:82" if spec.terminal else "00:50:56"  # HP desktops / VMware guests
    return prefix + "".join(f":{b:02x}" for b in digest[:3])


def link_local(hwaddr: str) -> str:
    octets = [int(x, 16) for x in hwaddr.split(":")]
    octets[0] ^= 0x02
    eui = [*octets[:3], 0xFF, 0xFE, *octets[3:]]
    groups = [f"{(eui[i] << 8) | eui[i + 1]:x}" for i in range(0, 8, 2)]
    return "fe80::" + ":".join(groups)


def interfaces(spec: Spec) -> list[tuple[str, str, int]]:
    out = [(spec.ifname, spec.host.address, 24)]
    out += [(i["name"], i["address"], i["prefix"]) for i in spec.facts.get("interfaces", [])]
    return out


FOREVER = 4294967295
ROUTE_KEYS = (
    "type",
    "dst",
    "gateway",
    "dev",
    "table",
    "protocol",
    "scope",
    "prefsrc",
    "metric",
    "flags",
    "pref",
)


def address_info(family: str, local: str, prefix: int, scope: str, **extra: Any) -> dict[str, Any]:
    """Return one addr_info entry in the key order `ip -j addr` prints."""
    info: dict[str, Any] = {"family": family, "local": local, "prefixlen": prefix}
    info.update({k: v for k, v in extra.items() if k == "broadcast"})
    info["scope"] = scope
    info.update({k: v for k, v in extra.items() if k != "broadcast"})
    return {**info, "valid_life_time": FOREVER, "preferred_life_time": FOREVER}


def link(
    index: int, name: str, flags: list[str], kind: str, hwaddr: str, addrs: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    """Return one interface in the key order `ip -j addr` prints."""
    loopback = kind == "loopback"
    out: dict[str, Any] = {
        "ifindex": index, "ifname": name, "flags": flags, "mtu": 65536 if loopback else 1500,
        "qdisc": extra.pop("qdisc", "noqueue"), "operstate": "UNKNOWN" if loopback else "UP", "group": "default",
        "txqlen": 1000, "link_type": kind, "address": hwaddr,
        "broadcast": "00:00:00:00:00:00" if loopback else "ff:ff:ff:ff:ff:ff",
    }  # fmt: skip
    return {**out, **extra, "addr_info": addrs}


def ip_addr(spec: Spec) -> str:
    links = [link(1, "lo", ["LOOPBACK", "UP", "LOWER_UP"], "loopback", "00:00:00:00:00:00", [
        address_info("inet", "127.0.0.1", 8, "host", label="lo"),
        address_info("inet6", "::1", 128, "host", noprefixroute=True),
    ])]  # fmt: skip
    for index, (ifname, address, prefix) in enumerate(interfaces(spec), start=2):
        hwaddr = mac(spec, ifname)
        net = address.rsplit(".", 1)[0]
        extra: dict[str, Any] = {"qdisc": "fq_codel" if spec.terminal else "mq"}
        if not spec.terminal:
            extra["altnames"] = [f"enp{11 + 8 * (index - 2)}s0"]
        links.append(link(index, ifname, ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"], "ether", hwaddr, [
            address_info("inet", address, prefix, "global", broadcast=f"{net}.255", label=ifname),
            address_info("inet6", link_local(hwaddr), 64, "link"),
        ], **extra))  # fmt: skip
    return json.dumps(links, separators=(",", ":")) + "\n"


ZONE_ROUTES = {  # static routes per zone; only LGWAN and internet hosts have a default route
    "mynumber": ["10.10.0.0/16", "10.90.0.0/16"],
    "mgmt": ["10.10.0.0/16", "10.20.0.0/16", "10.30.0.0/16", "10.99.0.0/16"],
    "dc": ["10.90.0.0/16"],
}


def route(dst: str, **fields: Any) -> dict[str, Any]:
    """Return one route in the key order `ip -j route` prints."""
    values = {"dst": dst, "flags": [], **fields}
    return {k: values[k] for k in ROUTE_KEYS if k in values}


def ip_route(spec: Spec) -> str:
    ifname, address, _ = interfaces(spec)[0]
    gateway = address.rsplit(".", 1)[0] + ".1"
    routes = [route("default", gateway=gateway, dev=ifname)] if spec.zone in ("lgwan", "internet") else []
    routes += [
        route(dst, gateway=gateway, dev=ifname, protocol="boot") for dst in ZONE_ROUTES.get(spec.zone, [])
    ]
    local = []
    for dev, addr, prefix in interfaces(spec):
        net = addr.rsplit(".", 1)[0]
        routes.append(route(f"{net}.0/{prefix}", dev=dev, protocol="kernel", scope="link", prefsrc=addr))
        host = {"dev": dev, "table": "local", "protocol": "kernel", "prefsrc": addr}
        local += [
            route(addr, type="local", scope="host", **host),
            route(f"{net}.255", type="broadcast", scope="link", **host),
        ]
    lo = {"dev": "lo", "table": "local", "protocol": "kernel", "prefsrc": "127.0.0.1"}
    loopback = [
        route("127.0.0.0/8", type="local", scope="host", **lo),
        route("127.0.0.1", type="local", scope="host", **lo),
        route("127.255.255.255", type="broadcast", scope="link", **lo),
    ]
    six = [
        route("fe80::/64", dev=dev, protocol="kernel", metric=256, pref="medium")
        for dev, _, _ in interfaces(spec)
    ]
    six.append(
        route("::1", type="local", dev="lo", table="local", protocol="kernel", metric=0, pref="medium")
    )
    return json.dumps(routes + loopback + local + six, separators=(",", ":")) + "\n"


def services_ports(spec: Spec) -> list[tuple[str, int, str]]:
    """Return (proto, port, who may connect) for what the host serves beyond SSH, by port."""
    extra = [(p["proto"], p["port"], p["from"]) for p in spec.facts.get("ports", [])]
    return sorted(role_ports(spec) + extra, key=lambda p: p[1])


def role_ports(spec: Spec) -> list[tuple[str, int, str]]:
    """Return (proto, port, who may connect) for what the host's role and system serve."""
    system, role = spec.host.system, spec.role
    zone_cidr = spec.inv.zones[spec.zone].cidrs[0]
    all_zones = "10.10.0.0/16, 10.20.0.0/16, 10.30.0.0/16, 10.90.0.0/16"
    if role == "log_server":
        return [("tcp", 6514, zone_cidr + (", 10.99.0.0/16" if spec.zone == "mgmt" else ""))]
    if role == "proxy":
        return [("tcp", 8080, zone_cidr)]
    if role == "backup_storage":
        return [("tcp", 443, "10.90.0.10" if spec.name == "backup-dc-01" else all_zones)]
    if system == "基幹系データベース":
        return [("tcp", 5432, "10.10.10.0/24")]
    if system == "ファイルサーバ":
        return [("tcp", 139, zone_cidr), ("tcp", 445, zone_cidr)]
    if system == "ホームページCMS":
        return [("tcp", 443, "0.0.0.0/0")]
    if system.startswith("メール中継"):
        return [("tcp", 25, "0.0.0.0/0")]
    if system == "統合監視":
        return [("tcp", 443, zone_cidr), ("tcp", 10051, all_zones)]
    if "app" in role_units(spec):
        return [("tcp", 443, zone_cidr)]
    return []


def ss_listen(spec: Spec) -> str:
    rows = [
        ["udp", "UNCONN", "0", "0", "127.0.0.1:323", "0.0.0.0:*"],
        ["udp", "UNCONN", "0", "0", "[::1]:323", "[::]:*"],
        ["tcp", "LISTEN", "0", "128", "0.0.0.0:22", "0.0.0.0:*"],
        ["tcp", "LISTEN", "0", "128", "[::]:22", "[::]:*"],
    ]
    if spec.terminal:
        rows.append(["tcp", "LISTEN", "0", "128", "127.0.0.1:631", "0.0.0.0:*"])
    if spec.host.system.startswith("メール中継"):
        rows.append(["tcp", "LISTEN", "0", "100", "127.0.0.1:10025", "0.0.0.0:*"])
    for proto, port, _ in services_ports(spec):
        if port == 5432:
            rows += [
                ["tcp", "LISTEN", "0", "244", "127.0.0.1:5432", "0.0.0.0:*"],
                ["tcp", "LISTEN", "0", "244", f"{spec.host.address}:5432", "0.0.0.0:*"],
            ]
        else:
            backlog = (
                "511"
                if port in (80, 443)
                else "4096"
                if port in (6514, 8080)
                else "100"
                if port == 25
                else "50"
            )
            rows.append([proto, "LISTEN", "0", backlog, f"0.0.0.0:{port}", "0.0.0.0:*"])
            rows.append([proto, "LISTEN", "0", backlog, f"[::]:{port}", "[::]:*"])
    rows.sort(key=lambda r: (r[0] != "udp", int(r[4].rsplit(":", 1)[1])))
    out = []
    for netid, state, recv, send, local, peer in rows:
        addr, number = local.rsplit(":", 1)
        out.append(f"{netid:<5} {state:<6} {recv:<6} {send:<6} {addr:>15}:{number:<5} {peer:>9}")
    return "\n".join(out) + "\n"


def nft_ruleset(spec: Spec) -> str:
    rules = [
        "\t\tct state established,related accept",
        "\t\tct state invalid drop",
        '\t\tiif "lo" accept',
        "\t\ticmp type echo-request accept",
        "\t\tmeta l4proto ipv6-icmp accept",
        f'\t\tip saddr {BASTION} tcp dport 22 accept comment "bastion-01"',
    ]
    for proto, port, sources in services_ports(spec):
        src = (
            ""
            if sources == "0.0.0.0/0"
            else (f"ip saddr {{ {sources} }} " if "," in sources else f"ip saddr {sources} ")
        )
        rules.append(f"\t\t{src}{proto} dport {port} accept")
    rules.append('\t\tlimit rate 10/minute log prefix "nft-input-drop: "')
    return (
        "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n"
        + "\n".join(rules)
        + "\n\t}\n\n\tchain forward {\n\t\ttype filter hook forward priority filter; "
        "policy drop;\n\t}\n\n\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n"
        "\t}\n}\n"
    )


def add_network(spec: Spec) -> None:
    spec.probe("ip-addr", ip_addr(spec))
    spec.probe("ip-route", ip_route(spec))
    spec.probe("ss-listen", ss_listen(spec))
    spec.probe("nft-ruleset", nft_ruleset(spec))
    spec.probe("iptables-save", "", rc=127, stderr="sh: 1: iptables-save: not found\n")
