"""Read a run's findings once for a reporter, building a Finding only for the lines it needs.

A run read from its folder holds its findings as a FindingLog (scanner/compact.py): each line is
decoded into a Finding on request, which is most of a reporter's cost when it shows only some
statuses (SARIF: failures; JUnit: not the not-applicable ones).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from scanner.compact import FindingLog, decode
from scanner.results import Finding, Run, Status


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
