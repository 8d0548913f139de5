"""Load a 10,000-host kijun YAML inventory: kijun's loader (libyaml + line-aware nodes + bounds) beside the floors.

Prints, side by side: PyYAML's pure-Python SafeLoader (the loader kijun used before), libyaml's
CSafeLoader alone (the floor: no lines, no checks), and kijun's load_yaml (libyaml with line-aware
nodes, the alias/depth bound and the safeio read) and the whole inventory load (schema, hosts).

    python benchmarks/inventory_load.py [--hosts 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from scanner.inventory import load
from scanner.yamlsrc import load_yaml


def write(folder: Path, hosts: int) -> Path:
    path = folder / "inventory.yaml"
    lines = [
        "zones: {lgwan: {cidrs: [10.20.0.0/16]}, mynumber: {cidrs: [10.10.0.0/16]}}",
        "defaults: &d {owner: 情報政策課}",
        "hosts:",
    ]
    for i in range(hosts):
        zone = "lgwan" if i % 2 else "mynumber"
        lines.append(
            f"  - {{name: h{i:05d}, address: 10.{20 if i % 2 else 10}.{i // 250}.{i % 250 + 1}, zone: {zone}, "
            f"role: server, labels: {{tier: app, n: '{i}'}}, vars: {{allowed_ports: [tcp/22, tcp/443]}}}}"
        )
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), args.hosts)
        text = path.read_text("utf-8")
        rows = [
            ("PyYAML SafeLoader (pure Python, before)", lambda: yaml.load(text, Loader=yaml.SafeLoader)),
            (
                "libyaml CSafeLoader (floor: no lines, no checks)",
                lambda: yaml.load(text, Loader=yaml.CSafeLoader),
            ),
            ("kijun load_yaml (libyaml + lines + bounds)", lambda: load_yaml(path)),
            ("kijun inventory load (+ schema, hosts)", lambda: load(path)),
        ]
        print(f"{args.hosts} hosts, {len(text.encode()) / 1e6:.1f} MB, best of {args.repeat}")
        for name, fn in rows:
            print(f"  {name:<52} {best(fn, args.repeat):7.2f} s")


if __name__ == "__main__":
    main()
