#!/usr/bin/env python3
"""Benchmark the network-device verdicts: parse, reachability between zones and shadowing at N policies.

Generates a FortiGate configuration with N random policies (seeded) between the example ward's
zones on top of inventories/example-ward-netdev/devices/fw-01/running-config, and times, side by
side with the floor (reading the file's lines and splitting their words):

- parse: FortiOS export to the rule model (scanner/netdev/fortios.py);
- judge: every ordered zone pair's permitted flows, judged against the zone policy
  (scanner/netdev/verdict.py, the boxes of scanner/netdev/boxes.py);
- shadowed: rules no packet reaches first (scanner/netdev/reach.py).

    python benchmarks/netdev_rules.py                  # N = 100, 400, 1500, 3000
    python benchmarks/netdev_rules.py --policies 200   # one size
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanner.inventory import load
from scanner.netdev import fortios, reach, verdict
from scanner.policy import load_pack
from scanner.probes.zonefile import for_inventory

WARD = Path(__file__).resolve().parents[1] / "inventories" / "example-ward-netdev"
ZONES = {"port1": 10, "port2": 20, "port3": 30, "port4": 90}
PORTS = (22, 80, 443, 445, 1433, 3389, 5432, 8080)


def config(n: int, seed: int = 1) -> str:
    """Return fw-01's configuration with ``n`` random host-to-subnet policies added before its deny."""
    rnd = random.Random(seed)
    addresses, policies = [], []
    for i in range(n):
        src_if, dst_if = rnd.sample(sorted(ZONES), 2)
        src = f"10.{ZONES[src_if]}.{rnd.randrange(256)}.{rnd.randrange(256)}"
        dst = f"10.{ZONES[dst_if]}.{rnd.randrange(256)}.0"
        addresses.append(
            f'    edit "s{i}"\n        set subnet {src} 255.255.255.255\n    next\n'
            f'    edit "d{i}"\n        set subnet {dst} 255.255.255.0\n    next'
        )
        action = "accept" if rnd.random() < 0.8 else "deny"
        policies.append(
            f'    edit {1000 + i}\n        set srcintf "{src_if}"\n        set dstintf "{dst_if}"\n'
            f'        set action {action}\n        set srcaddr "s{i}"\n        set dstaddr "d{i}"\n'
            f'        set schedule "always"\n        set service "tcp-{rnd.choice(PORTS)}"\n    next'
        )
    services = "\n".join(f'    edit "tcp-{p}"\n        set tcp-portrange {p}\n    next' for p in PORTS)
    base = (WARD / "devices" / "fw-01" / "running-config").read_text(encoding="utf-8")
    extra = "config firewall address\n" + "\n".join(addresses) + "\nend\nconfig firewall service custom\n"
    text = base.replace("config firewall addrgrp", extra + services + "\nend\nconfig firewall addrgrp", 1)
    return text.replace("    edit 99\n", "\n".join(policies) + "\n    edit 99\n", 1)


def measure(n: int) -> dict[str, float]:
    inventory = load(WARD)
    policy = for_inventory(inventory, None, load_pack("base"))
    text = config(n)
    started = time.perf_counter()
    words = sum(len(line.split()) for line in text.splitlines())
    floor = time.perf_counter() - started
    started = time.perf_counter()
    device = fortios.parse(text, "fw-01", "fw-01")
    parsed = time.perf_counter()
    pairs = verdict.judge(device, inventory, policy)
    judged = time.perf_counter()
    shadowed = reach.shadowed(device)
    done = time.perf_counter()
    return {
        "policies": len(device.rulesets["policy"].rules),
        "words": words,
        "floor_s": floor,
        "parse_s": parsed - started,
        "judge_s": judged - parsed,
        "shadowed_s": done - judged,
        "violations": sum(len(p.violations) for p in pairs),
        "shadowed": len(shadowed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--policies", type=int, action="append", help="policies to generate (repeatable)")
    sizes = parser.parse_args().policies or [100, 400, 1500, 3000]
    print(
        f"{'policies':>8} {'floor s':>8} {'parse s':>8} {'judge s':>8} {'shadow s':>9} {'violations':>10} {'shadowed':>9}"
    )
    for n in sizes:
        m = measure(n)
        print(
            f"{m['policies']:>8} {m['floor_s']:>8.3f} {m['parse_s']:>8.2f} {m['judge_s']:>8.2f} "
            f"{m['shadowed_s']:>9.2f} {m['violations']:>10} {m['shadowed']:>9}"
        )


if __name__ == "__main__":
    main()
