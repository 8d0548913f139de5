"""Inventory lookups by name and address are dict lookups that answer as the linear scans did."""

from __future__ import annotations

import random
from pathlib import Path

from scanner.facts import restic
from scanner.inventory import Host, Inventory


def _inventory(rng: random.Random) -> Inventory:
    names = ["web01", "WEB01", "db", "Db", "10.0.0.1", "bk"]
    addresses = ["", "10.0.0.1", "10.0.0.2", "db", "web01"]
    hosts = tuple(
        Host(
            name=f"{rng.choice(names)}-{i}" if rng.random() < 0.3 else rng.choice(names),
            zone="z",
            role="server",
            address=rng.choice(addresses),
        )
        for i in range(rng.randint(0, 12))
    )
    return Inventory(Path("inventory.yaml"), "t", {}, {}, hosts)


def test_lookups_answer_as_the_linear_scans_did() -> None:
    rng = random.Random(12)
    keys = ["web01", "WEB01", "db", "DB", "10.0.0.1", "10.0.0.2", "", "bk", "nothere", "web01-3"]
    for _ in range(500):
        inv = _inventory(rng)
        for key in keys:
            by_name = next((h for h in inv.hosts if h.name == key), None)
            assert inv.host(key) is by_name
            proxy = next((h for h in inv.hosts if key and key in (h.address, h.name.lower())), None)
            assert (inv.first(("address", key), ("lower", key)) if key else None) is proxy
            linear = next(
                (h for h in inv.hosts if key in (h.name, h.address) or key.lower() == h.name.lower()), None
            )
            assert restic.inventory_host(inv, key) is linear
