"""One pass over a run's findings for every table of csv.py and xlsx.py, with bounded memory.

The 自己点検 rows (every finding but the not-applicable ones: most of a run) are spooled to a
temporary file as they come and read back per owner 課 in the order the tables show them; only
their sort keys stay in memory. The リスク登録簿 rows (failures and waived findings) stay in
memory, and the management review keeps counters per group, never the findings.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from scanner.report import tables
from scanner.report.labels import STATUS_ORDER, area_label
from scanner.results import Finding, Run, Status

_ORDER = {s: i for i, s in enumerate(STATUS_ORDER)}


class Spool:
    """Rows written to a temporary file as they come, read back per group in key order."""

    def __init__(self) -> None:
        self.handle: IO[bytes] = tempfile.TemporaryFile(prefix="kijun-rows-")  # noqa: SIM115 (closed by close)
        self.index: dict[str, list[tuple[Any, int]]] = {}

    def add(self, group: str, key: tuple[Any, ...], row: list[Any]) -> None:
        offset = self.handle.seek(0, 2)
        pickle.dump(row, self.handle, protocol=pickle.HIGHEST_PROTOCOL)
        self.index.setdefault(group, []).append(((*key, offset), offset))  # offset: a stable sort

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
        handle = self.spool.handle
        for _key, offset in sorted(self.spool.index.get(self.group, ())):
            handle.seek(offset)
            yield pickle.load(handle)


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
    info, role, today = tables.targets(run), tables.owner_role(run), tables.run_date(run)
    lapsed = tables.lapsed_ids(run)
    spool, risk = Spool(), []
    dims: list[tuple[str, Callable[[Finding], str], bool]] = [
        ("部/課 department", lambda f: tables.department(info, f), True),
        ("ゾーン zone", lambda f: tables.zone_of(f) or tables.ORGANIZATION, True),
        ("領域 area", lambda f: area_label(f.area)[0], False),
    ]
    groups: list[dict[str, _Group]] = [{} for _ in dims]
    total = _Group()
    try:
        for seq, f in enumerate(run.findings):
            if f.status is not Status.NOT_APPLICABLE:
                spool.add(
                    tables.owner_of(f),
                    (_ORDER[f.status], f.host, f.control_id),
                    tables.self_row(run, f, info, role),
                )
            if f.status in (Status.FAIL, Status.WAIVED):
                risk.append(
                    (
                        (-f.severity.rank, f.host, f.control_id, seq),
                        tables.risk_row(run, f, info, role, today, scales),
                    )
                )
            overdue = f.status is Status.FAIL and today > tables.due(run, f, scales)
            was_lapsed = bool(f.waiver and f.waiver.id in lapsed)
            for (_dim, key, by_host), found in zip(dims, groups, strict=True):
                name = key(f)
                group = found.get(name) or found.setdefault(name, _Group())
                _count(group, f, by_host and f.host in info, was_lapsed, overdue)
            _count(total, f, False, was_lapsed, overdue)
    except BaseException:
        spool.close()
        raise
    review: list[list[Any]] = []
    for (dim, _key, by_host), found in zip(dims, groups, strict=True):
        for name, group in sorted(found.items()):
            review.append(tables.review_row(run, dim, name, group.counts, group.hosts if by_host else None,
                                            group.lapsed, group.overdue))  # fmt: skip
    review.append(
        tables.review_row(
            run, "全体 total", tables.ORGANIZATION, total.counts, set(info), total.lapsed, total.overdue
        )
    )
    return Collected(spool, risk, review)


def _count(group: _Group, f: Finding, host: bool, lapsed: bool, overdue: bool) -> None:
    group.counts[f.status] += 1
    if host:
        group.hosts.add(f.host)
    group.lapsed += lapsed
    group.overdue += overdue
