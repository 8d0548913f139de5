"""The nmap command lines of a zone probe: timing, the matrix runs (SYN, connect, UDP, source ports), the sweeps.

Options only: scanner/probes/script.py puts them into the probe script. Every value is a number
or a validated address; nothing comes from YAML as text.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """The nmap timing a zone policy sets (recorded in the command line, so in the evidence)."""

    max_retries: int = 1
    host_timeout_s: int = 60
    initial_rtt_timeout_ms: int = 250
    max_rtt_timeout_ms: int = 600
    min_rate: int = 500  # probes per second nmap keeps up (0: nmap's own pace)
    connect_timeout_s: int = 3
    sweep_max_addresses: int = 65536
    full_sweep_rate: int = 5000  # probes per second of the full TCP sweep (its --min-rate and --max-rate)
    full_sweep_budget_s: int = 600  # the sweep's --host-timeout: a target not done by then is unknown


def matrix_args(
    ports: Sequence[int], timing: Timing, scan: str = "-sT", family: int = 4, sport: int = 0
) -> list[str]:
    """Return the nmap options of a matrix run: no ping, no DNS, every port listed, reasons.

    ``scan`` is ``-sT`` (connect, any user), ``-sS`` (SYN, root: a router's ICMP unreachable reads
    as filtered, not as the host's reset) or ``-sU``; ``sport`` a fixed source port (``-g``).
    """
    return [
        *(["-6"] if family == 6 else []),
        "-n",
        "-Pn",
        scan,
        "-v",  # without it nmap folds ports sharing a state into <extraports>
        "--reason",
        *(["-g", str(sport)] if sport else []),
        "--max-retries",
        str(timing.max_retries),
        "--host-timeout",
        f"{timing.host_timeout_s}s",
        "--initial-rtt-timeout",
        f"{timing.initial_rtt_timeout_ms}ms",
        "--max-rtt-timeout",
        f"{timing.max_rtt_timeout_ms}ms",
        *_rate(timing),
        "-p",
        ",".join(str(p) for p in sorted(set(ports))),
        "-oX",
        "-",
    ]


def full_args(timing: Timing, scan: str, family: int) -> list[str]:
    """Return the nmap options of the full TCP sweep: every port, at the policy's rate, within its budget."""
    rate = str(timing.full_sweep_rate)
    return [
        *(["-6"] if family == 6 else []),
        *("-n", "-Pn", scan, "--reason", "--max-retries", str(timing.max_retries)),
        *(
            "--host-timeout",
            f"{timing.full_sweep_budget_s}s",
            "--max-rtt-timeout",
            f"{timing.max_rtt_timeout_ms}ms",
        ),
        *("--min-rate", rate, "--max-rate", rate, "-p", "1-65535", "-oX", "-"),
    ]


def sweep_args(timing: Timing) -> list[str]:
    """Return the nmap options of the INV-01 sweep (host discovery only; up hosts are listed)."""
    return [
        "-n",
        "-sn",
        "--max-retries",
        str(timing.max_retries),
        "--host-timeout",
        f"{timing.host_timeout_s}s",
        *_rate(timing),
        "-oX",
        "-",
    ]


def _rate(timing: Timing) -> list[str]:
    # Dropped probes read to nmap as congestion, and it slows down on exactly the filtered ports a
    # separated zone is made of; a floor on the rate keeps a 100-host matrix from taking minutes.
    return ["--min-rate", str(timing.min_rate)] if timing.min_rate else []


def sport_ports(ports: Sequence[int], sport: int) -> list[int]:
    """Return the ports probed from source port ``sport``: all but ``sport`` itself.

    Vantages in two NET-01 zones probe each other at the same time. From source port 53 to port 53
    one vantage's SYN is the other's reversed (the same four-tuple), a TCP simultaneous open that
    stateful filters pair into one connection, so the other vantage's own probe made the answer
    (seen in the lab: IPv6 tcp/53 from source port 53 "closed (reset)" on a correct network).
    A stateless source-port rule is still found on every other port.
    """
    return [p for p in ports if p != sport]


@dataclass(frozen=True)
class Runs:
    """What a probe script runs beyond the TCP matrix (UDP, source ports and the sweep need root)."""

    udp: Sequence[int] = ()
    deep: Sequence[str] = ()  # addresses of deep pairs (NET-01): source-port probes, full sweep
    sports: Sequence[int] = ()
    full: bool = False


def families(addresses: Sequence[str]) -> list[tuple[int, str, list[str]]]:
    """Split addresses by family: (family, section suffix, addresses), IPv4 first; nmap needs -6 apart."""
    out = []
    for family, suffix in ((4, ""), (6, "-v6")):
        group = [a for a in addresses if ipaddress.ip_address(a).version == family]
        if group:
            out.append((family, suffix, group))
    return out


def nmap_runs(
    addresses: list[str], ports: list[int], timing: Timing, runs: Runs, root: bool
) -> list[tuple[str, list[str], list[str]]]:
    """Return (section, nmap options, addresses) of every nmap run, as root or not."""
    scan = "-sS" if root else "-sT"
    deep = [a for a in addresses if a in set(list(runs.deep))]
    out = []
    for family, suffix, group in families(addresses):
        name = "nmap-syn-matrix" if root else "nmap-zone-matrix"
        out.append((name + suffix, matrix_args(ports, timing, scan, family), group))
        if root and runs.udp:
            out.append((f"nmap-udp-matrix{suffix}", matrix_args(runs.udp, timing, "-sU", family), group))
    for family, suffix, group in families(deep):
        for sport in runs.sports if root else ():
            mirrored = sport_ports(ports, sport)
            if mirrored:
                out.append(
                    (f"nmap-sport-{sport}{suffix}", matrix_args(mirrored, timing, scan, family, sport), group)
                )
        if runs.full:
            out.append((f"nmap-full-sweep{suffix}", full_args(timing, scan, family), group))
    return out
