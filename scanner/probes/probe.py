"""Run the zone probes of a scan: one probe script per vantage (in parallel), then judge what each saw.

Each vantage's raw facts (pseudo host ``probes-<vantage>``) hold the plan, the exact command lines,
the nmap version, the XML and stderr of each run, and the timing the zone policy set: that is
the evidence (evidence/probes-<vantage>.json), and the findings point into it.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from datetime import datetime
from typing import Any

from scanner import __version__
from scanner.collect import CollectError
from scanner.facts import Facts
from scanner.inventory import Inventory
from scanner.policy import Pack
from scanner.probes import observe, routes, script
from scanner.probes.evaluate import evaluate, known_addresses
from scanner.probes.plan import Plan, plan_for
from scanner.probes.vantage import Vantage, option
from scanner.probes.zonepolicy import ZonePolicy
from scanner.rawfacts import Item, RawFacts
from scanner.results import Finding

STDERR_CHARS = 4096


def timing(policy: ZonePolicy) -> script.Timing:
    """Return the probe timing the zone policy sets."""
    return script.Timing(**{f.name: int(policy.probe[f.name]) for f in fields(script.Timing)})


def _item(name: str, cmd: str, rc: int | None, stdout: str, stderr: str = "") -> Item:
    data = stdout.encode("utf-8")
    return Item(
        id=f"probe:{name}",
        kind="probe",
        cmd=cmd,
        rc=rc,
        data=data,
        stderr=stderr[-STDERR_CHARS:],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def run_vantage(vantage: Vantage, plan: Plan, policy: ZonePolicy) -> tuple[observe.Observed, RawFacts]:
    """Run one vantage's probe script and return what it saw and its raw facts (the evidence)."""
    tune = timing(policy)
    nonce = script.new_nonce()
    runs = script.Runs(plan.udp, [t.address for t in plan.targets if t.deep], plan.sports, plan.full)
    addresses = list(dict.fromkeys(t.address for t in plan.targets))
    text, commands = script.build(addresses, plan.ports, plan.sweep, tune, nonce, runs)
    started = datetime.now().astimezone().isoformat(timespec="seconds")
    clock = time.monotonic()
    items = {
        "probe:zone-plan": _item("zone-plan", "kijun zone plan", 0, json.dumps(plan.to_json(), indent=1))
    }
    collector = {
        "name": "kijun-probe",
        "version": __version__,
        "vantage": vantage.name,
        "zone": vantage.zone,
        "transport": vantage.transport,
        "zone_policy": " ".join(policy.files),
        "zone_policy_sha256": " ".join(policy.files.values()),
        **{f"{k}": str(v) for k, v in tune.__dict__.items()},
    }
    try:
        out = vantage.run(text, float(policy.probe["vantage_timeout_s"]))
        output = script.parse(out, nonce)
    except (CollectError, ValueError) as exc:
        # An unreachable vantage or unreadable output: every verdict of this vantage is an error.
        detail = f"({exc.status}): {exc.message}" if isinstance(exc, CollectError) else f": {exc}"
        message = f"probe from {vantage.name} failed {detail}"
        seen = observe.Observed(matrix_error=message, sweep_error=message)
        collector.update({"error": message, "probe_s": f"{time.monotonic() - clock:.3f}"})
        return seen, RawFacts(vantage.pseudo, started, collector, items)
    seen = observe.read(output, plan.ports, bool(plan.targets), bool(plan.sweep), plan.udp)
    for name, section in output.sections.items():
        items[f"probe:{name}"] = _item(
            name, commands.get(name, name), section.rc, section.stdout, section.stderr
        )
    collector.update(
        {
            "tool": output.tool,
            "tool_version": seen.version,
            "euid": output.euid,
            "probe_s": f"{time.monotonic() - clock:.3f}",
        }
    )
    return seen, RawFacts(vantage.pseudo, started, collector, items)


def _print_cost(vantage: Vantage, plan: Plan, policy: ZonePolicy) -> None:
    """Print what a full sweep costs before it runs (the operator asked for it, or the audit did)."""
    rate, budget = int(policy.probe["full_sweep_rate"]), int(policy.probe["full_sweep_budget_s"])
    cost = plan.cost(rate)
    if cost["full_sweep"]:
        deep = sum(1 for t in plan.targets if t.deep)
        print(
            f"kijun: full TCP sweep from {vantage.name}: {deep} target(s) x 65535 ports = "
            f"{cost['full_sweep']} probes at {rate}/s, at least {cost['full_sweep_s']} s "
            f"(budget {budget} s per target) / 全ポート走査の所要時間の目安",
            file=sys.stderr,
        )


def probe_findings(
    inventory: Inventory,
    pack: Pack,
    zone_policy: ZonePolicy,
    options: Any,
    vantages: list[Vantage],
    host_facts: Mapping[str, Facts] | None = None,
) -> tuple[list[Finding], dict[str, RawFacts]]:
    """Probe from every vantage and return the findings of their pseudo hosts and their raw facts.

    ``host_facts`` (parsed facts of the collected hosts) lets the INV-01 sweep account for
    addresses seen on inventory hosts' interfaces.

    >>> findings, raws = probe_findings(inv, pack, policy, Options(), vantages_for(policy, inv))  # doctest: +SKIP
    >>> sorted(raws)  # doctest: +SKIP
    ['probes-lg-probe-01', 'probes-mn-probe-01', 'probes-scanner']
    """
    trees = {name: facts.tree for name, facts in (host_facts or {}).items()}
    full = bool(option(options, "full_sweep", False)) or option(options, "mode", "") == "audit"
    plans = [(v, plan_for(v, zone_policy, inventory, pack, trees, full)) for v in vantages]
    plans = [(v, p) for v, p in plans if p.judged or p.sweep]
    plans += routes.plans(inventory, pack, zone_policy, trees)  # what My Number hosts' own routes reach
    if not plans:
        return [], {}
    for vantage, plan in plans:
        _print_cost(vantage, plan, zone_policy)
    known = known_addresses(inventory, zone_policy, trees)
    workers = max(1, min(int(option(options, "parallel", 32)), len(plans)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(lambda vp: run_vantage(vp[0], vp[1], zone_policy), plans))
    findings: list[Finding] = []
    raws: dict[str, RawFacts] = {}
    for (vantage, plan), (seen, raw) in zip(plans, done, strict=True):
        findings += evaluate(vantage, plan, seen, zone_policy, inventory, pack, known)
        raws[vantage.pseudo] = raw
    return findings, raws
