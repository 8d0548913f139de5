"""Which hosts a scan covers and what it reads from each: --limit terms, the profile's scope, subjects.

Kept apart from scanner/run.py so that the probes and the bulk collector can ask the same
questions without importing the scan orchestration that calls them.
"""

from __future__ import annotations

import fnmatch

from scanner.inventory import Host, Inventory
from scanner.plans import plan
from scanner.policy import Pack

__all__ = ["scope", "select", "subjects_for"]


def _matches(host: Host, term: str) -> bool:
    """Match one --limit term: ``key=value`` pairs joined by commas (AND), or a name glob."""
    if "=" not in term:
        return fnmatch.fnmatchcase(host.name, term)
    for pair in term.split(","):
        key, _, value = pair.partition("=")
        key = key.strip()
        if key.startswith("label:"):
            if host.labels.get(key[6:]) != value:
                return False
        elif str(getattr(host, key, None)) != value:
            return False
    return True


def select(inventory: Inventory, limit: tuple[str, ...]) -> list[Host]:
    """Return the hosts the --limit terms select (all when there are none; terms are OR'ed)."""
    return [h for h in inventory.hosts if not limit or any(_matches(h, t) for t in limit)]


def scope(hosts: list[Host], pack: Pack) -> tuple[list[Host], list[dict[str, str]]]:
    """Split hosts into in-scope and excluded by the profile's scope rules (with reason and citation)."""
    kept: list[Host] = []
    excluded: list[dict[str, str]] = []
    for host in hosts:
        rule = next((r for r in pack.profile.exclusions if r.applies.matches(host)), None)
        if rule is None:
            kept.append(host)
        else:
            excluded.append({"host": host.name, "reason": rule.reason, "citation": rule.citation})
    return kept, excluded


def subjects_for(pack: Pack, host: Host) -> set[str]:
    """Return the fact subjects the checks of this host's applicable controls read.

    Hosts of one kind (zone, role, classification, OS, labels) read the same: worked out once
    (``scanner.plans``).
    """
    return set(plan(pack, host).subjects)
