"""Network reachability probes between zones (nmap via python-nmap): the zone policy, vantages, findings.

``scan_probes`` is what a scan calls: ``zonefile.for_inventory`` loads the matrix,
``vantage.vantages_for`` picks where the probes run, ``probe.probe_findings`` runs and judges them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scanner.facts import Facts
from scanner.inventory import Inventory
from scanner.policy import Pack
from scanner.probes import egress
from scanner.probes.probe import probe_findings
from scanner.probes.vantage import Vantage, option, vantages_for
from scanner.probes.zonefile import for_inventory
from scanner.probes.zonepolicy import ZonePolicy
from scanner.rawfacts import RawFacts
from scanner.results import Finding

__all__ = [
    "Vantage",
    "ZonePolicy",
    "egress_probes",
    "for_inventory",
    "probe_findings",
    "scan_probes",
    "vantages_for",
]


def _policy(inventory: Inventory, pack: Pack, options: Any) -> ZonePolicy:
    path = option(options, "zone_policy", "")
    return for_inventory(inventory, Path(path) if path else None, pack)


def egress_probes(inventory: Inventory, pack: Pack, options: Any) -> dict[str, tuple[tuple[str, str], ...]]:
    """Return the egress probe the collector runs on each host (none unless opted in, or under --no-probe)."""
    if not option(options, "probe", True):
        return {}
    return egress.generated(inventory, pack, _policy(inventory, pack, options), options)


def scan_probes(
    inventory: Inventory,
    pack: Pack,
    options: Any,
    host_facts: Mapping[str, Facts] | None = None,
    host_raws: Mapping[str, RawFacts] | None = None,
) -> tuple[list[Finding], dict[str, RawFacts]]:
    """Load the zone policy, pick the vantages and probe: the one call scanner.run.scan makes.

    Nothing runs under ``--no-probe`` or when no vantage is declared or named; the egress results
    the collector brought back (``host_raws``) are judged too.
    """
    if not option(options, "probe", True):
        return [], {}
    policy = _policy(inventory, pack, options)
    vantages = vantages_for(policy, inventory, options)
    found, raws = probe_findings(inventory, pack, policy, options, vantages, host_facts)
    more, evidence = egress.findings(inventory, pack, policy, host_raws or {})
    return found + more, {**raws, **evidence}
