"""What every transport shares: the plan it reads, the error it raises, and its signature.

Apart from ``scanner/collect/__init__.py`` (the registry that picks a transport) so that the
transports can import these without importing the registry that imports them.
"""

from __future__ import annotations

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

    def __reduce__(self) -> tuple[type[CollectError], tuple[str, str]]:
        # Rebuilt from both fields when it crosses a process pool (the default would pass ``args`` only).
        return (CollectError, (self.status, self.message))


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
