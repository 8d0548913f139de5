#!/usr/bin/env python3
"""Benchmark the zone probes: kijun's batched probe (one nmap per vantage) against one nmap per target.

Builds a zone lab (tests/lab/zones.py on tests/lab/netlab.py, as root) of five zones (mynumber, lgwan, internet, dc,
mgmt) with ``--per-zone`` hosts each (default 21: 105 hosts) plus a canary outside, behind a
router whose nftables implement the default matrix. Every zone has a vantage (its first host; the
scanner itself in mgmt too). For the full matrix of every vantage (targets and ports from
scanner/probes/plan.py, the zone sweep left out) it times, in the same run:

(a) kijun: ``run_vantage`` per vantage (one probe script, one nmap over all its targets and
    ports, XML read back), vantages in parallel as ``kijun scan`` runs them;
(b) one nmap per target host: the same nmap options and ports, each vantage's targets one after
    the other (vantages in parallel), plain nmap without kijun's script or parsing.

Both must see the same port states. Traffic goes to lab addresses only; the lab is removed at the
end. See benchmarks/README.md.

    sudo python benchmarks/zone_probe.py              # 5 zones x 21 hosts
    sudo python benchmarks/zone_probe.py --per-zone 4 # a smoke run
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanner.collect.probes import egress_command
from scanner.policy import load_pack
from scanner.probes import observe, script
from scanner.probes.plan import Plan, plan_for
from scanner.probes.probe import run_vantage, timing
from scanner.probes.vantage import Vantage, vantages_for
from scanner.probes.zonefile import for_inventory
from scanner.probes.zonepolicy import ZonePolicy
from tests.lab import zonespec
from tests.lab.netlab import teardown
from tests.lab.netns import cleanup_stale, unavailable
from tests.lab.zones import ZoneLab, build

States = dict[tuple[str, int], str]


def batched(vantage: Vantage, plan: Plan, policy: ZonePolicy) -> tuple[States, int]:
    """Run kijun's probe of one vantage; return the port states and the number of nmap runs."""
    seen, _ = run_vantage(vantage, plan, policy)
    assert not seen.matrix_error, seen.matrix_error
    return {k: s for k, (s, _) in seen.ports.items()}, 1


def per_target(lab: ZoneLab, vantage: Vantage, plan: Plan, policy: ZonePolicy) -> tuple[States, int]:
    """Run one plain nmap per target host, one after the other; return the port states and the run count."""
    args = script.matrix_args(plan.ports, timing(policy))
    prefix = ["ip", "netns", "exec", lab.ns(vantage.name)] if vantage.host else []
    states: States = {}
    for target in plan.targets:
        xml = subprocess.run(
            [*prefix, "nmap", *args, target.address], capture_output=True, text=True, check=True
        )
        found, _ = observe.nmap_ports(xml.stdout, plan.ports)
        states.update({k: s for k, (s, _) in found.items()})
    return states, len(plan.targets)


def timed(
    jobs: list[tuple[Vantage, Plan]], fn: Callable[[Vantage, Plan], tuple[States, int]]
) -> tuple[float, dict[tuple[str, str, int], str], int]:
    """Run ``fn`` for every vantage in parallel; return the wall time, all states and all nmap runs."""
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        done = list(pool.map(lambda vp: fn(*vp), jobs))
    wall = time.monotonic() - started
    states: dict[tuple[str, str, int], str] = {}
    runs = 0
    for (vantage, _), (found, count) in zip(jobs, done, strict=True):
        states.update({(vantage.name, addr, port): s for (addr, port), s in found.items()})
        runs += count
    return wall, states, runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-zone", type=int, default=21, help="hosts per zone (5 zones)")
    args = parser.parse_args()
    reason = unavailable()
    if reason:
        print(f"zone_probe: {reason}", file=sys.stderr)
        return 2
    cleanup_stale()
    started = time.monotonic()
    lab = build(lambda prefix: zonespec.bench(prefix, args.per_zone))
    try:
        built = time.monotonic() - started
        inventory, pack = lab.inventory, load_pack("base")
        policy = for_inventory(inventory, pack=pack)
        vantages = [
            dataclasses.replace(v, run=lab.runner(v.name), transport="netns") if v.host else v
            for v in vantages_for(policy, inventory)
        ]
        jobs = []
        for v in vantages:
            plan = plan_for(v, policy, inventory, pack)
            plan.sweep = []  # the matrix only: the INV-01 sweep is another run in both cases
            jobs.append((v, plan))
        pairs = sum(len(p.targets) * len(p.ports) for _, p in jobs)
        a_wall, a_states, a_runs = timed(jobs, lambda v, p: batched(v, p, policy))
        b_wall, b_states, b_runs = timed(jobs, lambda v, p: per_target(lab, v, p, policy))
        same = a_states == b_states
        hosts = len([s for s in lab.specs.values() if s.inventory])
        tune = timing(policy)
        print(f"zone lab: 5 zones, {hosts} hosts + 1 canary, built in {built:.1f}s; nmap {_nmap_version()}")
        print(
            f"matrix: {len(jobs)} vantages, {sum(len(p.targets) for _, p in jobs)} (vantage, target) pairs, "
            f"{pairs} (vantage, target, port) probes; --max-retries {tune.max_retries} "
            f"--max-rtt-timeout {tune.max_rtt_timeout_ms}ms --min-rate {tune.min_rate} "
            f"--host-timeout {tune.host_timeout_s}s"
        )
        print(f"{'':34}{'nmap runs':>10}{'wall s':>10}")
        print(f"{'(a) kijun, one nmap per vantage':34}{a_runs:>10}{a_wall:>10.1f}")
        print(f"{'(b) one nmap per target host':34}{b_runs:>10}{b_wall:>10.1f}")
        print(f"speed-up {b_wall / a_wall:.1f}x; same port states: {same} ({len(a_states)} each)")
        additions(lab, jobs, policy, a_wall, hosts)
        return 0 if same else 1
    finally:
        teardown(lab)


