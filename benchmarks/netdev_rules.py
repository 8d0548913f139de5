#!/usr/bin/env python3
"""Benchmark the network-device verdicts: parse, reachability between zones and shadowing at N policies.

Generates a FortiGate configuration with N random policies (seeded) between the example ward's
zones on top of inventories/example-ward-netdev/devices/fw-01/running-config, and times, side by
side with the floor (reading the file's lines and splitting their words):

- parse: FortiOS export to the rule model (scanner/netdev/fortios.py);
- judge: every ordered zone pair's permitted flows, judged against the zone policy
  (scanner/netdev/verdict.py, the boxes of scanner/netdev/boxes.py);
- shadowed: rules no packet reaches first (scanner/netdev/reach.py), beside its peer: the pass as it
  was before the address index (``every_pair``: each rule against every earlier one, quadratic),
  timed up to ``--peer-max`` policies. Both must name the same rules.

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
from scanner.netdev.boxes import carve, rule_boxes
from scanner.netdev.model import Device, Rule
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


def every_pair(device: Device) -> list[tuple[Rule, Rule | None]]:
    """Return the shadowed rules the way reach.shadowed did before its index: every earlier rule compared."""
    out: list[tuple[Rule, Rule | None]] = []
    for ruleset in device.rulesets.values():
        for i, rule in enumerate(ruleset.rules):
            earlier = [
                e
                for e in ruleset.rules[:i]
                if e.enabled
                and any(a <= d and c <= b for a, b in e.src for c, d in rule.src)
                and any(a <= d and c <= b for a, b in e.dst for c, d in rule.dst)
                and ("any" in e.src_ifs or set(rule.src_ifs) <= set(e.src_ifs))
                and ("any" in e.dst_ifs or set(rule.dst_ifs) <= set(e.dst_ifs))
            ]
            mine = rule_boxes(rule)
            if (
                rule.enabled
                and earlier
                and mine
                and not carve(mine, [b for e in earlier for b in rule_boxes(e)])
            ):
                out.append((rule, next((e for e in earlier if not carve(mine, rule_boxes(e))), None)))
    return out


def measure(n: int, peer_max: int) -> dict[str, float]:
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
    peer = float("nan")
    if n <= peer_max:
        reference = every_pair(device)
        peer = time.perf_counter() - done
        assert reference == shadowed, "the index and every pair disagree"
    return {
        "policies": len(device.rulesets["policy"].rules),
        "words": words,
        "floor_s": floor,
        "parse_s": parsed - started,
        "judge_s": judged - parsed,
        "shadowed_s": done - judged,
        "every_pair_s": peer,
        "violations": sum(len(p.violations) for p in pairs),
        "shadowed": len(shadowed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--policies", type=int, action="append", help="policies to generate (repeatable)")
    parser.add_argument(
        "--peer-max", type=int, default=1500, help="time every-pair shadowing up to this size"
    )
    args = parser.parse_args()
    sizes = args.policies or [100, 400, 1500, 3000]
    print(
        f"{'policies':>8} {'floor s':>8} {'parse s':>8} {'judge s':>8} {'shadow s':>9} {'every-pair s':>12}"
        f" {'violations':>10} {'shadowed':>9}"
    )
    for n in sizes:
        m = measure(n, args.peer_max)
        print(
            f"{m['policies']:>8} {m['floor_s']:>8.3f} {m['parse_s']:>8.2f} {m['judge_s']:>8.2f} "
            f"{m['shadowed_s']:>9.2f} {m['every_pair_s']:>12.2f} {m['violations']:>10} {m['shadowed']:>9}"
        )


if __name__ == "__main__":
    main()
