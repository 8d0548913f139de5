"""Parsing at scale: the CPU of turning each host's raw facts into facts (``run.assess``), per host.

The example ward copied K times (offline_scale.make_ward), its snapshots loaded in memory, then
``assess`` run over every host in this one process, timed by process CPU. Two wards: the copies
as made (each copy's content the same as its original's: the best case for the memo) and a
"varied" one where every copy differs from its original in the clock (collected_at a few minutes
later per copy), its users (/etc/passwd and lastlog gain the copy's own user) and its pending
updates (apt-upgradable gains a package). Each ward is parsed with the memo, and with the memo
cleared before every host (each host parsed as if first seen: the floor a memo must beat).

    python benchmarks/parse_scale.py --copies 28
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from offline_scale import make_ward

from scanner.facts import memo
from scanner.inventory import load
from scanner.policy import load_pack
from scanner.rawfacts import RawFacts
from scanner.run import assess


def _vary(doc: dict[str, Any], k: int) -> dict[str, Any]:
    """Make copy ``k`` differ from its original: clock, users, last logins, pending updates."""
    when = datetime.fromisoformat(doc["collected_at"]) + timedelta(minutes=3 * k)
    doc["collected_at"] = when.isoformat()
    items = doc["items"]
    changes = {
        "file:/etc/passwd": ("content", f"user{k}:x:{2000 + k}:{2000 + k}::/home/user{k}:/bin/bash\n"),
        "probe:lastlog": ("stdout", f"user{k}                                   **Never logged in**\n"),
        "probe:apt-upgradable": ("stdout", f"Inst pkg{k} [1.0] (1.{k} Debian:12/stable [amd64])\n"),
    }
    for item_id, (field, extra) in changes.items():
        item = items.get(item_id)
        if item is not None and isinstance(item.get(field), str) and "encoding" not in item:
            item[field] += extra
            item.pop("sha256", None)
            item.pop("size", None)
    return doc


def _raws(inventory_path: Path, copies: int, vary: bool) -> list[RawFacts]:
    inventory = load(inventory_path)
    out = []
    per = len(inventory.hosts) // copies
    for index, host in enumerate(inventory.hosts):
        doc = json.loads((inventory_path.parent / "snapshots" / f"{host.name}.json").read_text("utf-8"))
        out.append(RawFacts.from_json(_vary(doc, index // per) if vary and index >= per else doc))
    return out


def measure(inventory_path: Path, copies: int, vary: bool, first_sight: bool) -> float:
    """Return the CPU seconds per host of assess over the ward."""
    inventory = load(inventory_path)
    pack = load_pack(inventory.profile or "base")
    raws = _raws(inventory_path, copies, vary)
    memo.clear()
    started = time.process_time()
    for host, raw in zip(inventory.hosts, raws, strict=True):
        if first_sight:
            memo.clear()
        assess(host, pack, inventory, raw, 0.0)
    return (time.process_time() - started) / len(raws)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--copies", type=int, default=28)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = make_ward(args.copies, Path(tmp))
        hosts = len(load(path).hosts)
        print(f"assess CPU per host over {hosts} hosts (ms); floor: every host parsed as first seen")
        print(f"{'ward':<8} {'memo':>8} {'first seen':>11}")
        for vary in (False, True):
            with_memo = measure(path, args.copies, vary, first_sight=False)
            first = measure(path, args.copies, vary, first_sight=True)
            print(f"{'varied' if vary else 'copies':<8} {with_memo * 1000:8.2f} {first * 1000:11.2f}")


if __name__ == "__main__":
    main()
