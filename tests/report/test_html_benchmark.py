"""The HTML benchmark runs on the current results format (it broke unnoticed when results.json became v2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_html_benchmark_renders_and_loads_the_example_ward() -> None:
    proc = subprocess.run(
        [sys.executable, "benchmarks/html_report.py", "--copies", "1"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line.split() for line in proc.stdout.splitlines()]
    # one figures row: the ward's 36 hosts and all their findings, with a positive HTML size
    row = next(r for r in rows if r[:1] == ["36"])
    assert int(row[1]) > 1000 and float(row[2]) > 0, proc.stdout
