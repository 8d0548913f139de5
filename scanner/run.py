"""Orchestrate one scan: select hosts, collect (bounded concurrency), parse, evaluate, apply waivers.

The data flow is inventory → collect → parse → evaluate → waivers → Run; this module only wires
the steps together, each of which lives in its own module.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import time
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from scanner import __version__, engine, timesync
from scanner import facts as factsmod
from scanner.attest import Attestation
from scanner.attest import apply as apply_attestations
from scanner.collect import CollectError, plan_for, transport_for
from scanner.evidence import scanner_digest
from scanner.inventory import Host, Inventory
from scanner.netdev import redact as netdev_redact
from scanner.netdev.device import CONFIG_PATH, SHOW_ITEM
from scanner.netdev.scan import check_inventory, scan_devices
from scanner.policy import Pack
from scanner.probes import egress_probes, scan_probes
from scanner.rawfacts import RawFacts
from scanner.results import Finding, HostResult, Run, Severity
from scanner.selection import scope, select, subjects_for
from scanner.waivers import Waiver, apply, summary

JST = timezone(timedelta(hours=9), "JST")


def now_jst() -> datetime:
    return datetime.now(JST).replace(microsecond=0)


@dataclass(frozen=True)
class Options:
    """How to scan: mode, concurrency, timeouts, fail-on, and who runs it."""

    mode: str = "on-demand"
    parallel: int = 32
    timeout: float = 120.0
    fail_on: Severity | None = None
    limit: tuple[str, ...] = ()
    operator: str = ""
    operator_role: str = ""
    today: date | None = None
    probe: bool = True  # zone probes run only from declared or named vantages
    vantages: tuple[str, ...] = ()
    zone_policy: str = ""
    egress_probe: bool = False  # each collected host probes the zones it must not reach (opt-in)
    full_sweep: bool = False  # every TCP port of NET-01 pairs (always in --mode audit)
    attestations: tuple[Attestation, ...] = ()  # 自己点検 answers for manual controls
    workers: int = 0  # processes that parse and evaluate (0: one per core)


@dataclass
class Collected:
    """What collection gave for one host."""

    host: Host
    raw: RawFacts | None
    result: HostResult
    facts: factsmod.Facts | None = None
    findings: list[Finding] = field(default_factory=list)


def fetch(
    host: Host, pack: Pack, inventory: Inventory, timeout: float, generated: tuple[tuple[str, str], ...] = ()
) -> tuple[RawFacts | CollectError, float]:
    """Collect one host's raw facts (I/O only); return them or the CollectError, and the seconds spent.

    ``generated`` are probes made for this host (the opt-in egress probe) that its collector runs too.
    """
    started = time.monotonic()
    plan = dataclasses.replace(plan_for(subjects_for(pack, host) - {"host"}), generated=generated)
    try:
        if host.transport == "ssh":
            from scanner.collect import ssh
            from scanner.netdev import ssh as device_ssh

            jump = inventory.host(host.jump) if host.jump else None
            collect = device_ssh.collect if host.os == "network" else ssh.collect  # a show command, no sh
            raw: RawFacts | CollectError = collect(host, plan, timeout, jump_host=jump)
        else:
            raw = transport_for(host)(host, plan, timeout)
    except CollectError as exc:
        raw = exc
    return raw, time.monotonic() - started


def assess(
    host: Host, pack: Pack, inventory: Inventory, got: RawFacts | CollectError, spent: float
) -> Collected:
    """Parse what collection gave for one host into its facts and its HostResult (CPU only)."""
    if isinstance(got, CollectError):
        result = HostResult.of(host, got.status, message=got.message, timings={"collect": round(spent, 3)})
        return Collected(host, None, result)
    if host.os == "network":  # device configs carry password hashes and keys: never into evidence
        got = netdev_redact.raw_facts(got, (f"file:{CONFIG_PATH}", SHOW_ITEM))
    started = time.monotonic()
    facts = factsmod.build(got, factsmod.Context(host, inventory), subjects_for(pack, host) | {"host"})
    timings = {"collect": round(spent, 3), "parse": round(time.monotonic() - started, 3)}
    timings.update(got.phase_times())  # the SSH transport's connect, auth, exec, transfer
    result = HostResult.of(
        host,
        "assessed",
        collected_at=got.collected_at,
        timings=timings,
        evidence_file=f"evidence/{host.name}.json",
    )
    return Collected(host, got, result, facts)


def _collect(
    host: Host, pack: Pack, inventory: Inventory, timeout: float, generated: tuple[tuple[str, str], ...] = ()
) -> Collected:
    return assess(host, pack, inventory, *fetch(host, pack, inventory, timeout, generated))


def judge(
    pack: Pack,
    item: Collected,
    waivers: list[Waiver],
    today: date,
    attestations: tuple[Attestation, ...] = (),
) -> list[Finding]:
    """Evaluate one collected host, apply its waivers and its 自己点検 attestations (both per host).

    A network device's findings are returned as the engine gives them: ``tail`` judges the device
    against the zone probes and applies waivers and attestations then.
    """
    found = engine.evaluate_host(pack, item.host, item.facts, item.result.message)
    if item.host.os == "network":
        return found
    found = apply(found, {item.host.name: item.host}, waivers, pack, today)
    return apply_attestations(found, list(attestations), today)


Progress = Callable[[int, int, HostResult], None]


def scan(
    inventory: Inventory,
    pack: Pack,
    waivers: list[Waiver],
    options: Options,
    progress: Progress | None = None,
) -> tuple[Run, dict[str, RawFacts]]:
    """Scan the selected hosts and return the Run and the raw facts (the evidence).

    >>> run, raws = scan(load(Path("inventories/example-ward")), load_pack(), [], Options())  # doctest: +SKIP
    """
    check_inventory(inventory)  # bad device entries stop the scan before any host is touched
    started = now_jst()
    time_sync = timesync.state()  # the scanner's own clock, as the run starts
    hosts, excluded = scope(select(inventory, options.limit), pack)
    egress = egress_probes(inventory, pack, options)  # opt-in; a bad zones.yaml stops here
    done: list[Collected] = []
    workers = max(1, min(options.parallel, len(hosts) or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(_collect, h, pack, inventory, options.timeout, egress.get(h.name, ())) for h in hosts
        ]
        for future in as_completed(futures):
            item = future.result()
            done.append(item)
            if progress:
                progress(len(done), len(hosts), item.result)
    order = {h.name: i for i, h in enumerate(hosts)}
    done.sort(key=lambda c: order[c.host.name])
    today = options.today or started.date()
    judged = {item.host.name: judge(pack, item, waivers, today, options.attestations) for item in done}
    devices = [
        Device(c.host, c.raw, c.result.message, judged[c.host.name]) for c in done if c.host.os == "network"
    ]
    facts = {c.host.name: c.facts for c in done if c.facts}
    raws = {c.host.name: c.raw for c in done if c.raw is not None}
    end = tail(inventory, pack, options, waivers, hosts, today, facts, devices, raws)
    findings = [f for c in done for f in end.kept.get(c.host.name, judged[c.host.name])] + end.extra
    parts = Parts(started, time_sync, hosts, excluded, today, end.netdev)
    results = tuple(c.result for c in done)
    run = finish(inventory, pack, options, waivers, parts, results, tuple(findings), findings)
    return run, {**raws, **end.raws}


@dataclass(frozen=True)
class Device:
    """A network device as collected: its raw facts (None: not collected), why not, its engine findings."""

    host: Host
    raw: RawFacts | None
    why: str
    findings: list[Finding]


@dataclass(frozen=True)
class Tail:
    """What comes after the hosts: devices' findings kept in place, the findings appended, raw facts."""

    kept: dict[str, list[Finding]]  # device host → its findings that stay in its place
    extra: list[Finding]  # organization, zone probes, then the devices' judged NET findings
    raws: dict[str, RawFacts]
    netdev: dict[str, Any]


