"""YAMAHA RTX ``show config`` to the rule model: LAN/PP/tunnel addresses, routes, ip filter and secure filter lists.

Understood: ``ip lanN address``, ``ip route ... gateway``, ``pp select`` / ``tunnel select``
contexts, ``ip filter N pass|reject|restrict[-log|-nolog] SRC DST PROTO SPORT DPORT``, ``ip
filter dynamic N SRC DST PROTO`` (the common application names and ``filter N``), and ``ip IF
secure filter in|out LIST [dynamic LIST]``: filters apply in the listed order, the first match
decides and a packet no filter matches is discarded; a direction with no secure filter passes
everything. ``established``/``tcpfin``/``tcprst`` filters match return traffic only (no new flow).
"""

from __future__ import annotations

import re

from scanner.netdev import model
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

_ACTIONS = {"pass": "permit", "restrict": "permit", "reject": "deny"}
_RETURN_ONLY = {"established", "tcpfin", "tcprst"}
# ip filter dynamic application names → services (RTX command reference, "ip filter dynamic").
_DYNAMIC = {
    "ftp": [Service("tcp", ((21, 21),))],
    "www": [Service("tcp", ((80, 80),))],
    "smtp": [Service("tcp", ((25, 25),))],
    "pop3": [Service("tcp", ((110, 110),))],
    "domain": [Service("udp", ((53, 53),)), Service("tcp", ((53, 53),))],
    "telnet": [Service("tcp", ((23, 23),))],
    "tftp": [Service("udp", ((69, 69),))],
    "submission": [Service("tcp", ((587, 587),))],
    "https": [Service("tcp", ((443, 443),))],
    "tcp": [Service("tcp")],
    "udp": [Service("udp")],
    "echo": [Service("icmp")],
}


def _addresses(text: str) -> list[Range]:
    out: list[Range] = []
    for part in text.split(","):
        if part == "*":
            out.append(ALL_ADDRESSES)
        elif part.endswith(".*"):
            out.append(model.network(part.replace("*", "0") + f"/{8 * (part.count('.'))}"))
        elif "-" in part:
            lo, hi = part.split("-")
            out.append((model.host(lo)[0], model.host(hi)[0]))
        else:
            out.append(model.network(part))
    return out


def _ports(text: str) -> tuple[Range, ...]:
    if text == "*":
        return (ALL_PORTS,)
    out: list[Range] = []
    for part in text.split(","):
        lo, dash, hi = part.partition("-")
        out.append(
            (model.port(lo) if lo else 0, (model.port(hi) if hi else 65535) if dash else model.port(lo))
        )
    return tuple(out)


def _filter(number: str, words: list[str], line: int, text: str) -> Rule | None:
    action = _ACTIONS.get(words[0].split("-")[0])
    if action is None:
        raise ValueError(f"action {words[0]!r}")
    fields = words[1:] + ["*"] * (5 - len(words[1:]))
    src, dst, protos, sport, dport = fields[:5]
    services: list[Service] = []
    for proto in protos.split(","):
        if proto in _RETURN_ONLY:
            return None
        if proto == "*":
            services.append(Service("ip"))
        elif proto in ("tcp", "udp"):
            services.append(Service(proto, _ports(dport), _ports(sport)))
        elif proto in ("icmp", "icmp-error", "icmp-info"):
            services.append(Service("icmp"))
        elif proto.isdigit() or proto in ("gre", "esp", "ah"):
            services.append(Service("other"))
        else:
            raise ValueError(f"protocol {proto!r}")
    return Rule(
        f"filter {number}",
        line,
        action,
        tuple(_addresses(src)),
        tuple(_addresses(dst)),
        tuple(services),
        text,
    )


def _dynamic(number: str, words: list[str], line: int, text: str, statics: dict[str, Rule]) -> Rule:
    src, dst = _addresses(words[0]), _addresses(words[1])
    if words[2] == "filter":
        base = statics.get(words[3])
        if base is None:
            raise ValueError(f"dynamic filter {number}: no filter {words[3]}")
        return Rule(f"dynamic {number}", line, "permit", base.src, base.dst, base.services, text)
    services = _DYNAMIC.get(words[2])
    if services is None:
        raise ValueError(f"dynamic filter application {words[2]!r}")
    return Rule(f"dynamic {number}", line, "permit", tuple(src), tuple(dst), tuple(services), text)


def _iface(name: str, context: str) -> str:
    if name in ("pp", "tunnel"):
        return context.replace(" ", "") if context.startswith(name) else ""
    return name


