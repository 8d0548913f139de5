"""Scan at municipal scale: each host collected, parsed, judged and written, then dropped.

Collection is I/O and runs in threads (SSH); parsing, evaluation, waivers and the encoding of a
host's findings are CPU and run in a pool of processes, one per core. A worker writes the host's
evidence file itself and hands back only its findings as encoded lines, its tally, the waivers it
touched and the few network facts the zone probes read. The lines go to a spool in completion
order and are copied into findings.jsonl in inventory order at the end, so the output is the same
whatever order the hosts finish in. Memory holds the host results and the tally, not the hosts.
Snapshot hosts go to the pool a few per worker at a time (not all at once: each pending future
costs memory, and waiting on all of them cost time quadratic in the hosts); finished futures
arrive on a queue in completion order.
"""

from __future__ import annotations

import dataclasses
import gc
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from queue import SimpleQueue
from threading import Semaphore
from typing import IO, Any

from scanner import compact, timesync
from scanner.collect import CollectError
from scanner.collect.probes import EGRESS
from scanner.evidence import raw_bytes
from scanner.facts import Facts
from scanner.history import safe_name
from scanner.inventory import Inventory
from scanner.netdev.scan import check_inventory
from scanner.policy import Pack
from scanner.probes import egress_probes
from scanner.rawfacts import RawFacts
from scanner.results import Finding, HostResult, Run, Severity, Status, Tally, WaiverRef
from scanner.run import (
    Device,
    Options,
    Parts,
    Progress,
    assess,
    fetch,
    finish,
    judge,
    now_jst,
    tail,
)
from scanner.selection import scope, select
from scanner.waivers import Waiver

SPOOL = ".findings.spool"
# What the zone probes read of a host's facts (scanner/probes/plan.py, routes.py, evaluate.py).
_PROBED = {
    "network": ("addresses", "routes", "routes_outside_zones", "listening"),
    "proxy": ("endpoints",),
    "time": ("servers",),
}
_STATE: dict[str, Any] = {}  # set before the pool starts: forked workers inherit it, others get a copy
YOUNG = 10_000  # allocations between the collector's youngest passes in a worker (default 700)
BATCH = 8  # snapshot hosts per pool task at most (_batch)
FRESH_FROM = 2000  # inventory hosts from which workers start fresh instead of forking the scan (_start)


@dataclass
class Outcome:
    """What a worker hands back for one host."""

    index: int
    result: HostResult
    lines: bytes
    tally: Tally
    waivers: list[WaiverRef] = field(default_factory=list)
    network: dict[str, Any] | None = None  # the facts the zone probes read
    egress: RawFacts | None = None  # the egress probe's item (opt-in), what the probes judge of the raw facts
    device: Device | None = None  # a network device: judged at the end, against the zone probes


def _work(index: int, got: RawFacts | CollectError | None, spent: float) -> Outcome:
    """Assess one host in a worker: read its snapshot when ``got`` is None, parse, judge, write."""
    state = _STATE
    host, pack, inventory = state["hosts"][index], state["pack"], state["inventory"]
    if got is None:
        got, spent = fetch(host, pack, inventory, state["timeout"], state["egress"].get(host.name, ()))
    item = assess(host, pack, inventory, got, spent)
    findings = judge(pack, item, state["waivers"], state["today"], state["attestations"])
    if item.raw is not None:
        path = state["folder"] / "evidence" / f"{safe_name(host.name)}.json"
        path.write_bytes(raw_bytes(item.raw))
    encoder = state.get("encoder") or state.setdefault("encoder", compact.Encoder(state["catalog"], {}))
    lines = encoder.host_lines(host.name, compact.host_base(item.result), findings)
    network = _probed(item.facts.tree) if item.facts is not None and state["probe"] else None
    egress = None
    if item.raw is not None and f"probe:{EGRESS}" in item.raw.items:
        kept = {f"probe:{EGRESS}": item.raw.items[f"probe:{EGRESS}"]}
        egress = RawFacts(item.raw.host, item.raw.collected_at, item.raw.collector, kept)
    if host.os == "network":
        device = Device(host, item.raw, item.result.message, findings)
        return Outcome(index, item.result, b"", Tally(), [], network, egress, device)
    refs = [f.waiver for f in findings if f.waiver]
    return Outcome(index, item.result, lines, Tally.of(findings), refs, network, egress)


def _work_all(indices: list[int]) -> list[Outcome]:
    """Assess a few snapshot hosts in a worker, one after another: one task and one reply for all."""
    return [_work(index, None, 0.0) for index in indices]