def tail(
    inventory: Inventory,
    pack: Pack,
    options: Options,
    waivers: list[Waiver],
    hosts: list[Host],
    today: date,
    host_facts: dict[str, factsmod.Facts],
    devices: list[Device],
    host_raws: dict[str, RawFacts],
) -> Tail:
    """Organization-level controls, the zone probes and the network devices (judged against the probes).

    ``host_facts`` and ``host_raws`` need only what the probes read (see scanner/stream.py).
    """
    org = engine.evaluate_organization(pack)
    # Zone probes (NET-01/02/03/05, INV-01): one nmap run per vantage, evidence as raw facts;
    # the egress results the collectors brought back (opt-in) are judged too.
    probed, probe_raws = scan_probes(inventory, pack, options, host_facts, host_raws)
    # Network devices (os: network): NET findings from their own rules, cross-checked with the probes.
    collected = [(d.host, d.raw, d.why) for d in devices]
    judged, table = scan_devices(inventory, pack, options.zone_policy, collected, probed)
    replaced = {(f.host, f.control_id) for f in judged}
    kept = [f for d in devices for f in d.findings if (f.host, f.control_id) not in replaced]
    found = apply(kept + org + probed + judged, {h.name: h for h in hosts}, waivers, pack, today)
    found = apply_attestations(found, list(options.attestations), today)
    in_place: dict[str, list[Finding]] = {d.host.name: [] for d in devices}
    for f in found[: len(kept)]:
        in_place[f.host].append(f)
    return Tail(in_place, found[len(kept) :], probe_raws, table)


