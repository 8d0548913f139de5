"""Finding lines: CPU of writing one host's findings.jsonl lines, the plain encoder beside the Encoder.

The example ward is scanned once in memory; its findings are then encoded ``--rounds`` times, host
by host, three ways: the plain path (``dump_line(encode(f.to_json(), ...))``, the floor of
correctness every line is held to in tests/report/test_finding_lines.py), an Encoder made anew for
each host (what a worker did before), and one Encoder reused for host after host (``host_lines``,
what a worker does now). All three give the same bytes; the script checks it and prints CPU seconds.

    python benchmarks/finding_lines.py --rounds 28      # 36 hosts x 28 = 1,008 hosts' lines
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import date

from scanner import compact, content, findinglines
from scanner import run as runmod
from scanner.inventory import load
from scanner.policy import load_pack
from scanner.results import Finding
from scanner.waivers import load_waivers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=28, help="times the ward's findings are encoded")
    rounds = parser.parse_args().rounds
    inv = load(content.example_inventory())
    pack = load_pack(inv.profile or "base")
    run = runmod.scan(
        inv, pack, load_waivers(inv.waivers_dir, pack), runmod.Options(today=date(2026, 11, 20))
    )[0]
    catalog = compact.catalog_of_pack(pack)
    hosts = {h.name: compact.host_base(h) for h in run.hosts}
    groups: dict[str, list[Finding]] = {}
    for f in run.findings:
        groups.setdefault(f.host, []).append(f)

    def plain() -> bytes:
        out = []
        for host, findings in groups.items():
            seen = compact.Evidence(catalog.items)
            for f in findings:
                line = findinglines.encode(f.to_json(), catalog, hosts.get(host, {}), seen)
                out.append(findinglines.dump_line(line))
        return b"".join(out)

    def fresh() -> bytes:
        out = []
        for host, findings in groups.items():
            encoder = compact.Encoder(catalog, {host: hosts.get(host, {})})
            out.append(b"".join(encoder.line(f) for f in findings))
        return b"".join(out)

    reused_encoder = compact.Encoder(catalog, {})

    def reused() -> bytes:
        return b"".join(reused_encoder.host_lines(h, hosts.get(h, {}), fs) for h, fs in groups.items())

    ways: list[tuple[str, Callable[[], bytes]]] = [
        ("plain encode + dump_line", plain),
        ("Encoder per host", fresh),
        ("Encoder reused", reused),
    ]
    first = plain()
    print(f"{len(groups) * rounds} hosts' lines ({len(first) * rounds / 1e6:.1f} MB), CPU seconds:")
    for name, way in ways:
        assert way() == first, f"{name}: lines differ from the plain encoder's"
        start = time.process_time()
        for _ in range(rounds):
            way()
        print(f"  {name:26} {time.process_time() - start:7.3f}")


if __name__ == "__main__":
    main()
