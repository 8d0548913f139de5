#!/usr/bin/env python3
"""What the key exchange and cipher kijun asks for cost per connection, against the fleet's real sshd.

Logs in (TCP, banner, key exchange, host key check, public-key auth; no command) to one fresh
fleet host per try with kijun's ssh transport, the variants taking turns, and prints medians of
the whole login, the client's CPU, ``connect`` and ``auth``. A variant puts one algorithm first.

    sudo python benchmarks/fleet_kex.py --rounds 40
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import fleet_sshd

VARIANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "kijun (ssh.kex_order)": {},
    "curve25519 first": {"kex": ("curve25519-sha256@libssh.org",)},
    "ecdh-nistp256 first": {"kex": ("ecdh-sha2-nistp256",)},
    "kijun + aes128-gcm first": {"ciphers": ("aes128-gcm@openssh.com",)},
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=40, help="logins per variant (default 40)")
    args = p.parse_args()
    if not fleet_sshd.private_network():
        print("fleet_kex: needs root (private network namespace)", file=sys.stderr)
        return 2
    fleet = fleet_sshd.start(args.rounds * len(VARIANTS) + 1, 1)
    os.environ.update(fleet.client_env())
    import paramiko

    from scanner.collect import ssh, sshconfig
    from scanner.inventory import load

    wanted: dict[str, tuple[str, ...]] = {}
    options, order = paramiko.Transport.get_security_options, ssh.kex_order

    def front(names: tuple[str, ...], offered: tuple[str, ...]) -> tuple[str, ...]:
        return names + tuple(n for n in offered if n not in names)

    def first(self: Any) -> Any:  # the variant's cipher moved to the front
        got = options(self)
        if "ciphers" in wanted:
            got.ciphers = front(wanted["ciphers"], tuple(got.ciphers))
        return got

    def kex(offered: tuple[str, ...]) -> tuple[str, ...]:  # kijun's order, or the variant's first
        return front(wanted["kex"], offered) if "kex" in wanted else order(offered)

    paramiko.Transport.get_security_options = first  # type: ignore[method-assign]
    ssh.kex_order = kex  # type: ignore[assignment]
    hosts = iter(load(fleet.dir / "inventory.yaml").hosts)
    times: dict[str, list[tuple[float, ...]]] = {name: [] for name in VARIANTS}

    def login() -> tuple[float, ...]:
        clock, opened = ssh._Clock(30.0), []  # type: ignore[var-annotated]
        cpu, started = time.process_time(), time.monotonic()
        try:
            ssh._login(sshconfig.route(next(hosts), None), clock, opened)
        finally:
            for each in opened:
                each.close()
        total, cpu = time.monotonic() - started, time.process_time() - cpu
        return total, cpu, clock.times["connect"], clock.times["auth"]

    try:
        login()  # warm-up: imports, known_hosts, the key file
        turns = random.Random(12)
        for _ in range(args.rounds):
            names = list(VARIANTS)
            turns.shuffle(names)  # no variant always follows the same one
            for name in names:
                variant = VARIANTS[name]
                wanted.clear()
                wanted.update(variant)
                times[name].append(login())
    finally:
        fleet_sshd.stop(fleet)
    print(f"logins to one sshd ({fleet_sshd.SSHD}), medians of {args.rounds} each, variants taking turns")
    print(f"{'variant':<24}{'login ms':>10}{'cpu ms':>8}{'connect ms':>12}{'auth ms':>9}")
    for name, rows in times.items():
        print(
            f"{name:<24}"
            + "".join(
                f"{1000 * statistics.median(r[i] for r in rows):>{w}.1f}"
                for i, w in enumerate((10, 8, 12, 9))
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
