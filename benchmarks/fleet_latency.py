#!/usr/bin/env python3
"""One host's collection latency, phase by phase, for one or more checkouts taking turns (A B A B ...).

On a shared machine one run of fleet_ssh.py's one-at-a-time rows (5 hosts) moves with the other
jobs' load; taking turns and keeping medians compares checkouts under the same load. Each turn is a
child process that imports its checkout's scanner, collects one warm-up host (imports, first
connection), then times ``scanner.collect.ssh.collect`` on one more host of the benchmark's sshd
(fleet_sshd.py, the fleet plan without the apt probe, as in fleet_ssh.py). Printed per checkout:
medians of the whole call and of its phases (``connect_s``, ``auth_s``, ``exec_s``,
``transfer_s``; the rest is building the script and parsing the output), and the hosts' side CPU
(the sshd session: script, probes, sshd).

    sudo python benchmarks/fleet_latency.py --checkout /path/to/old --checkout . --rounds 10
    sudo python benchmarks/fleet_latency.py --checkout . --rtt 10
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fleet_sshd

PHASES = ("connect_s", "auth_s", "exec_s", "transfer_s")


def child(folder: Path, warm: str, address: str, port: int) -> None:
    """In the checkout's scanner: collect the warm-up host, then time one collection; print JSON."""
    from scanner.collect import plan_for
    from scanner.collect import ssh as transport
    from scanner.inventory import load
    from scanner.policy import load_pack
    from scanner.run import subjects_for

    inventory = load(folder / "inventory.yaml")
    import dataclasses

    hosts = {h.address: dataclasses.replace(h, port=port) if port else h for h in inventory.hosts}
    plan = plan_for(subjects_for(load_pack("base"), hosts[warm]) - {"host"})
    plan = dataclasses.replace(plan, probes=tuple(p for p in plan.probes if p != "apt-upgradable"))
    transport.collect(hosts[warm], plan, 120.0)
    started = time.monotonic()
    raw = transport.collect(hosts[address], plan, 120.0)
    total = time.monotonic() - started
    phases = {name: float(raw.collector[name]) for name in PHASES}
    print(json.dumps({"total": total, **phases, "rest": total - sum(phases.values())}))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkout", action="append", default=[], help="a kijun checkout (repeatable; default .)")
    p.add_argument("--rounds", type=int, default=10, help="turns per checkout (default 10)")
    p.add_argument(
        "--rtt", type=float, default=0.0, help="round-trip time to add, ms (as fleet_ssh.py --rtt)"
    )
    p.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        folder, warm, address, port = args.child
        child(Path(folder), warm, address, int(port))
        return 0
    checkouts = [str(Path(c).resolve()) for c in args.checkout or ["."]]
    if not fleet_sshd.private_network():
        print("fleet_latency: needs root (private network namespace)", file=sys.stderr)
        return 2
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import fleet_ssh  # the --rtt delay (netem or the relay), in this process

    turns = args.rounds * len(checkouts)
    fleet = fleet_sshd.start(2 * turns, 1)
    delay = fleet_ssh.Delay(fleet, [args.rtt] if args.rtt else [])
    results: dict[str, list[dict[str, Any]]] = {c: [] for c in checkouts}
    load = os.getloadavg()[0]
    try:
        if args.rtt:
            delay.set(args.rtt)
        for turn in range(turns):
            checkout = checkouts[turn % len(checkouts)]
            warm, address = fleet.addresses[2 * turn], fleet.addresses[2 * turn + 1]
            env = {**fleet.client_env(), "PYTHONPATH": checkout}
            before = fleet_sshd.settled_cpu(fleet)
            argv = [sys.executable, __file__, "--child", str(fleet.dir), warm, address, str(delay.port)]
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                raise RuntimeError(done.stderr[-2000:])
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            figures["host_cpu"] = (fleet_sshd.settled_cpu(fleet) - before) / 2  # two hosts per turn
            results[checkout].append(figures)
            print(f"fleet_latency: {checkout} {figures['total'] * 1000:.0f} ms", file=sys.stderr, flush=True)
    finally:
        delay.close()
        fleet_sshd.stop(fleet)
    how = f", {args.rtt:g} ms RTT ({delay.method})" if args.rtt else ", loopback"
    print(
        f"one host at a time, medians of {args.rounds} turns each{how}; load average {load:.1f} at start, "
        f"{os.getloadavg()[0]:.1f} at end"
    )
    names = ("total", *PHASES, "rest", "host_cpu")
    print(f"{'checkout':<40}" + "".join(f"{n.removesuffix('_s') + ' ms':>13}" for n in names))
    for checkout, runs in results.items():
        cells = "".join(f"{1000 * statistics.median(r[n] for r in runs):>13.1f}" for n in names)
        print(f"{checkout[-40:]:<40}{cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
