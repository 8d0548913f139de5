"""``python3 -m scanner`` is the ``kijun`` command: same name in its usage, same exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _module(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "scanner", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )


def test_python_m_scanner_runs_kijun() -> None:
    done = _module("--help")
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout.startswith("Usage: kijun [OPTIONS] COMMAND") and "Exit codes / 終了コード" in done.stdout
    )


def test_python_m_scanner_keeps_the_usage_exit_code() -> None:
    done = _module("no-such-command")
    assert done.returncode == 2 and "No such command" in done.stderr