def parse(text: str, name: str, file: str) -> Device:
    """Return the rule model of an RTX configuration."""
    device = Device(name, "yamaha-rtx", file, "acl")
    statics: dict[str, Rule] = {}
    dynamics: dict[str, Rule] = {}
    returning: set[str] = set()  # filters that match return traffic only: in lists, they open nothing
    lists: dict[tuple[str, str], tuple[list[str], list[str], int]] = {}
    addresses: dict[str, list[Range]] = {}
    routes: list[tuple[Range, str, int]] = []
    context = ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        w = line.split()
        try:
            if w[0] in ("pp", "tunnel") and len(w) == 3 and w[1] == "select":
                context = "" if w[2] == "none" else f"{w[0]} {w[2]}"
            elif w[:2] == ["ip", "filter"] and len(w) > 3 and w[2] == "dynamic":
                dynamics[w[3]] = _dynamic(w[3], w[4:], number, line, statics)
            elif w[:2] == ["ip", "filter"] and len(w) > 3 and w[2].isdigit():
                rule = _filter(w[2], w[3:], number, line)
                if rule is None:
                    device.notes.append(Note(number, line, "matches return traffic only"))
                    returning.add(w[2])
                else:
                    statics[w[2]] = rule
            elif w[0] == "ip" and len(w) >= 4 and w[2:4] == ["secure", "filter"]:
                iface = _iface(w[1], context)
                direction, rest = w[4], w[5:]
                cut = rest.index("dynamic") if "dynamic" in rest else len(rest)
                lists[(iface, direction)] = (rest[:cut], rest[cut + 1 :], number)
            elif w[0] == "ip" and len(w) >= 4 and w[2] == "address" and w[3][0].isdigit():
                addresses.setdefault(_iface(w[1], context), []).append(model.network(w[3]))
            elif w[:2] == ["ip", "route"] and "gateway" in w:
                dest = ALL_ADDRESSES if w[2] == "default" else model.network(w[2])
                via = w[w.index("gateway") + 1 :]
                routes.append((dest, "".join(via[:2]) if via[0] in ("pp", "tunnel") else via[0], number))
            elif w[0] in ("ospf", "bgp", "rip") and w[1:3] == ["use", "on"]:
                device.notes.append(Note(number, line, model.DYNAMIC))
            elif w[0] == "nat" and "static" in w:
                device.notes.append(
                    Note(number, line, "static NAT: an inside address is reachable from outside")
                )
            elif w[:2] == ["ipv6", "filter"] or (w[0] == "ipv6" and "secure" in w):
                device.notes.append(Note(number, line, "IPv6 not assessed"))
        except (ValueError, IndexError) as exc:
            device.unparsed.append(Note(number, line, f"not understood: {exc}"))
    for iface, nets in addresses.items():
        device.interfaces[iface] = Interface(iface, tuple(nets))
    _assemble(device, lists, statics, dynamics, routes, returning)
    return device


def _assemble(
    device: Device,
    lists: dict[tuple[str, str], tuple[list[str], list[str], int]],
    statics: dict[str, Rule],
    dynamics: dict[str, Rule],
    routes: list[tuple[Range, str, int]],
    returning: set[str],
) -> None:
    """Bind the filter lists to their interfaces and the routes to the interface they leave by."""
    for (iface, direction), (numbers, dyn, at) in lists.items():
        rules = [statics[n] for n in numbers if n in statics] + [dynamics[n] for n in dyn if n in dynamics]
        missing = [n for n in numbers if n not in statics and n not in returning]
        missing += [n for n in dyn if n not in dynamics]
        for n in missing:
            device.notes.append(
                Note(at, f"ip {iface} secure filter {direction}: {n}", "no such filter: skipped")
            )
        key = f"{iface} {direction}"
        device.rulesets[key] = RuleSet(key, tuple(rules), "deny", at)
        old = device.interfaces.get(iface, Interface(iface))
        device.interfaces[iface] = Interface(**{**old.__dict__, f"acl_{direction}": key})
    for dest, via, at in routes:
        if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", via):
            hop = model.host(via)[0]
            found = [
                i.name for i in device.interfaces.values() if any(lo <= hop <= hi for lo, hi in i.networks)
            ]
            if not found:
                device.notes.append(Note(at, f"route via {via}", "next hop on no connected network: ignored"))
                continue
            via = found[0]
        if via not in device.interfaces:
            device.interfaces[via] = Interface(via)
        device.routes.append(Route(dest, via, at))
