"""Collection: the plan of what to read on a host, the transport interface (plan.py), and the transport registry.

Every transport is a plain function ``collect(host, plan, timeout) -> RawFacts`` that raises
``CollectError`` with status ``unreachable`` or ``error``; ``transport_for(host)`` picks it.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable
from typing import TYPE_CHECKING

from scanner.collect.plan import CollectError, Plan, Transport

if TYPE_CHECKING:
    from scanner.inventory import Host
    from scanner.rawfacts import RawFacts

__all__ = ["CollectError", "Plan", "Transport", "plan_for", "transport_for"]


def plan_for(subject_names: Iterable[str]) -> Plan:
    """Return the plan that reads exactly what the named subjects need.

    >>> plan_for(["sshd"]).probes  # doctest: +SKIP
    ('sshd-T',)
    """
    # Imported here: parsers may import scanner.collect.probes, which loads this package first.
    from scanner.collect.follow import widen
    from scanner.facts import needed_items

    files, stats, probes = needed_items(subject_names)
    files, follow = widen(files)
    return Plan(
        files=tuple(sorted(files)), stats=tuple(sorted(stats)), probes=tuple(sorted(probes)), follow=follow
    )


def _unavailable(message: str) -> Transport:
    def collect(host: Host, plan: Plan, timeout: float) -> RawFacts:
        raise CollectError("error", message)

    return collect


def _ssh() -> Transport:
    # The SSH transport lives in scanner/collect/ssh.py (another change); until it exists the host is an error.
    if importlib.util.find_spec("scanner.collect.ssh") is None:
        return _unavailable("ssh transport not available yet")
    module = importlib.import_module("scanner.collect.ssh")
    transport: Transport = module.collect
    return transport


def transport_for(host: Host) -> Transport:
    """Return the collect function for the host's transport (ssh, local, files, snapshot)."""
    if host.transport == "ssh":
        return _ssh()
    if host.transport == "local":
        from scanner.collect.local import collect as local_collect

        return local_collect
    if host.transport == "files":
        from scanner.collect.files import collect as files_collect

        return files_collect
    if host.transport == "snapshot":
        from scanner.collect.snapshot import collect as snapshot_collect

        return snapshot_collect
    return _unavailable(f"{host.transport} transport not available yet")
