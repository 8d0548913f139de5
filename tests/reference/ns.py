"""Run a shell script in a private mount namespace, so files bound over /etc never touch the machine."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def need(*programs: str) -> None:
    """Skip unless root with unshare and the named programs (CI is: tools/test.sh installs them)."""
    missing = [p for p in ("unshare", *programs) if shutil.which(p) is None]
    if os.geteuid() != 0 or missing:
        pytest.skip(f"needs root and {', '.join(missing) or 'a mount namespace'}")


def in_namespace(script: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``sh -c script sh args...`` with mounts private to it."""
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-euc", script, "sh", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def agreement(name: str, results: list[tuple[str, bool]]) -> None:
    """Print ``name: n/N agree`` (visible with -s) and fail listing the cases that disagree."""
    agree = sum(ok for _, ok in results)
    print(f"{name}: {agree}/{len(results)} agree")
    wrong = [case for case, ok in results if not ok]
    assert not wrong, f"{name}: {len(wrong)} disagree:\n" + "\n".join(wrong[:5])
