"""One pass over a run's findings for every table of csv.py and xlsx.py, with bounded memory.

The 自己点検 rows (every finding but the not-applicable ones: most of a run) are spooled to a
temporary file as they come and read back per owner 課 in the order the tables show them; only
their sort keys stay in memory. The リスク登録簿 rows (failures and waived findings) stay in
memory, and the management review keeps counters per group, never the findings.
"""

from __future__ import annotations

import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from scanner.report import reading, tables
from scanner.report.labels import STATUS_ORDER, area_label
from scanner.results import Finding, Run, Status

_ORDER = {s: i for i, s in enumerate(STATUS_ORDER)}


class Spool:
    """Rows written to a temporary file as they come, read back per group in key order.

    Rows are read with ``os.pread`` (no shared file position), so processes forked after the
    rows are written (scanner/report/writing.py) can read them at the same time.
    """

    def __init__(self) -> None:
        self.handle: IO[bytes] = tempfile.TemporaryFile(prefix="kijun-rows-")  # noqa: SIM115 (closed by close)
        self.index: dict[str, list[tuple[Any, ...]]] = {}  # per group: (*key, offset, length) of each row
        self.size = 0

    def add(self, group: str, key: tuple[Any, ...], row: list[Any]) -> None:
        data = pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL)
        self.handle.write(data)
        offset, self.size = self.size, self.size + len(data)
        # One flat tuple per row, its strings shared: at 10,000 hosts the index is ≈ 230,000 rows in
        # each report process (offset after the key: a stable sort, as each row's offset is its own).
        entry = (*(sys.intern(k) if type(k) is str else k for k in key), offset, len(data))
        self.index.setdefault(group, []).append(entry)

    def groups(self) -> list[str]:
        return sorted(self.index)

    def rows(self, group: str) -> Rows:
        return Rows(self, group)

    def close(self) -> None:
        self.handle.close()


class Rows:
    """The rows of one group of a spool: sized, and read from disk each time they are iterated."""

    def __init__(self, spool: Spool, group: str) -> None:
        self.spool, self.group = spool, group

    def __len__(self) -> int:
        return len(self.spool.index.get(self.group, ()))

    def __contains__(self, row: object) -> bool:
        return any(row == r for r in self)

    def __iter__(self) -> Iterator[list[Any]]:
        self.spool.handle.flush()
        fd = self.spool.handle.fileno()
        for entry in sorted(self.spool.index.get(self.group, ())):
            yield pickle.loads(os.pread(fd, entry[-1], entry[-2]))


@dataclass
class _Group:
    """What a management-review row needs of its findings: counts, hosts, lapsed and overdue waivers."""

    counts: dict[Status, int] = field(default_factory=lambda: dict.fromkeys(Status, 0))
    hosts: set[str] = field(default_factory=set)
    lapsed: int = 0
    overdue: int = 0


@dataclass
class Collected:
    """The tables of a run after one pass: 自己点検 rows spooled, risk rows and review counters."""

    self_rows: Spool
    risk: list[tuple[tuple[Any, ...], list[Any]]]
    review: list[list[Any]]

    def risk_rows(self) -> list[list[Any]]:
        return [row for _key, row in sorted(self.risk, key=lambda item: item[0])]

    def close(self) -> None:
        self.self_rows.close()


def collect(run: Run, scales: tables.Scales = tables.DEFAULT_SCALES) -> Collected:
    """Read the findings once; return the rows of the 自己点検 and risk tables and the review rows."""
    collector = Collector(run, scales)
    try:
        reading.feed(run, [collector])
    except BaseException:
        collector.spool.close()
        raise
    return collector.done()


class Collector:
    """The rows of the tables as the findings go by (a ``reading.Reader``); ``done`` gives them.

    Two processes may share the work (scanner/report/writing.py): one the 自己点検 rows, the other
    the risk register and the review.
    """

    def __init__(
        self, run: Run, scales: tables.Scales = tables.DEFAULT_SCALES, rows: bool = True, summary: bool = True
    ) -> None:
        """``rows``: spool the 自己点検 rows; ``summary``: the risk rows and the review's counters."""
        self.run, self.scales, self.rows, self.summary = run, scales, rows, summary
        self.info, self.role, self.today = tables.targets(run), tables.owner_role(run), tables.run_date(run)
        self.lapsed = tables.lapsed_ids(run)
        self.spool, self.risk, self.seq = Spool(), list[tuple[tuple[Any, ...], list[Any]]](), 0
        info = self.info
        self.dims: list[tuple[str, Callable[[Finding], str], bool]] = [
            ("部/課 department", lambda f: tables.department(info, f), True),
            ("ゾーン zone", lambda f: tables.zone_of(f) or tables.ORGANIZATION, True),
            ("領域 area", lambda f: area_label(f.area)[0], False),
        ]
        self.groups: list[dict[str, _Group]] = [{} for _ in self.dims]
        self.total = _Group()

    def wanted(self, host: str, status: Status) -> bool:
        return self.summary or status is not Status.NOT_APPLICABLE  # the 自己点検 rows leave those out

    def add(self, host: str, status: Status, f: Finding | None) -> None:
        seq, self.seq = self.seq, self.seq + 1
        if f is None:  # not wanted
            return
        run, info, role, today, scales = self.run, self.info, self.role, self.today, self.scales
        if self.rows and f.status is not Status.NOT_APPLICABLE:
            self.spool.add(
                tables.owner_of(f),
                (_ORDER[f.status], f.host, f.control_id),
                tables.self_row(run, f, info, role),
            )
        if not self.summary:
            return
        if f.status in (Status.FAIL, Status.WAIVED):
            self.risk.append(
                (
                    (-f.severity.rank, f.host, f.control_id, seq),
                    tables.risk_row(run, f, info, role, today, scales),
                )
            )
        overdue = f.status is Status.FAIL and today > tables.due(run, f, scales)
        was_lapsed = bool(f.waiver and f.waiver.id in self.lapsed)
        for (_dim, key, by_host), found in zip(self.dims, self.groups, strict=True):
            name = key(f)
            group = found.get(name) or found.setdefault(name, _Group())
            _count(group, f, by_host and f.host in info, was_lapsed, overdue)
        _count(self.total, f, False, was_lapsed, overdue)

    def done(self) -> Collected:
        """Return the tables gathered (after the last finding)."""
        run, info = self.run, self.info
        review: list[list[Any]] = []
        for (dim, _key, by_host), found in zip(self.dims, self.groups, strict=True):
            for name, group in sorted(found.items()):
                review.append(tables.review_row(run, dim, name, group.counts, group.hosts if by_host else None,
                                                group.lapsed, group.overdue))  # fmt: skip
        total = self.total
        review.append(
            tables.review_row(
                run, "全体 total", tables.ORGANIZATION, total.counts, set(info), total.lapsed, total.overdue
            )
        )
        return Collected(self.spool, self.risk, review)


def _count(group: _Group, f: Finding, host: bool, lapsed: bool, overdue: bool) -> None:
    group.counts[f.status] += 1
    if host:
        group.hosts.add(f.host)
    group.lapsed += lapsed
    group.overdue += overdue
