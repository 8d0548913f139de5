"""Collection: the plan of what to read on a host, the transport interface, and the transport registry.

Every transport is a plain function ``collect(host, plan, timeout) -> RawFacts`` that raises
``CollectError`` with status ``unreachable`` or ``error``; ``transport_for(host)`` picks it.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from scanner.inventory import Host
    from scanner.rawfacts import RawFacts


class CollectError(Exception):
    """A host could not be collected: ``status`` is "unreachable" or "error"."""

    def __init__(self, status: str, message: str) -> None:
        if status not in ("unreachable", "error"):
            raise ValueError(f"bad collect status {status!r}")
        self.status = status
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Plan:
    """What the collector reads on one host: file globs (content), stat globs (metadata), probe names."""

    files: tuple[str, ...] = ()
    stats: tuple[str, ...] = ()
    probes: tuple[str, ...] = ()
    # Probes the scanner generated for this host from validated data (name, command): the egress probe.
    generated: tuple[tuple[str, str], ...] = ()
    # (dialect, config file): read on the host and collect what it includes (scanner/collect/follow.py).
    follow: tuple[tuple[str, str], ...] = ()


class Transport(Protocol):
    """The one method every transport offers."""

    def __call__(self, host: Host, plan: Plan, timeout: float) -> RawFacts: ...


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
