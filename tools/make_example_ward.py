#!/usr/bin/env python3
"""Write the example ward's raw-fact snapshots from a hardened Debian 12 baseline plus its deviations.

Run from the repository root: ``python tools/make_example_ward.py`` (``--check`` only compares;
``--out DIR`` writes the snapshots to DIR instead of the ward).

It reads ``inventories/example-ward/inventory.yaml``, the stock Debian 12 files under
``baseline/debian12/``, the ward's standard under ``baseline/kaku/`` (架空区Linux基盤標準 v3.2:
what its Ansible role deploys) and the deliberate deviations in ``deviations.yaml`` (each with the
controls it breaks and why; validated against tools/example_ward/deviations.schema.json), and
writes ``snapshots/<host>.json`` as the nightly scheduled scan of 2026-11-20 02:00 JST collected
them. Every file path the parsers read and the host lacks is recorded as absent, as the collector
does. The output is deterministic: the same inputs give the same bytes, so a diff of the snapshots
shows exactly what a change did. The building blocks are in tools/example_ward/.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scanner.errors import LoadError
from scanner.inventory import load
from tools.example_ward import deviations
from tools.example_ward.assemble import dump, snapshot
from tools.example_ward.model import WARD, Spec


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) every host's snapshot; exit 2 on a bad deviations file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 when a snapshot differs")
    parser.add_argument("--out", type=Path, help="write the snapshots to this folder instead of the ward's")
    args = parser.parse_args(argv)
    inv = load(WARD)
    try:
        devs = deviations.load(inv)
    except LoadError as exc:
        print(exc, file=sys.stderr)
        return 2
    out_dir: Path = args.out or WARD / "snapshots"
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted: set[str] = set()
    changed = 0
    for host in inv.hosts:
        spec = Spec(host=host, inv=inv, facts=deviations.facts_of(devs, host.name))
        text = dump(snapshot(spec, devs))
        path = out_dir / f"{host.name}.json"
        wanted.add(path.name)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            changed += 1
            if not args.check:
                path.write_text(text, encoding="utf-8")
    stale = sorted(p for p in out_dir.glob("*.json") if p.name not in wanted)
    for path in stale:
        changed += 1
        if not args.check:
            path.unlink()
    total = sum(p.stat().st_size for p in out_dir.glob("*.json"))
    verb = "differ" if args.check else "written"
    print(f"{len(inv.hosts)} hosts, {changed} snapshot(s) {verb}, {total / 1_000_000:.2f} MB in {out_dir}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