@dataclass(frozen=True)
class Parts:
    """What a scan fixes as it starts: when, the scanner's clock, the hosts in scope, the waiver date."""

    started: datetime
    time_sync: dict[str, Any]
    hosts: list[Host]
    excluded: list[dict[str, str]]
    today: date
    netdev: dict[str, Any] = field(default_factory=dict)  # network devices: zone pairs, rules beside probes


def finish(
    inventory: Inventory,
    pack: Pack,
    options: Options,
    waivers: list[Waiver],
    parts: Parts,
    results: tuple[HostResult, ...],
    findings: Collection[Finding],
    waived: Iterable[Finding],
) -> Run:
    """Return the Run: envelope (who, scope, hashes, waivers) around host results and findings.

    ``waived`` are the findings a waiver touched (or all of them): the waiver summary counts them.
    """
    finished = now_jst()
    run_id = parts.started.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
    hosts = parts.hosts
    envelope: dict[str, Any] = {
        "operator": options.operator or os.environ.get("USER", "") or "unknown",
        "operator_role": options.operator_role,
        "scanner_host": os.uname().nodename,
        "scanner_sha256": scanner_digest(),
        "time_sync": parts.time_sync,
        "hashes": {**pack.hashes, "pack": _pack_hash(pack), "inventory": _sha256(inventory)},
        "scope": {
            "limit": list(options.limit),
            "hosts_in_scope": [h.name for h in hosts],
            "targets": [_target(h) for h in hosts],
            "excluded": parts.excluded,
            "not_assessed": [
                {"host": r.name, "status": r.status, "reason": r.message} for r in results if not r.assessed
            ],
        },
        "waivers": summary(waivers, list(waived), parts.today),
        "waiver_date": parts.today.isoformat(),
        "areas": pack.areas,
        "roles": pack.profile.roles,
    }
    if parts.netdev:
        envelope["netdev"] = parts.netdev
    return Run(
        run_id=run_id,
        started_at=parts.started.isoformat(),
        finished_at=finished.isoformat(),
        mode=options.mode,
        scanner_version=__version__,
        inventory=str(inventory.path),
        profile=pack.profile.name,
        # The inventory names the 区 scanned; the profile names whose rules apply (recorded apart).
        municipality=inventory.municipality
        or {"name_ja": pack.profile.name_ja, "name_en": pack.profile.name_en},
        fail_on=options.fail_on or pack.profile.fail_on,
        hosts=results,
        findings=findings,
        envelope=envelope,
    )


def _sha256(inventory: Inventory) -> str:

    from scanner import safeio
    from scanner.errors import LoadError

    try:
        return safeio.sha256(inventory.path)
    except LoadError:
        return ""


def _pack_hash(pack: Pack) -> str:
    """Return one hash naming the policy pack (checks and controls) as a whole."""
    import hashlib

    return hashlib.sha256(
        f"checks:{pack.hashes['checks']}\npolicies:{pack.hashes['policies']}\n".encode()
    ).hexdigest()


def _target(host: Host) -> dict[str, Any]:
    """Return what the scope records of one target: system, owner 課 (and 部 when labelled), zone, class."""
    department = host.labels.get("department") or str(host.vars.get("department", ""))
    return {**host.to_json(), "department": department}
