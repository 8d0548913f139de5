"""Smoke test of benchmarks/fleet_ssh.py on a tiny fleet: it completes, prints its three rows, cleans up.

No timing is asserted: the figures belong in benchmarks/README.md, measured on a quiet machine.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "fleet_ssh.py"
SETUP = re.compile(r"sshd pid (\d+) on port \d+, folder (\S+)")


@pytest.fixture(autouse=True)
def _needs() -> None:
    if os.geteuid() != 0:
        pytest.skip("the fleet benchmark needs root (private network namespace, sshd)")
    pytest.importorskip("testinfra", reason="pip install pytest-testinfra (the bench extra)")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def gone(pid: int, folder: str) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (alive(pid) or Path(folder).exists()):
        time.sleep(0.1)
    return not alive(pid) and not Path(folder).exists()


def test_quick_run_prints_the_three_rows_and_cleans_up() -> None:
    argv = [
        sys.executable,
        str(BENCH),
        "--quick",
        "--hosts",
        "3",
        "--testinfra-hosts",
        "1",
        "--seq-hosts",
        "1",
        "--rtt",
        "2",
    ]
    proc = subprocess.run([*argv, "--parallel", "2"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = proc.stdout.splitlines()
    for label in ("(a) kijun scan", "(b) floor: OpenSSH", "(c) testinfra paramiko"):
        [line] = [r for r in rows if r.startswith(label)]
        hosts, ok = line[40:].split()[:2]
        assert ok == hosts, line  # every host answered on every side
    assert any(r.startswith("kijun scan / floor, wall:") for r in rows)
    # --rtt: the one-at-a-time rows again, with the delay inside the benchmark's namespace.
    at = rows.index(next(r for r in rows if r.startswith("one host at a time, 2 ms RTT (")))
    for label, line in zip(
        ("    kijun scan", "    floor", "    testinfra"), rows[at + 1 : at + 4], strict=True
    ):
        assert line.startswith(label), line
        hosts, ok = line[40:].split()[:2]
        assert (hosts, ok) == ("1", "1"), line
    assert any(r.startswith("testinfra / kijun, one at a time at 2 ms RTT") for r in rows)
    found = SETUP.search(proc.stderr)
    assert found is not None
    assert gone(int(found.group(1)), found.group(2))


def test_interrupt_stops_sshd_and_removes_the_folder() -> None:
    argv = [sys.executable, str(BENCH), "--hosts", "20", "--parallel", "2"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        seen = ""
        while "scan ..." not in seen:
            line = proc.stderr.readline()
            assert line, f"benchmark ended early: {seen}"
            seen += line
        found = SETUP.search(seen)
        assert found is not None and alive(int(found.group(1)))
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert gone(int(found.group(1)), found.group(2))