def _batch(hosts: int, workers: int) -> int:
    """Return how many snapshot hosts go to a worker in one task.

    Each task costs the scan a round trip through the pool (its call and its reply pickled, a
    future, the pool's threads woken): a few hosts per task once there are many, one at a time
    while there are few (so that no worker waits while another has a queue).
    """
    return max(1, min(BATCH, hosts // (workers * 16)))


def _probed(tree: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for subject, keys in _PROBED.items():
        seen = tree.get(subject)
        if isinstance(seen, dict):
            out[subject] = {k: seen[k] for k in keys if k in seen}
    return out


def _orphan_guard(parent: int) -> None:
    """In a worker: exit when the scan that started it is gone (killed with SIGKILL, say).

    A forked worker holds both ends of the pool's pipes, so it would never see them close and would
    wait forever, a process per core left behind by every killed scan.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="kijun-orphan-guard", daemon=True).start()
    # A host's parse makes hundreds of thousands of short-lived containers: with the default
    # threshold (700) the collector ran ≈ 2 times per host and took ≈ 8 % of a worker's CPU; freed
    # by reference counting anyway, they need far fewer passes (a few per hundred hosts).
    gc.set_threshold(YOUNG, *gc.get_threshold()[1:])


def _begin(parent: int, state: dict[str, Any]) -> None:
    """In a started (not forked) worker: take the scan's state, then guard against being orphaned.

    The state (the inventory's hosts, the pack) lives as long as the worker: the collector is told
    never to look at it again (a forked worker's inherited heap is frozen the same way in _start).
    """
    _STATE.update(state)
    gc.freeze()
    _orphan_guard(parent)


def _start(workers: int) -> ProcessPoolExecutor:
    """Start the worker processes now, before any thread of the scan exists (fork is then safe).

    A worker forked from the scan maps every page of the scan's heap: cheap to start, but with a
    large inventory the heap is mostly what loading it left behind (≈ 9 KB per host, 94 MB for
    10,080 hosts), counted again in each worker's memory. From ``FRESH_FROM`` hosts on, workers
    are started as new interpreters and given the state pickled instead (≈ 3 MB for 10,080 hosts).
    A forked worker's garbage collector never sees what it inherited (``gc.freeze``), so that its
    collections do not copy every inherited page. No full collection first: it took 130–190 ms of
    every scan (one host's whole collection is ≈ 250 ms) to find next to nothing (the loaders'
    garbage is freed as it goes); what little it would find stays frozen, shared, never written.
    """
    context, initializer, args = "fork", _orphan_guard, (os.getpid(),)
    if len(_STATE["inventory"].hosts) >= FRESH_FROM:
        context, initializer, args = "spawn", _begin, (os.getpid(), dict(_STATE))  # type: ignore[assignment]
    gc.freeze()
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context(context), initializer=initializer, initargs=args
    )
    try:
        for done in [pool.submit(os.getpid) for _ in range(workers)]:
            done.result()
    finally:
        gc.unfreeze()  # in the scan itself; the forked workers keep them frozen
    return pool


def scan(
    inventory: Inventory,
    pack: Pack,
    waivers: list[Waiver],
    options: Options,
    folder: Path,
    progress: Progress | None = None,
) -> tuple[Run, dict[str, RawFacts]]:
    """Scan into ``folder``: evidence/<host>.json and findings.jsonl; return the Run and probe raw facts.

    The Run's findings are a FindingLog over ``folder/findings.jsonl``.
    """
    check_inventory(inventory)  # bad device entries stop the scan before any host is touched
    started = now_jst()
    time_sync = timesync.state()
    hosts, excluded = scope(select(inventory, options.limit), pack)
    parts = Parts(started, time_sync, hosts, excluded, options.today or started.date())
    (folder / "evidence").mkdir(parents=True, exist_ok=True)
    catalog = compact.catalog_of_pack(pack)
    _STATE.clear()
    _STATE.update(
        hosts=hosts,
        pack=pack,
        inventory=inventory,
        waivers=waivers,
        attestations=options.attestations,
        today=parts.today,
        timeout=options.timeout,
        folder=folder,
        catalog=catalog,
        egress=egress_probes(inventory, pack, options),  # opt-in; a bad zones.yaml stops here
        probe=options.probe,
    )
    workers = max(1, min(options.workers or os.cpu_count() or 1, len(hosts)))
    outcomes = _run_all(hosts, pack, inventory, options, workers, folder, progress)
    results = tuple(outcomes.results)
    network = {r.name: Facts(tree=n) for r, n in zip(results, outcomes.network, strict=True) if n}
    egress = {r.name: e for r, e in zip(results, outcomes.egress, strict=True) if e is not None}
    devices = [d for d in outcomes.devices if d is not None]
    end = tail(inventory, pack, options, waivers, hosts, parts.today, network, devices, egress)
    parts = dataclasses.replace(parts, netdev=end.netdev)
    base = {r.name: compact.host_base(r) for r in results}
    count, extra = outcomes.count, end.extra
    with (folder / compact.FINDINGS).open("wb") as out, (folder / SPOOL).open("rb") as spool:
        for i, (offset, size) in enumerate(outcomes.chunks):
            device = outcomes.devices[i]
            if device is not None:  # its findings stay in its place; the judged NET ones come last
                kept = end.kept[device.host.name]
                count += compact.write_lines(out, kept, catalog, base)
                _merge(outcomes.tally, Tally.of(kept))
                outcomes.fails[i] = [f for f in kept if f.status is Status.FAIL]
                outcomes.waivers[i] = [f.waiver for f in kept if f.waiver]
                continue
            spool.seek(offset)
            out.write(spool.read(size))
        count += compact.write_lines(out, extra, catalog, base)
    (folder / SPOOL).unlink()
    outcomes.tally.fails = [f for fails in outcomes.fails for f in fails]  # in inventory order
    for f in extra:
        outcomes.tally.add(f)
    log = compact.FindingLog(folder / compact.FINDINGS, catalog, base, count)
    log.__dict__["tally"] = outcomes.tally
    waived = [_touched(r) for refs in outcomes.waivers for r in refs] + [f for f in extra if f.waiver]
    _STATE.clear()
    return finish(inventory, pack, options, waivers, parts, results, log, waived), end.raws


def _touched(ref: WaiverRef) -> Finding:
    """A stand-in finding that carries only a waiver reference (what the waiver summary counts)."""
    return Finding("", "", Status.FAIL, Severity.INFO, "", "", "", waiver=ref)


@dataclass
class _Collected:
    results: list[HostResult]
    network: list[dict[str, Any] | None]
    egress: list[RawFacts | None]
    chunks: list[tuple[int, int]]
    fails: list[list[Finding]]
    waivers: list[list[WaiverRef]]
    devices: list[Device | None]
    tally: Tally = field(default_factory=Tally)
    count: int = 0


def _run_all(
    hosts: list[Any],
    pack: Pack,
    inventory: Inventory,
    options: Options,
    workers: int,
    folder: Path,
    progress: Progress | None,
) -> _Collected:
    total, egress = len(hosts), _STATE["egress"]
    blank = HostResult("", "", "", "", "")
    out = _Collected(
        results=[blank] * total,
        network=[None] * total,
        egress=[None] * total,
        chunks=[(0, 0)] * total,
        fails=[[]] * total,
        waivers=[[]] * total,
        devices=[None] * total,
    )
    if total == 0:
        (folder / SPOOL).write_bytes(b"")
        return out
    room = Semaphore(workers * 4)  # raw facts collected but not yet parsed, at most
    finished: SimpleQueue[Future[Any]] = SimpleQueue()  # each future once done, in completion order
    snapshots = [i for i, h in enumerate(hosts) if h.transport == "snapshot"]  # CPU: read in a worker
    remote = [i for i, h in enumerate(hosts) if h.transport != "snapshot"]
    size = _batch(len(snapshots), workers)
    local = iter([snapshots[at : at + size] for at in range(0, len(snapshots), size)])
    with _start(workers) as procs, ThreadPoolExecutor(max(1, min(options.parallel, total))) as threads:

        def collected(index: int) -> Future[Outcome]:
            got, spent = fetch(
                hosts[index], pack, inventory, options.timeout, egress.get(hosts[index].name, ())
            )
            room.acquire()
            return procs.submit(_work, index, got, spent)

        def submit_local() -> None:
            """Hand the next few snapshot hosts to the pool (a bounded window, not all at once)."""
            indices = next(local, None)
            if indices is not None:
                procs.submit(_work_all, indices).add_done_callback(finished.put)

        for i in remote:
            threads.submit(collected, i).add_done_callback(finished.put)
        for _ in range(workers * max(2, 4 // size)):  # 4 hosts a worker (2 tasks when batched)
            submit_local()
        done_count = 0
        with (folder / SPOOL).open("wb") as spool:
            while done_count < total:
                future = finished.get()
                try:
                    value = future.result()
                except BaseException:
                    for _ in range(total):  # no collecting thread may wait for room any more
                        room.release()
                    raise
                if isinstance(value, Future):
                    value.add_done_callback(finished.put)
                    continue
                if isinstance(value, list):  # snapshot hosts
                    submit_local()
                else:
                    room.release()
                    value = [value]
                for one in value:
                    _record(out, one, spool)
                    done_count += 1
                    if progress:
                        progress(done_count, total, one.result)
    return out


def _record(out: _Collected, value: Outcome, spool: IO[bytes]) -> None:
    """Keep what the summary needs of one host's outcome; its lines go to the spool."""
    i = value.index
    out.results[i] = value.result
    if value.network is not None:
        out.network[i] = value.network
    if value.egress is not None:
        out.egress[i] = value.egress
    if value.device is not None:
        out.devices[i] = value.device
    out.chunks[i] = (spool.tell(), len(value.lines))
    spool.write(value.lines)
    out.count += value.lines.count(b"\n")
    _merge(out.tally, value.tally)
    if value.tally.fails:
        out.fails[i] = value.tally.fails
    if value.waivers:
        out.waivers[i] = value.waivers


def _merge(into: Tally, more: Tally) -> None:
    for key, n in more.counts.items():
        into.counts[key] += n
    into.unassessed += more.unassessed
