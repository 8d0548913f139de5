"""Read what a probe saw: nmap XML (through python-nmap) or the fallback's lines, as port states.

A state is ``open``, ``closed`` (a reset came back: the path exists), ``filtered`` (no answer, or an
ICMP unreachable: blocked) or ``unknown`` (anything else; never read as blocked).
"""

from __future__ import annotations

import ipaddress
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field

import nmap

from scanner.probes.script import Output, Section

PATH_STATES = frozenset({"open", "closed"})


@dataclass
class Observed:
    """Port states by (address, port), hosts that answered a sweep, and what went wrong."""

    tool: str = ""
    version: str = ""
    ports: dict[tuple[str, int], tuple[str, str]] = field(default_factory=dict)  # -> (state, reason)
    up: dict[str, str] = field(default_factory=dict)  # address -> reason
    matrix_error: str = ""  # the matrix run failed: every state is unknown
    sweep_error: str = ""  # the sweep failed or was not possible
    matrix_item: str = "probe:nmap-zone-matrix"  # the raw-fact item holding the evidence
    sweep_item: str = "probe:nmap-zone-sweep"
    udp: dict[tuple[str, int], tuple[str, str]] = field(default_factory=dict)
    sport: dict[int, dict[tuple[str, int], tuple[str, str]]] = field(default_factory=dict)
    full: dict[tuple[str, int], tuple[str, str]] = field(default_factory=dict)  # paths the sweep found
    full_done: set[str] = field(default_factory=set)  # addresses the full sweep finished
    errors: dict[str, str] = field(default_factory=dict)  # "udp" | "sport" | "full" -> what went wrong
    notes: list[str] = field(default_factory=list)  # what was not probed, and why
    items: dict[str, str] = field(default_factory=dict)  # "udp" | "sport" | "full" -> raw-fact item


def _scanner() -> nmap.PortScanner:
    # python-nmap's parser, without PortScanner(), which runs `nmap -V` and so needs a local nmap:
    # the XML may come from a vantage reached over SSH.
    return nmap.PortScanner.__new__(nmap.PortScanner)