def _nmap(lab: ZoneLab, vantage: Vantage, args: list[str], targets: list[str]) -> None:
    prefix = ["ip", "netns", "exec", lab.ns(vantage.name)] if vantage.host else []
    if targets:
        subprocess.run([*prefix, "nmap", *args, *targets], capture_output=True, check=True)


def _six(lab: ZoneLab, address: str) -> str:
    spec = next(s for s in lab.specs.values() if lab.address(s.name) == address)
    return zonespec.address6(lab.prefix, spec.zone, spec.last)


def additions(
    lab: ZoneLab, jobs: list[tuple[Vantage, Plan]], policy: ZonePolicy, base: float, hosts: int
) -> None:
    """Time what each addition of issue 11 costs at this size, and extrapolate to a 3,000-host ward."""
    tune = timing(policy)
    extra = [41234, 41235, 41236, 41237, 41238]  # ports hosts listen on beyond the list (from facts)
    udp = [int(p) for p in policy.probe["udp_ports"]]

    def each(fn: Callable[[Vantage, Plan], None]) -> float:
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            list(pool.map(lambda vp: fn(*vp), jobs))
        return time.monotonic() - started

    def sports(vantage: Vantage, plan: Plan) -> None:
        for port in (53, 20):
            args = script.matrix_args(plan.ports, tune, "-sS", 4, port)
            _nmap(lab, vantage, args, [t.address for t in plan.targets if t.deep])

    rows = [
        ("TCP matrix (as above, -sT)", base),
        (
            "+ listened ports (5 more, -sS)",
            each(
                lambda v, p: _nmap(
                    lab, v, script.matrix_args(extra, tune, "-sS"), [t.address for t in p.targets]
                )
            ),
        ),
        (
            "+ UDP (6 ports, -sU)",
            each(
                lambda v, p: _nmap(
                    lab, v, script.matrix_args(udp, tune, "-sU"), [t.address for t in p.targets]
                )
            ),
        ),
        (
            "+ IPv6 (every address, -6 -sS)",
            each(
                lambda v, p: _nmap(
                    lab,
                    v,
                    script.matrix_args(p.ports, tune, "-sS", 6),
                    [_six(lab, t.address) for t in p.targets if t.zone != "outside"],
                )
            ),
        ),
        ("+ source ports 53, 20 (NET-01)", each(sports)),
    ]
    started = time.monotonic()
    pairs = 0
    specs = [s for s in lab.specs.values() if s.inventory]
    targets = [lab.address(s.name) for s in specs]

    def egress_one(name: str) -> int:
        mine = [(a, p) for a in targets if a != lab.address(name) for p in (22, 443)][
            : int(policy.probe["egress_max_targets"])
        ]
        command = egress_command(mine, int(policy.probe["egress_timeout_s"]))
        subprocess.run(
            ["ip", "netns", "exec", lab.ns(name), "sh", "-c", command], capture_output=True, check=True
        )
        return len(mine)

    with ThreadPoolExecutor(max_workers=32) as pool:  # the collector's default --parallel
        pairs = sum(pool.map(egress_one, [s.name for s in specs]))
    rows.append((f"+ egress ({pairs} pairs, 32 hosts at a time)", time.monotonic() - started))
    scale = 3000 / hosts
    print(
        f"\nadditions (issue 11), each run alone, vantages in parallel; extrapolated linearly to 3,000 hosts (x{scale:.1f}):"
    )
    print(f"{'':42}{'wall s':>10}{'3,000 hosts s':>16}")
    for label, wall in rows:
        print(f"{label:42}{wall:>10.1f}{wall * scale:>16.0f}")
    deep = sum(1 for _, p in jobs for t in p.targets if t.deep)
    rate = tune.full_sweep_rate
    print(
        f"full sweep (audit, NET-01 pairs): {deep} targets x 65535 ports at {rate}/s >= {deep * 65535 / rate:.0f} s "
        f"here, >= {deep * scale * 65535 / rate:.0f} s for 3,000 hosts (not run: the floor is the rate)"
    )


def _nmap_version() -> str:
    out = subprocess.run(["nmap", "-V"], capture_output=True, text=True).stdout.split()
    return out[2] if len(out) > 2 else "?"


if __name__ == "__main__":
    sys.exit(main())
