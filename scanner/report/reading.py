"""Read a run's findings once for several reporters, building a Finding only for the lines they need.

A run read from its folder holds its findings as a FindingLog (scanner/compact.py): each line is
decoded into a Finding on request, which is most of a reporter's cost when it shows only some
statuses (SARIF: failures; JUnit: not the not-applicable ones). ``feed`` reads the lines once for
every reporter given (a ``Reader``), decoding a line once if any of them wants it; ``Pass`` does
that once, on first need, for the report files made in one process (scanner/report/writing.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar

from scanner.compact import FindingLog, decode
from scanner.results import Finding, Run, Status


class Reader(Protocol):
    """A reporter that takes the findings one at a time, in order."""

    def wanted(self, host: str, status: Status) -> bool:
        """Whether it needs this finding built (else ``add`` gets None)."""
        ...

    def add(self, host: str, status: Status, finding: Finding | None) -> None: ...


def findings(run: Run, wanted: Callable[[str, Status], bool]) -> Iterator[tuple[str, Status, Finding | None]]:
    """Yield (host, status, finding) of every finding in order; the finding only when ``wanted``."""
    log = run.findings
    if not isinstance(log, FindingLog):
        for f in log:
            yield f.host, f.status, f
        return
    for line, seen in log.lines():
        host, status = str(line["host"]), Status(line["status"])
        if wanted(host, status):
            yield host, status, Finding.from_json(decode(line, log.catalog, log.hosts.get(host, {}), seen))
        else:
            yield host, status, None


def feed(run: Run, readers: Sequence[Reader]) -> None:
    """Give every finding of a run to each reader, in order, reading and decoding each line once."""
    if len(readers) == 1:
        (only,) = readers
        for host, status, f in findings(run, only.wanted):
            only.add(host, status, f)
        return
    log = run.findings
    if not isinstance(log, FindingLog):
        for f in log:
            for reader in readers:
                reader.add(f.host, f.status, f)
        return
    catalog, hosts, statuses = log.catalog, log.hosts, {s.value: s for s in Status}
    for line, seen in log.lines():
        host, status = str(line["host"]), statuses.get(line["status"]) or Status(line["status"])
        wants = [reader.wanted(host, status) for reader in readers]
        f = Finding.from_json(decode(line, catalog, hosts.get(host, {}), seen)) if any(wants) else None
        for reader, want in zip(readers, wants, strict=True):
            reader.add(host, status, f if want else None)


R = TypeVar("R", bound=Reader)


class Pass:
    """One reading of a run's findings shared by several readers, made when first needed."""

    def __init__(self, run: Run) -> None:
        self.run, self.readers, self.done = run, list[Reader](), False

    def join(self, reader: R) -> R:
        """Add a reader to the pass (before it is made); return it."""
        if self.done:
            raise RuntimeError("the findings were already read")
        self.readers.append(reader)
        return reader

    def ready(self) -> None:
        """Read the findings into every reader, once."""
        if not self.done:
            self.done = True
            feed(self.run, self.readers)
