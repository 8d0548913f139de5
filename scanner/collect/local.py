"""The local transport: run the collector script on this machine with ``sh -s``, the script on stdin."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from datetime import datetime

from scanner import __version__
from scanner.collect.framing import parse_output
from scanner.collect.plan import CollectError, Plan
from scanner.collect.script import MAX_BYTES, build_script, new_nonce, probe_timeout_for
from scanner.inventory import Host
from scanner.rawfacts import RawFacts

SHELL = ("sh", "-s")


def run_script(script: str, timeout: float, argv: Sequence[str] = SHELL) -> bytes:
    """Run a script on stdin and return its stdout, killing the whole process group on timeout."""
    try:
        # A new session, so that a timeout kills the probes too, not only the shell.
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise CollectError("error", f"cannot start {argv[0]}: {exc}") from exc
    try:
        out, err = proc.communicate(script.encode("utf-8"), timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        # A probe that left the group may still hold the pipe; the error stands regardless.
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.communicate(timeout=5)
        raise CollectError("error", f"collection timed out after {timeout:g}s") from None
    if proc.returncode != 0:
        tail = err.decode("utf-8", errors="replace").strip()[-500:]
        raise CollectError("error", f"collector exited with {proc.returncode}: {tail}")
    return out


def run(
    plan: Plan, host_name: str, timeout: float, argv: Sequence[str] = SHELL, max_bytes: int = MAX_BYTES
) -> RawFacts:
    """Build, run and parse the collector script with a given shell command line."""
    nonce = new_nonce()
    started = datetime.now().astimezone().isoformat(timespec="seconds")
    out = run_script(build_script(plan, nonce, max_bytes, probe_timeout_for(timeout)), timeout, argv)
    return parse_output(out, nonce, host_name, started, {"name": "kijun-local", "version": __version__})


def collect(host: Host, plan: Plan, timeout: float) -> RawFacts:
    """Collect raw facts from this machine (through ``sudo -n`` when the host asks to become root).

    >>> collect(Host(name="me", zone="mgmt", role="server", transport="local"), Plan(), 60).host  # doctest: +SKIP
    'me'
    """
    argv: Sequence[str] = SHELL
    if host.become and os.geteuid() != 0:
        argv = ("sudo", "-n", *SHELL)
    return run(plan, host.name, timeout, argv)
