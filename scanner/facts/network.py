"""Facts of subject 'network': addresses and the inventory zones they fall in, routes, listening ports."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from typing import Any

from scanner.facts import Context, Subject
from scanner.facts.services import probe_text, table
from scanner.rawfacts import RawFacts

# Routes the kernel adds for its own addresses: noise for a separation review.
_KERNEL_TYPES = {"local", "broadcast", "multicast", "anycast"}


def _shape(parse: Callable[[str], list[dict[str, Any]]]) -> Callable[[str], list[dict[str, Any]]]:
    """Turn `ip -j` output of an unexpected shape (a number, a list of strings, a missing key) into ValueError."""

    def checked(text: str) -> list[dict[str, Any]]:
        try:
            return parse(text)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"ip -j output of an unexpected shape ({type(exc).__name__}: {exc})") from None

    return checked


@_shape
def _addresses(text: str) -> list[dict[str, Any]]:
    out = []
    for link in json.loads(text):
        if "LOOPBACK" in link.get("flags", []):
            continue
        for info in link.get("addr_info", []):
            if info.get("scope") == "host":
                continue
            out.append({"ifname": link["ifname"], "address": info["local"], "prefix": int(info["prefixlen"])})
    return out


@_shape
def _routes(text: str) -> list[dict[str, Any]]:
    out = []
    for route in json.loads(text):
        kind = route.get("type", "unicast")
        if kind in _KERNEL_TYPES:
            continue
        entry = {"dst": route["dst"], "table": str(route.get("table", "main"))}
        for key in ("gateway", "dev"):
            if key in route:
                entry[key] = route[key]
        if kind != "unicast":
            entry["type"] = kind  # blackhole, unreachable, prohibit, throw
        out.append(entry)
    return out


def _split(local: str) -> tuple[str, int]:
    """Split ss's "addr:port" ("[::]:22", "127.0.0.53%lo:53", "*:68") into address and port."""
    address, _, port = local.rpartition(":")
    address = address.strip("[]").split("%")[0]
    if not port.isdigit():
        raise ValueError(f"ss: bad local address {local!r}")
    return address, int(port)


def _loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False  # "*" or "0.0.0.0": every interface
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def _listening(text: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for fields in table(text, 5, "ss"):
        address, port = _split(fields[4])
        entry = {"proto": fields[0], "address": address, "port": port}
        if not _loopback(address) and entry not in out:
            out.append(entry)
    return out


def _special(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    """Tell whether a network never carries traffic between zones (loopback, link-local, multicast)."""
    return net.is_loopback or net.is_link_local or net.is_multicast or net.is_unspecified


def _in_zones(net: ipaddress.IPv4Network | ipaddress.IPv6Network, ctx: Context) -> bool:
    for zone in ctx.inventory.zones.values():
        for cidr in zone.cidrs:
            mine = ipaddress.ip_network(cidr, strict=False)
            if mine.version == net.version and net.subnet_of(mine):  # type: ignore[arg-type]
                return True
    return False


def _outside(entries: list[str], ctx: Context) -> list[str]:
    """Return the networks or addresses (routable ones) that lie in no declared zone."""
    out = []
    for entry in entries:
        net = ipaddress.ip_network(entry, strict=False)
        if not _special(net) and not _in_zones(net, ctx) and entry not in out:
            out.append(entry)
    return out


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return addresses, zones, dual_homed, default_route, routes, what lies outside the zones, listening ports."""
    out: dict[str, Any] = {}
    addr = probe_text(raw, "ip-addr")
    if addr is not None:
        addresses = _addresses(addr)
        zones = sorted({z for a in addresses for z in ctx.inventory.zones_of(a["address"])})
        out.update({"addresses": addresses, "zones": zones, "dual_homed": len(zones) > 1})
        # An address in no zone (an IPv6 prefix the zones do not declare) is a path nobody judges.
        out["addresses_outside_zones"] = _outside([a["address"] for a in addresses], ctx)
    route = probe_text(raw, "ip-route")
    if route is not None:
        routes = _routes(route)
        out["routes"] = routes
        out["default_route"] = any(r["dst"] == "default" and "type" not in r for r in routes)
        unicast = [r["dst"] for r in routes if r["dst"] != "default" and "type" not in r]
        out["routes_outside_zones"] = _outside(unicast, ctx)
    listen = probe_text(raw, "ss-listen")
    if listen is not None:
        listening = _listening(listen)
        out["listening"] = listening
        ports = sorted({(e["proto"], e["port"]) for e in listening})
        out["listening_ports"] = [f"{proto}/{port}" for proto, port in ports]
        # Ports the inventory declares for this host (資産台帳: the services it offers) are expected.
        declared = {str(p) for p in ctx.host.vars.get("allowed_ports", [])}
        out["declared_ports"] = sorted(declared)
        out["undeclared_ports"] = [p for p in out["listening_ports"] if p not in declared]
    return out


SUBJECT = Subject(name="network", parse=parse, probes=("ip-addr", "ip-route", "ss-listen"))
