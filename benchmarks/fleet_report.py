"""The benchmark's printed report: the setup, one row per measured side, and the figures the targets are about."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from typing import Any

import fleet_sshd

from scanner.collect import Plan

APT = "apt-upgradable"


def row(label: str, f: dict[str, Any]) -> str:
    """Format one measured side: hosts, ok, wall, hosts/s, ms per host, client CPU ms per host, peak RSS."""
    n = max(1, f["hosts"])
    rss = f"{f['rss_mb']:9.0f}" if "rss_mb" in f else f"{'-':>9}"
    return (
        f"{label:<40} {f['hosts']:>6} {f['ok']:>6} {f['wall']:>9.2f} {f['hosts'] / f['wall']:>8.1f} "
        f"{1000 * f['wall'] / n:>8.1f} {1000 * f['cpu'] / n:>8.1f} {host_ms(f):>9.1f} {rss}"
    )


def host_ms(f: dict[str, Any]) -> float:
    """The hosts' side: CPU ms per host of the sshd sessions (sshd, shell, collector or commands)."""
    return 1000 * float(f.get("host_cpu", 0.0)) / max(1, f["hosts"])


HEADER = (
    f"{'':<40} {'hosts':>6} {'ok':>6} {'wall s':>9} {'hosts/s':>8} {'ms/host':>8} {'cpu ms/h':>8} "
    f"{'host ms/h':>9} {'RSS MB':>9}"
)


def rtt_rows(args: argparse.Namespace, m: dict[str, dict[str, Any]], delay: str, why: str) -> list[str]:
    """The one-at-a-time rows again at each --rtt (none without it)."""
    lines = []
    if args.rtt and delay == "relay":
        lines.append(f"(netem unavailable: {why}; delay by the benchmark's relay, see fleet_delay.py)")
    for rtt in args.rtt:
        lines += [
            f"one host at a time, {rtt:g} ms RTT ({delay}):",
            row("    kijun scan", m[f"rtt{rtt:g}_scan"]),
            row("    floor", m[f"rtt{rtt:g}_floor"]),
            row("    testinfra", m[f"rtt{rtt:g}_testinfra"]),
        ]
    return lines


def per_host(f: dict[str, Any]) -> float:
    return float(f["wall"]) / max(1, f["hosts"])


def render(
    args: argparse.Namespace,
    plan: Plan,
    script: bytes,
    m: dict[str, dict[str, Any]],
    load: tuple[float, ...],
    delay: str = "",
    why: str = "",
) -> str:
    """Return the printed report: setup, the table, and the figures the targets are about."""
    import paramiko

    try:
        from importlib.metadata import version

        testinfra_version = version("pytest-testinfra")
    except Exception:
        testinfra_version = "?"
    ssh_version = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
    checks = m["testinfra"].get("checks", 0)
    lines = [
        f"fleet: {args.hosts} hosts on one sshd ({fleet_sshd.address(0)}..{fleet_sshd.address(args.hosts - 1)}), "
        f"{os.cpu_count()} cores, load average at start {load[0]:.2f}, parallel {args.parallel}",
        f"plan: {len(plan.files)} file globs, {len(plan.stats)} stat globs, {len(plan.probes)} probes"
        f"{'' if args.with_apt else f' ({APT} left out)'}; script {len(script)} B, "
        f"output {m['floor']['bytes'] / 1024:.0f} KiB/host",
        f"versions: Python {sys.version.split()[0]}, paramiko {paramiko.__version__}, {ssh_version}, "
        f"pytest-testinfra {testinfra_version}",
        "",
        HEADER,
        row("(a) kijun scan (whole pipeline)", m["scan"]),
        row("    kijun collect (raw facts to folder)", m["collect"]),
        row("(b) floor: OpenSSH `ssh HOST sh -s`", m["floor"]),
        row(f"(c) testinfra paramiko ({checks} checks)", m["testinfra"]),
        f"one host at a time ({args.seq_hosts} hosts each):",
        row("    kijun scan", m["seq_scan"]),
        row("    floor", m["seq_floor"]),
        row("    testinfra", m["seq_testinfra"]),
        *rtt_rows(args, m, delay, why),
        "",
        f"kijun scan / floor, wall:              {m['scan']['wall'] / m['floor']['wall']:.2f}x  (target <= 1.5x)",
        f"kijun collect / floor, wall:           {m['collect']['wall'] / m['floor']['wall']:.2f}x",
        f"testinfra / kijun, time per host at parallel {args.parallel}: "
        f"{per_host(m['testinfra']) / per_host(m['scan']):.1f}x",
        f"testinfra / kijun, time per host one at a time: "
        f"{per_host(m['seq_testinfra']) / per_host(m['seq_scan']):.1f}x on loopback  (issue 12: >= 20x)",
        *(
            f"testinfra / kijun, one at a time at {rtt:g} ms RTT ({delay}): "
            f"{per_host(m[f'rtt{rtt:g}_testinfra']) / per_host(m[f'rtt{rtt:g}_scan']):.1f}x"
            for rtt in args.rtt
        ),
        f"testinfra remote commands per host: {m['testinfra']['commands'] / max(1, m['testinfra']['hosts']):.0f} "
        f"(kijun and the floor: 1); failed testinfra calls: {m['testinfra']['failed_calls']}",
        f"kijun scan peak RSS at {args.hosts} hosts: {m['scan']['rss_mb']:.0f} MB summed over its process tree "
        f"(PSS {m['scan'].get('pss_mb', 0):.0f} MB, the scan process alone {m['scan'].get('self_rss_mb', 0):.0f} MB)"
        f"  (target < 500 MB at 1000); child start-up (imports, pack, inventory): {m['scan']['startup']:.2f}s",
        f"kijun scan: {m['scan']['after_collection']:.2f}s of its wall time came after the last host was "
        "collected (evaluation, waivers, envelope)",
        f"hosts' side, sshd session CPU per host: kijun scan {host_ms(m['scan']):.1f} ms, floor "
        f"{host_ms(m['floor']):.1f} ms, testinfra {host_ms(m['testinfra']):.1f} ms "
        f"(one at a time: {host_ms(m['seq_scan']):.1f} / {host_ms(m['seq_floor']):.1f} / "
        f"{host_ms(m['seq_testinfra']):.1f} ms)",
        f"load average at end: {os.getloadavg()[0]:.2f}",
    ]
    return "\n".join(lines)
