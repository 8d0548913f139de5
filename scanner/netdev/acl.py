"""Cisco access-control entries (IOS extended ACLs and ASA ``access-list ... extended``) and their object groups.

One ACE parser for both: IOS writes wildcard masks (``10.0.0.0 0.0.255.255``), ASA netmasks
(``10.0.0.0 255.255.0.0``); both know ``any``, ``host``, ``object-group`` and the port operators
``eq``, ``neq``, ``lt``, ``gt``, ``range``. ``established`` entries match only return traffic, so
they open no new flow and are left out (with a note); IPv6 entries are not assessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from scanner.netdev import model
from scanner.netdev.blocks import Line
from scanner.netdev.model import ALL_ADDRESSES, ALL_PORTS, Range, Rule, Service

_PROTOS = {
    "ip": "ip",
    "tcp": "tcp",
    "udp": "udp",
    "icmp": "icmp",
    "6": "tcp",
    "17": "udp",
    "1": "icmp",
    "0": "ip",
}
T = TypeVar("T")
_SKIP = {"log", "log-input", "inactive", "echo", "echo-reply", "unreachable", "time-exceeded", "fragments"}


class NotUnderstood(ValueError):
    """An entry uses syntax the parser does not know: the device is then not assessed."""


@dataclass
class Objects:
    """Named network, service and port groups and objects (IOS object-group, ASA object and object-group)."""

    networks: dict[str, list[Range]] = field(default_factory=dict)
    services: dict[str, list[Service]] = field(default_factory=dict)  # service objects/groups
    ports: dict[str, list[Range]] = field(default_factory=dict)  # ASA object-group service NAME tcp
    port_protos: dict[str, str] = field(default_factory=dict)


def named(table: dict[str, list[T]], name: str, kind: str) -> list[T]:
    """Return the members of a named object or group defined earlier; NotUnderstood when there is none."""
    if name not in table:
        raise NotUnderstood(f"unknown {kind} object {name!r}")
    return table[name]


def proto(word: str) -> str:
    if word in _PROTOS:
        return _PROTOS[word]
    if word.isdigit():
        return "other"
    raise NotUnderstood(f"protocol {word!r}")


def ports(words: list[str], i: int, objects: Objects) -> tuple[tuple[Range, ...], int]:
    """Read a port operator at words[i]; return the port intervals and the next index."""
    if i >= len(words):
        return (ALL_PORTS,), i
    op = words[i]
    if op == "eq":
        got = []
        j = i + 1
        while j < len(words) and (words[j].isdigit() or words[j].lower() in model.PORT_NAMES):
            got.append((model.port(words[j]),) * 2)
            j += 1
        return tuple(got), j
    if op == "range":
        return ((model.port(words[i + 1]), model.port(words[i + 2])),), i + 3
    if op == "lt":
        return ((0, model.port(words[i + 1]) - 1),), i + 2
    if op == "gt":
        return ((model.port(words[i + 1]) + 1, 65535),), i + 2
    if op == "neq":
        p = model.port(words[i + 1])
        return ((0, p - 1), (p + 1, 65535)), i + 2
    if op == "object-group" and i + 1 < len(words) and words[i + 1] in objects.ports:
        return tuple(objects.ports[words[i + 1]]), i + 2
    return (ALL_PORTS,), i


def address(words: list[str], i: int, objects: Objects, wildcard: bool) -> tuple[list[Range], int]:
    """Read an address at words[i]; return its intervals and the next index."""
    word = words[i]
    if word in ("any", "any4"):
        return [ALL_ADDRESSES], i + 1
    if word in ("any6",) or ":" in word:
        raise NotUnderstood("IPv6 entry not assessed")
    if word == "host":
        return [model.host(words[i + 1])], i + 2
    if word in ("object-group", "object", "addrgroup"):
        return list(named(objects.networks, words[i + 1], "network")), i + 2
    if word == "interface":
        raise NotUnderstood("interface address as a rule endpoint")
    if "/" in word:
        return [model.network(word)], i + 1
    if i + 1 < len(words) and words[i + 1].count(".") == 3:
        return [model.masked(word, words[i + 1], wildcard)], i + 2
    return [model.host(word)], i + 1


Entry = tuple[
    str, list[Range], list[Range], list[Service], dict[str, str]
]  # action, src, dst, services, flags


def entry(words: list[str], objects: Objects, wildcard: bool) -> Entry:
    """Parse ``permit|deny PROTO SRC [PORTS] DST [PORTS] [options]`` (after any sequence number).

    >>> entry("permit tcp any host 10.0.0.5 eq 443".split(), Objects(), True)[3]
    [Service(proto='tcp', ports=((443, 443),), sports=((0, 65535),))]
    """
    action = words[0]
    if action not in ("permit", "deny"):
        raise NotUnderstood(f"action {action!r}")
    flags: dict[str, str] = {}
    i = 1
    if words[i] in ("object-group", "object") and words[i + 1] in objects.services:
        base = list(objects.services[words[i + 1]])
        protocol = ""
        i += 2
    else:
        protocol = proto(words[i])
        base = []
        i += 1
    src, i = address(words, i, objects, wildcard)
    sports: tuple[Range, ...] = (ALL_PORTS,)
    if protocol in ("tcp", "udp"):
        sports, i = ports(words, i, objects)
    dst, i = address(words, i, objects, wildcard)
    dports: tuple[Range, ...] = (ALL_PORTS,)
    if protocol in ("tcp", "udp"):
        dports, i = ports(words, i, objects)
    while i < len(words):
        word = words[i]
        if word == "established":
            flags["established"] = "yes"
        elif word == "time-range" and i + 1 < len(words):
            flags["schedule"] = words[i + 1]
            i += 1
        elif word == "inactive":
            flags["inactive"] = "yes"
        elif word == "log":
            while i + 1 < len(words) and words[i + 1] not in ("time-range", "inactive"):
                i += 1
        elif word not in _SKIP and protocol != "icmp":
            raise NotUnderstood(f"option {word!r}")
        i += 1
    if base:
        services = base
    elif protocol in ("tcp", "udp"):
        services = [Service(protocol, dports, sports)]
    else:
        services = [Service(protocol)]
    return action, src, dst, services, flags


def rule(rule_id: str, line: Line, acl_name: str, parsed: Entry, enabled: bool = True) -> Rule:
    """Return the rule of one parsed entry, written at ``line`` in the ACL ``acl_name``."""
    action, src, dst, services, flags = parsed
    return Rule(
        id=rule_id,
        line=line.number,
        action=action,
        src=tuple(src),
        dst=tuple(dst),
        services=tuple(services),
        text=line.text,
        enabled=enabled,
        schedule=flags.get("schedule", "always"),
        name=acl_name,
    )


def network_group(lines: list[Line], objects: Objects) -> list[Range]:
    """Resolve the members of a network object or group (IOS and ASA spellings)."""
    out: list[Range] = []
    for child in lines:
        w = child.words
        if w[0] in ("description", "nat"):  # ASA object NAT is noted by the ASA parser
            continue
        if (
            w[0] in ("network-object", "group-object")
            or w[0] in ("host", "subnet", "range")
            or w[0][0].isdigit()
        ):
            if w[0] == "group-object" or (w[0] == "network-object" and w[1] in ("object", "object-group")):
                out += named(objects.networks, w[-1], "network")
                continue
            rest = w[1:] if w[0] == "network-object" else w
            if rest[0] == "host":
                out.append(model.host(rest[1]))
            elif rest[0] == "subnet":
                out.append(model.masked(rest[1], rest[2]))
            elif rest[0] == "range":
                out.append((model.host(rest[1])[0], model.host(rest[2])[0]))
            elif "/" in rest[0]:
                out.append(model.network(rest[0]))
            else:
                out.append(model.masked(rest[0], rest[1]))  # groups use netmasks on IOS and ASA
        else:
            raise NotUnderstood(f"{child.text!r}")
    return out


def service_group(lines: list[Line], objects: Objects, kind: str) -> list[Service]:
    """Resolve a service object or group: ``service-object``, ``port-object`` (ASA), ``tcp eq 443`` (IOS)."""
    out: list[Service] = []
    for child in lines:
        w = child.words
        if w[0] == "description":
            continue
        if w[0] == "group-object" or (w[0] == "service-object" and w[1] in ("object", "object-group")):
            out += named(objects.services, w[-1], "service")
            continue
        if w[0] == "port-object":
            got, _ = ports(w, 1, objects)
            for p in kind.split("-") if kind else ["tcp"]:
                out.append(Service(p, got))
            continue
        body = w[1:] if w[0] in ("service-object", "service") else w
        protocols = ["tcp", "udp"] if body[0] == "tcp-udp" else [proto(body[0])]
        rest = body[1:]
        sports: tuple[Range, ...] = (ALL_PORTS,)
        dports: tuple[Range, ...] = (ALL_PORTS,)
        i = 0
        while i < len(rest):
            if rest[i] == "source":
                sports, i = ports(rest, i + 1, objects)
            elif rest[i] == "destination":
                dports, i = ports(rest, i + 1, objects)
            else:
                dports, j = ports(rest, i, objects)
                i = j if j > i else i + 1
        for p in protocols:
            out.append(Service(p, dports, sports) if p in ("tcp", "udp") else Service(p))
    return out
