"""Collect raw facts only, into a folder of snapshots to carry across separated zones, and scan such a folder.

The folder holds ``<host>.json`` (raw facts, the snapshot format) for every host collected and
``collect.json``, the summary: who, when, with which inventory and profile, and per host the
status, the reason when it failed, timings and the sha256 of its snapshot. A host that failed has
no snapshot (a stale one from an earlier run is removed), so scanning the folder elsewhere
reports it as an error instead of assessing old facts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime
from pathlib import Path

from scanner import __version__, safeio
from scanner.collect import CollectError, Plan, plan_for, transport_for
from scanner.errors import LoadError
from scanner.evidence import raw_bytes
from scanner.history import atomic_write
from scanner.inventory import Host, Inventory
from scanner.policy import Pack
from scanner.rawfacts import RawFacts
from scanner.results import HostResult
from scanner.selection import subjects_for

SUMMARY = "collect.json"
COLLECTED = "collected"  # the status of a host whose raw facts were written (it is not assessed yet)

Progress = Callable[[int, int, HostResult], None]


def snapshot_file(folder: Path, name: str) -> Path:
    """Return the snapshot path of a host in a collect folder, refusing names that are not plain file names."""
    if not name or name.startswith(".") or f"{name}.json" == SUMMARY or any(c in name for c in "/\\\0"):
        raise ValueError(f"host name {name!r} cannot name a snapshot file")
    return folder / f"{name}.json"


def collect_raw(host: Host, inventory: Inventory, plan: Plan, timeout: float) -> RawFacts:
    """Collect one host with its transport; an ssh host's ``jump`` is resolved in the inventory."""
    if host.transport == "ssh":
        from scanner.collect import ssh

        jump = inventory.host(host.jump) if host.jump else None
        return ssh.collect(host, plan, timeout, jump_host=jump)
    return transport_for(host)(host, plan, timeout)


def _one(
    host: Host, inventory: Inventory, pack: Pack, out_dir: Path, timeout: float
) -> tuple[HostResult, str]:
    """Collect one host to its snapshot file; return its result and the snapshot's sha256 ("" when none)."""
    path = snapshot_file(out_dir, host.name)
    started = time.monotonic()
    plan = plan_for(subjects_for(pack, host) - {"host"})
    try:
        raw = collect_raw(host, inventory, plan, timeout)
    except CollectError as exc:
        path.unlink(missing_ok=True)  # an older snapshot must never stand in for this failure
        timings = {"collect": round(time.monotonic() - started, 3)}
        return HostResult.of(host, exc.status, message=exc.message, timings=timings), ""
    collected = time.monotonic()
    data = raw_bytes(raw)
    atomic_write(path, data)
    timings = {"collect": round(collected - started, 3), "write": round(time.monotonic() - collected, 3)}
    timings.update(raw.phase_times())  # the ssh transport's connect, auth, exec, transfer
    result = HostResult.of(
        host, COLLECTED, collected_at=raw.collected_at, timings=timings, evidence_file=path.name
    )
    return result, hashlib.sha256(data).hexdigest()


def collect_to_folder(
    inventory: Inventory,
    pack: Pack,
    hosts: list[Host],
    out_dir: Path,
    parallel: int,
    timeout: float,
    progress: Progress | None = None,
) -> list[HostResult]:
    """Collect the hosts' raw facts (the plan a scan with this pack would use) into out_dir; return results.

    A result's status is "collected", "unreachable" or "error", in the order of ``hosts``.

    >>> collect_to_folder(inv, load_pack("base"), inv.hosts, Path("carry"), 32, 120.0)  # doctest: +SKIP
    """
    for host in hosts:
        snapshot_file(out_dir, host.name)  # fail before any host is contacted
    out_dir.mkdir(parents=True, exist_ok=True)
    started_at = datetime.now().astimezone().replace(microsecond=0)
    started = time.monotonic()
    done: dict[str, tuple[HostResult, str]] = {}
    workers = max(1, min(parallel, len(hosts) or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_one, h, inventory, pack, out_dir, timeout) for h in hosts]
        for future in as_completed(futures):
            result, digest = future.result()
            done[result.name] = (result, digest)
            if progress:
                progress(len(done), len(hosts), result)
    ordered = [done[h.name] for h in hosts]
    summary = {
        "kijun_version": __version__,
        "inventory": str(inventory.path),
        "inventory_sha256": _file_sha256(inventory.path),
        "profile": pack.profile.name,
        "collector_host": os.uname().nodename,
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now().astimezone().replace(microsecond=0).isoformat(),
        "wall_s": round(time.monotonic() - started, 3),
        "parallel": workers,
        "timeout_s": timeout,
        "counts": {s: sum(r.status == s for r, _ in ordered) for s in (COLLECTED, "unreachable", "error")},
        "hosts": [{**r.to_json(), "snapshot": r.evidence_file, "sha256": d} for r, d in ordered],
    }
    atomic_write(out_dir / SUMMARY, json.dumps(summary, ensure_ascii=False, indent=1) + "\n")
    return [r for r, _ in ordered]


def _file_sha256(path: Path) -> str:
    try:
        return safeio.sha256(path)
    except LoadError:
        return ""


def with_snapshots(inventory: Inventory, folder: Path) -> Inventory:
    """Return the inventory with every host read from ``<folder>/<host>.json`` (transport snapshot).

    Zones, roles, labels and everything else that decides which controls apply stay as they are.

    >>> with_snapshots(load(Path("inventories/example-ward")), Path("carry")).hosts[0].transport  # doctest: +SKIP
    'snapshot'
    """
    root = folder.resolve()
    hosts = tuple(
        dataclasses.replace(
            h, transport="snapshot", snapshot=str(snapshot_file(root, h.name)), jump="", root=""
        )
        for h in inventory.hosts
    )
    return dataclasses.replace(inventory, hosts=hosts)
