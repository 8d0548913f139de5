"""The CSV form of the tables (report/tables.py): findings, risk register, management review, waivers.

CSV is UTF-8 with a BOM (Excel in Japanese opens it correctly) and CRLF; a cell that a spreadsheet
would read as a formula gets a leading quote. The names of report/tables.py are kept here too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from scanner.report.sheets import Collected, collect
from scanner.report.tables import (
    ANSWER as ANSWER,
)
from scanner.report.tables import (
    ANSWERS as ANSWERS,
)
from scanner.report.tables import (
    DEFAULT_SCALES as DEFAULT_SCALES,
)
from scanner.report.tables import (
    KEY as KEY,
)
from scanner.report.tables import (
    ORGANIZATION as ORGANIZATION,
)
from scanner.report.tables import (
    REVIEW_HEADERS,
    RISK_HEADERS,
    SELF_HEADERS,
    WAIVER_HEADERS,
    review_table,
    risk_table,
    self_inputs,
    self_table,
    waivers,
)
from scanner.report.tables import (
    WAIVER_STATES as WAIVER_STATES,
)
from scanner.report.tables import (
    Scales as Scales,
)
from scanner.report.tables import (
    Table as Table,
)
from scanner.report.tables import (
    answerable as answerable,
)
from scanner.report.tables import (
    due as due,
)
from scanner.report.tables import (
    load_scales as load_scales,
)
from scanner.report.tables import (
    run_date as run_date,
)
from scanner.results import Run


def self_inspection(run: Run) -> dict[str, Table]:
    """Return one 自己点検 table per owner 課 (not-applicable findings left out), rows in memory."""
    done, inputs = collect(run), self_inputs(run)
    try:
        return {o: self_table(o, list(done.self_rows.rows(o)), inputs) for o in done.self_rows.groups()}
    finally:
        done.close()


def risk_register(run: Run, scales: Scales = DEFAULT_SCALES) -> Table:
    """Return the リスク登録簿: every failing finding as a risk candidate, waived ones as accepted risks."""
    done = collect(run, scales)
    done.close()
    return risk_table(done.risk_rows())


def review(run: Run, scales: Scales = DEFAULT_SCALES) -> Table:
    """Return the management-review rollup by 部/課, zone and area (coverage, pass rate, waivers, overdue)."""
    done = collect(run, scales)
    done.close()
    return review_table(done.review)


FINDINGS_HEADERS = ["所管課 owner", *SELF_HEADERS]


def findings_rows(done: Collected) -> Iterator[list[Any]]:
    """Yield every 自己点検 row with its owner 課 first, owners in order (for aggregation)."""
    for owner in done.self_rows.groups():
        for row in done.self_rows.rows(owner):
            yield [owner, *row]


def findings_table(run: Run) -> Table:
    """Return every finding with the self-inspection columns plus its owner 課 (for aggregation)."""
    done = collect(run)
    try:
        return Table("点検結果 findings", FINDINGS_HEADERS, list(findings_rows(done)))
    finally:
        done.close()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Keep a host-supplied string from being read as a spreadsheet formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(headers: list[str], rows: Iterable[list[Any]], handle: IO[bytes]) -> None:
    """Write a table as CSV into a binary file: UTF-8 with BOM, CRLF, a header row, one row at a time."""
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(text)
        writer.writerow(headers)
        writer.writerows([safe_cell(v) for v in row] for row in rows)
    finally:
        text.flush()
        text.detach()


def to_csv(table: Table) -> bytes:
    """Render a table as CSV: UTF-8 with BOM, CRLF, a header row."""
    buffer = io.BytesIO()
    write_csv(table.headers, table.rows, buffer)
    return buffer.getvalue()


def writers(run: Run, done: Collected) -> dict[str, Callable[[IO[bytes]], None]]:
    """Return the CSV files of a run, by path inside the run folder, each as a function writing it."""
    return {**findings_writers(done), **summary_writers(run, lambda: done)}


def findings_writers(done: Collected) -> dict[str, Callable[[IO[bytes]], None]]:
    """Return findings.csv (from ``done``'s 自己点検 rows)."""
    return {"csv/findings.csv": lambda out: write_csv(FINDINGS_HEADERS, findings_rows(done), out)}


def summary_writers(run: Run, done: Callable[[], Collected]) -> dict[str, Callable[[IO[bytes]], None]]:
    """Return the risk register, the management review and the waivers as CSV (``done()`` when written)."""
    return {
        "csv/risk-register.csv": lambda out: write_csv(RISK_HEADERS, done().risk_rows(), out),
        "csv/management-review.csv": lambda out: write_csv(REVIEW_HEADERS, done().review, out),
        "csv/waivers.csv": lambda out: write_csv(WAIVER_HEADERS, waivers(run).rows, out),
    }


def render(run: Run, scales: Scales = DEFAULT_SCALES) -> dict[str, bytes]:
    """Return the CSV files of a run, by path inside the run folder (in memory: small runs, tests)."""
    done = collect(run, scales)
    try:
        return {rel: _bytes(write) for rel, write in writers(run, done).items()}
    finally:
        done.close()


def _bytes(write: Callable[[IO[bytes]], None]) -> bytes:
    buffer = io.BytesIO()
    write(buffer)
    return buffer.getvalue()
