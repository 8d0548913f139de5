"""The lab's footprint on the machine: commands, namespaces and what a crashed run left behind.

Everything a lab creates is named ``kj-<id>-...`` (namespaces, /etc/netns dirs, the temp folder)
or ``kj<id>s`` (the one veth in the root namespace), and a state file ``/run/kijun-lab/<id>``
holds the owning pid, so ``cleanup_stale`` removes what a crashed run left behind without
touching a lab that is still in use.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

STATE = Path("/run/kijun-lab")
NETNS_ETC = Path("/etc/netns")
SSHD = "/usr/sbin/sshd"
_ID = re.compile(r"[0-9a-f]{6}")
_NAMESPACE = re.compile(r"kj-([0-9a-f]{6})-[a-z0-9-]+")  # only names a lab made: kj-<id>-<host>


def run(*argv: str, check: bool = True, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run a command, raising with its stderr when it fails."""
    proc = subprocess.run(argv, input=input, capture_output=True, timeout=60)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: rc {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    return proc


def unavailable() -> str:
    """Return why the lab cannot run here ("" when it can)."""
    if os.geteuid() != 0:
        return "the lab needs root (network namespaces)"
    for tool in ("ip", "nft", SSHD, "ssh-keygen", "sudo"):
        if shutil.which(tool) is None:
            return f"the lab needs {tool}"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True)
    if probe.returncode != 0:
        return f"ip netns is unavailable: {probe.stderr.decode(errors='replace').strip()}"
    return ""


def taken_prefixes() -> set[str]:
    """Return the 10.x. prefixes already routed or addressed in the root namespace."""
    nets = []
    for argv in (("ip", "-j", "route", "show", "table", "all"), ("ip", "-j", "addr")):
        for entry in json.loads(run(*argv).stdout or b"[]"):
            for text in [entry.get("dst", "")] + [a.get("local", "") for a in entry.get("addr_info", [])]:
                with contextlib.suppress(ValueError):
                    nets.append(ipaddress.ip_network(text, strict=False))
    return {
        f"10.{o}."
        for o in range(231, 251)
        if any(
            n.overlaps(ipaddress.ip_network(f"10.{o}.0.0/16"))
            for n in nets
            if n.version == 4 and n.prefixlen > 0
        )
    }


def _alive(pid: int) -> bool:
    """Tell whether a process runs (a zombie waiting for its parent to reap it does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def kill_namespace(ns: str) -> None:
    """Stop every process in a namespace (all were started by a lab), then delete it and its /etc overlay."""
    pids = [int(p) for p in run("ip", "netns", "pids", ns, check=False).stdout.split()]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.02)
    run("ip", "netns", "del", ns, check=False)
    shutil.rmtree(NETNS_ETC / ns, ignore_errors=True)


def _owner_alive(lab_id: str) -> bool:
    try:
        return _alive(int((STATE / lab_id).read_text()))
    except (OSError, ValueError):
        return False


def cleanup_stale() -> list[str]:
    """Remove namespaces, /etc/netns dirs, veths and temp folders of lab runs whose owner is gone."""
    removed = []
    names = {
        line.split()[0] for line in run("ip", "netns", "list").stdout.decode().splitlines() if line.strip()
    }
    names |= {p.name for p in NETNS_ETC.glob("kj-*")} if NETNS_ETC.is_dir() else set()
    for ns in sorted(names):
        found = _NAMESPACE.fullmatch(ns)
        if found and not _owner_alive(found.group(1)):
            kill_namespace(ns)
            removed.append(ns)
    ids = {p.name for p in STATE.iterdir() if _ID.fullmatch(p.name)} if STATE.is_dir() else set()
    for lab_id in sorted(ids):
        if not _owner_alive(lab_id):
            for folder in Path(tempfile.gettempdir()).glob(f"kj-{lab_id}-*"):
                shutil.rmtree(folder, ignore_errors=True)
            run("ip", "link", "del", f"kj{lab_id}s", check=False)
            (STATE / lab_id).unlink(missing_ok=True)
    if removed:
        with contextlib.suppress(OSError):
            NETNS_ETC.rmdir()  # the crashed lab made it; fails while anything else is in it
    return removed
