#!/usr/bin/env python3
"""Count the processes the collector script starts on one host (strace -f), items alone and with probes.

The plan is the fleet benchmark's (the base pack on a マイナンバー系 server, apt left out), run here
with ``sh -s`` as root. ``--checkout DIR`` measures another tree's script (an older commit, for a
before/after comparison). Forks include subshells; execs count only the ones that succeeded.

    python benchmarks/fleet_host_procs.py
    python benchmarks/fleet_host_procs.py --checkout /tmp/kijun-before
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_BUILD = (
    "import dataclasses, sys; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/benchmarks']\n"
    "import fleet_ssh\n"
    "from scanner.collect.script import build_script\n"
    "plan = fleet_ssh.full_plan(False)\n"
    "plan = plan if sys.argv[2] == '1' else dataclasses.replace(plan, probes=())\n"
    "sys.stdout.write(build_script(plan, '0123456789abcdef0123456789abcdef'))\n"
)


def _script(checkout: Path, probes: bool) -> bytes:
    """Return the fleet plan's script as the checkout builds it (in a child that imports that checkout)."""
    argv = [sys.executable, "-c", _BUILD, str(checkout), "1" if probes else "0"]
    return subprocess.run(argv, capture_output=True, check=True, cwd=checkout).stdout


def measure(checkout: Path, probes: bool) -> dict[str, float]:
    """Run the checkout's script under strace and return forks, execs, output bytes and CPU seconds."""
    script = _script(checkout, probes)
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "trace"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(
            [
                "strace",
                "-f",
                "-qq",
                "-e",
                "trace=execve,clone,clone3,fork,vfork",
                "-o",
                str(trace),
                "sh",
                "-s",
            ],
            input=script,
            capture_output=True,
            check=True,
        ).stdout
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        text = trace.read_text(errors="replace")
    return {
        "forks": len(re.findall(r"\b(clone3?|v?fork)\(", text)),
        "execs": len(re.findall(r"^.*execve(\(| resumed>).* = 0$", text, re.M)),
        "bytes": len(out),
        "cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
    }


def cpu(checkout: Path, probes: bool, runs: int) -> float:
    """Return the CPU seconds per run of the script without strace (the host's own cost)."""
    script = _script(checkout, probes)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(runs):
        subprocess.run(["sh", "-s"], input=script, capture_output=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)) / runs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkout", action="append", help="tree to measure (repeatable; default: this one)")
    p.add_argument("--runs", type=int, default=5, help="runs for the CPU figure (default 5)")
    args = p.parse_args(argv)
    if not shutil.which("strace"):
        print("fleet_host_procs: needs strace", file=sys.stderr)
        return 2
    trees = [Path(c).resolve() for c in args.checkout or [str(Path(__file__).resolve().parents[1])]]
    print(f"{'checkout':<40} {'part':<16} {'forks':>6} {'execs':>6} {'output B':>9} {'cpu ms':>7}")
    for tree in trees:
        for probes in (False, True):
            m = measure(tree, probes)
            m["cpu"] = cpu(tree, probes, args.runs)
            part = "items + probes" if probes else "items only"
            print(
                f"{str(tree)[-40:]:<40} {part:<16} {m['forks']:>6.0f} {m['execs']:>6.0f} "
                f"{m['bytes']:>9.0f} {1000 * m['cpu']:>7.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