def _expand(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        out.extend(range(int(low), int(high or low) + 1))
    return out


def _address(host: ET.Element) -> str:
    node = host.find("address[@addrtype='ipv4']")
    node = node if node is not None else host.find("address[@addrtype='ipv6']")
    node = node if node is not None else host.find("address")
    return "" if node is None else str(ipaddress.ip_address(str(node.get("addr"))))


def _extraports(
    root: ET.Element, proto: str, ports: Sequence[int], found: dict[tuple[str, int], tuple[str, str]]
) -> None:
    """Fill the ports nmap folded into <extraports>, which python-nmap does not read."""
    for host in root.findall("host"):
        addr = _address(host)
        if not addr or host.get("timedout") == "true":
            continue
        extras = host.findall("ports/extraports")
        for extra in extras:
            state = str(extra.get("state"))
            for reasons in extra.findall("extrareasons"):
                listed = reasons.get("ports")
                if reasons.get("proto", proto) != proto:
                    continue
                for port in _expand(listed) if listed else []:
                    found.setdefault((addr, port), (state, str(reasons.get("reason", ""))))
        if len(extras) == 1 and not extras[0].findall("extrareasons[@ports]"):
            # One folded state and no port lists (older nmap): every port not listed has it.
            for port in ports:
                found.setdefault((addr, port), (str(extras[0].get("state")), "extraports"))


def _senders(root: ET.Element, proto: str) -> dict[tuple[str, int], str]:
    """Return the address an answer came from when it is not the target's (a router's ICMP)."""
    out = {}
    for host in root.findall("host"):
        addr = _address(host)
        for port in host.findall(f"ports/port[@protocol='{proto}']"):
            state = port.find("state")
            sender = state.get("reason_ip", "") if state is not None else ""
            if sender and addr and sender != addr:
                out[(addr, int(str(port.get("portid"))))] = sender
    return out


def nmap_ports(
    xml: str, ports: Sequence[int], proto: str = "tcp"
) -> tuple[dict[tuple[str, int], tuple[str, str]], str]:
    """Return the port states of a matrix run and the nmap version; raise ValueError on bad XML.

    A reason answered by another address than the target's reads ``port-unreach from 10.0.10.1``.
    """
    try:
        result = _scanner().analyse_nmap_xml_scan(nmap_xml_output=xml)
        root = ET.fromstring(xml)
        version = str(root.get("version", ""))
    except (nmap.PortScannerError, ET.ParseError, AttributeError) as exc:
        raise ValueError(f"nmap output is not a complete XML report: {str(exc)[:200]}") from None
    found: dict[tuple[str, int], tuple[str, str]] = {}
    for addr, info in result["scan"].items():
        for port, detail in info.get(proto, {}).items():
            found[(str(ipaddress.ip_address(addr)), int(port))] = (
                str(detail["state"]),
                str(detail["reason"]),
            )
    for key, sender in _senders(root, proto).items():
        if key in found:
            found[key] = (found[key][0], f"{found[key][1]} from {sender}")
    _extraports(root, proto, ports, found)
    return found, version


def nmap_up(xml: str) -> dict[str, str]:
    """Return the addresses a sweep found up, with nmap's reason (arp-response, syn-ack, ...)."""
    try:
        result = _scanner().analyse_nmap_xml_scan(nmap_xml_output=xml)
    except (nmap.PortScannerError, ET.ParseError, AttributeError) as exc:
        raise ValueError(f"nmap sweep output is not a complete XML report: {str(exc)[:200]}") from None
    return {
        str(addr): str(info["status"]["reason"])
        for addr, info in result["scan"].items()
        if info.get("status", {}).get("state") == "up"
    }


def _nc_state(rc: int, message: str) -> tuple[str, str]:
    """Classify one ``nc -z -v`` result by its exit status and words (OpenBSD, traditional, ncat)."""
    text = message.lower()
    if rc == 0:
        return "open", "connected"
    if "refused" in text:
        return "closed", "conn-refused"
    if any(w in text for w in ("timed out", "timeout", "no route to host", "unreachable")):
        return "filtered", "no-response"
    return "unknown", message.strip()[:80] or f"nc exit {rc}"


def fallback_ports(text: str) -> dict[tuple[str, int], tuple[str, str]]:
    """Parse the fallback's lines: ``nc <addr> <port> <rc> <message>`` or ``tcp <addr> <port> <state> <reason>``."""
    found: dict[tuple[str, int], tuple[str, str]] = {}
    for line in text.splitlines():
        words = line.split(" ", 4)
        if not line.strip():
            continue
        if len(words) < 4 or words[0] not in ("nc", "tcp"):
            raise ValueError(f"unexpected fallback line {line[:120]!r}")
        addr, port = str(ipaddress.ip_address(words[1])), int(words[2])
        if words[0] == "nc":
            found[(addr, port)] = _nc_state(int(words[3]), words[4] if len(words) > 4 else "")
        else:
            state = words[3] if words[3] in ("open", "closed", "filtered") else "unknown"
            found[(addr, port)] = (state, words[4] if len(words) > 4 else "")
    return found


MATRICES = ("nmap-syn-matrix", "nmap-syn-matrix-v6", "nmap-zone-matrix", "nmap-zone-matrix-v6")


def _kind(name: str) -> tuple[str, int]:
    """Return what a section holds ("tcp", "udp", "sport", "full" or "") and its source port."""
    if name in MATRICES or name == "tcp-connect-matrix":
        return "tcp", 0
    if name.startswith("nmap-udp-matrix"):
        return "udp", 0
    if name.startswith("nmap-sport-"):
        return "sport", int(name.removeprefix("nmap-sport-").removesuffix("-v6"))
    if name.startswith("nmap-full-sweep"):
        return "full", 0
    return "", 0


_NO_ROUTE = re.compile(r"failed to determine route to (\S+)")


def unrouted(stderr: str) -> list[str]:
    """Return the targets nmap dropped because the vantage has no route to them (raw-socket scans)."""
    out = []
    for found in _NO_ROUTE.findall(stderr):
        try:
            out.append(str(ipaddress.ip_address(found)))
        except ValueError:
            continue
    return out


def _no_route(seen: Observed, section: Section, ports: Sequence[int], udp: Sequence[int]) -> None:
    """Record the targets the vantage has no route to as blocked there (nmap lists no result for them)."""
    kind, sport = _kind(section.name)
    why = ("filtered", "no route from the vantage")
    for address in unrouted(section.stderr):
        if kind == "tcp":
            seen.ports.update({(address, p): why for p in ports})
        elif kind == "udp":
            seen.udp.update({(address, p): why for p in udp})
        elif kind == "sport":
            seen.sport.setdefault(sport, {}).update({(address, p): why for p in ports})
        elif kind == "full":
            seen.full_done.add(address)


def _section(seen: Observed, section: Section, ports: Sequence[int], udp: Sequence[int]) -> None:
    """Read one run's section into ``seen``; a broken run is an error of its kind, never a guess."""
    kind, sport = _kind(section.name)
    item = f"probe:{section.name}"
    _no_route(seen, section, ports, udp)
    try:
        if section.rc != 0:
            raise ValueError(f"exit {section.rc}: {section.stderr.strip()[-300:]}")
        if section.name == "tcp-connect-matrix":
            seen.ports.update(fallback_ports(section.stdout))
        elif kind == "tcp":
            found, seen.version = nmap_ports(section.stdout, ports)
            seen.ports.update(found)
        elif kind == "udp":
            seen.udp.update(nmap_ports(section.stdout, udp, "udp")[0])
        elif kind == "sport":
            seen.sport.setdefault(sport, {}).update(nmap_ports(section.stdout, ports)[0])
        else:
            found = nmap_ports(section.stdout, range(1, 65536))[0]
            seen.full_done |= {addr for addr, _ in found}
            seen.full.update({k: v for k, v in found.items() if v[0] in PATH_STATES})
    except ValueError as exc:
        message = f"{section.name} failed: {exc}"
        if kind == "tcp":
            seen.ports, seen.matrix_error = {}, seen.matrix_error or message
        else:
            seen.errors.setdefault(kind, message)
    if kind == "tcp":
        seen.matrix_item = item if seen.matrix_item == Observed.matrix_item else seen.matrix_item
    else:
        seen.items.setdefault(kind, item)


def read(
    output: Output, ports: Sequence[int], probing: bool, sweeping: bool, udp: Sequence[int] = ()
) -> Observed:
    """Turn a vantage's framed output into observations; problems are recorded, never guessed over."""
    seen = Observed(tool=output.tool)
    sections = output.sections
    version = sections.get("nmap-version")
    if version is not None:
        seen.version = version.stdout.strip().splitlines()[0] if version.stdout.strip() else ""
    if output.tool == "none":
        seen.matrix_error = seen.sweep_error = "the vantage has neither nmap, nc nor python3"
        return seen
    if probing and not any(_kind(n)[0] == "tcp" for n in sections):
        seen.matrix_error = "the probe printed no matrix result"
    for section in sections.values():
        if _kind(section.name)[0]:
            _section(seen, section, ports, udp)
    if "not-root" in sections:
        seen.notes.append(sections["not-root"].stdout.strip())
    elif output.tool != "nmap":
        seen.notes.append(f"{output.tool} fallback: TCP connect only (no UDP, source-port or full sweep)")
    sweep = next((sections[n] for n in ("nmap-zone-sweep", "tcp-connect-sweep") if n in sections), None)
    if sweeping and sweep is None:
        reason = "nc cannot sweep" if "sweep-unsupported" in sections else "no sweep output"
        seen.sweep_error = f"the zone sweep did not run ({reason})"
    elif sweep is not None:
        seen.sweep_item = f"probe:{sweep.name}"
        try:
            if sweep.rc != 0:
                raise ValueError(f"exit {sweep.rc}: {(sweep.stdout + sweep.stderr).strip()[-300:]}")
            if sweep.name == "nmap-zone-sweep":
                seen.up = nmap_up(sweep.stdout)
            else:
                seen.up = {w[1]: w[2] for w in (x.split() for x in sweep.stdout.splitlines()) if len(w) == 3}
        except ValueError as exc:
            seen.sweep_error = f"{sweep.name} failed: {exc}"
    if not output.complete:
        seen.matrix_error = seen.matrix_error or "the probe output ended early (no DONE line)"
        seen.sweep_error = seen.sweep_error or "the probe output ended early (no DONE line)"
    return seen
