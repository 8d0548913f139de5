"""Facts of subject 'network': addresses and the inventory zones they fall in, routes, listening ports."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from scanner.facts import Context, Subject
from scanner.facts.services import probe_text, table
from scanner.inventory import Zone
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


@lru_cache(maxsize=4096)
def _network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(entry, strict=False)


def _special(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    """Tell whether a network never carries traffic between zones (loopback, link-local, multicast)."""
    return net.is_loopback or net.is_link_local or net.is_multicast or net.is_unspecified


@lru_cache(maxsize=4096)
def _zones_of(address: str, zones: tuple[Zone, ...]) -> tuple[str, ...]:
    """Return ``Inventory.zones_of(address)`` for these zones (hosts share their zones and addresses)."""
    return tuple(z.name for z in zones if z.contains(address))


@lru_cache(maxsize=4096)
def _outside_zones(entry: str, zones: tuple[Zone, ...]) -> bool:
    net = _network(entry)
    if _special(net):
        return False
    for zone in zones:
        for cidr in zone.cidrs:
            mine = _network(cidr)
            if mine.version == net.version and net.subnet_of(mine):  # type: ignore[arg-type]
                return False
    return True


def _outside(entries: list[str], zones: tuple[Zone, ...]) -> list[str]:
    """Return the networks or addresses (routable ones) that lie in no declared zone."""
    out = []
    for entry in entries:
        if _outside_zones(entry, zones) and entry not in out:
            out.append(entry)
    return out


def _unicast(routes: list[dict[str, Any]]) -> list[str]:
    return [r["dst"] for r in routes if r["dst"] != "default" and "type" not in r]


def content(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return what the probes alone say; the inventory's part is left to ``finish``."""
    out: dict[str, Any] = {}
    addr = probe_text(raw, "ip-addr")
    if addr is not None:
        out["addresses"] = _addresses(addr)
        for entry in out["addresses"]:
            _network(entry["address"])  # an unreadable address is an error here, as in ``finish``
    route = probe_text(raw, "ip-route")
    if route is not None:
        routes = _routes(route)
        out["routes"] = routes
        out["default_route"] = any(r["dst"] == "default" and "type" not in r for r in routes)
        for dst in _unicast(routes):
            _network(dst)
    listen = probe_text(raw, "ss-listen")
    if listen is not None:
        listening = _listening(listen)
        out["listening"] = listening
        ports = sorted({(e["proto"], e["port"]) for e in listening})
        out["listening_ports"] = [f"{proto}/{port}" for proto, port in ports]
    return out


def finish(facts: dict[str, Any], raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Add the zones of the addresses and routes and the ports the inventory declares for the host."""
    out: dict[str, Any] = {}
    zones = tuple(ctx.inventory.zones.values())
    if "addresses" in facts:
        addresses = facts["addresses"]
        names = sorted({z for a in addresses for z in _zones_of(a["address"], zones)})
        out.update({"addresses": addresses, "zones": names, "dual_homed": len(names) > 1})
        # An address in no zone (an IPv6 prefix the zones do not declare) is a path nobody judges.
        out["addresses_outside_zones"] = _outside([a["address"] for a in addresses], zones)
    if "routes" in facts:
        out["routes"] = facts["routes"]
        out["default_route"] = facts["default_route"]
        out["routes_outside_zones"] = _outside(_unicast(facts["routes"]), zones)
    if "listening" in facts:
        out["listening"] = facts["listening"]
        out["listening_ports"] = facts["listening_ports"]
        # Ports the inventory declares for this host (資産台帳: the services it offers) are expected.
        declared = {str(p) for p in ctx.host.vars.get("allowed_ports", [])}
        out["declared_ports"] = sorted(declared)
        out["undeclared_ports"] = [p for p in out["listening_ports"] if p not in declared]
    return out


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return addresses, zones, dual_homed, default_route, routes, what lies outside the zones, listening ports."""
    return finish(content(raw, ctx), raw, ctx)


SUBJECT = Subject(
    name="network",
    parse=parse,
    probes=("ip-addr", "ip-route", "ss-listen"),
    content=content,
    finish=finish,
)
