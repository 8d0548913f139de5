"""Write a run folder's report files: the renderer of the chosen formats, and the files it gives.

A report file is given as its content or as a function that writes it into a binary file (the
reports that stream: csv, workbooks, JUnit, HTML, SARIF), so a 10,000-host run is never held in
memory as a report. The findings are read twice, once per process: this one reads them for JUnit,
HTML, SARIF, the risk register and the management review together; a ``Group`` (the 自己点検
rows: findings.csv and a workbook per 課) is read in a forked process, which writes about half of
its workbooks in a third process while it writes the rest.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from scanner.report import reading
from scanner.results import Run


@dataclass(frozen=True)
class Group:
    """Report files made from one shared pass over the findings, whose names it gives (the workbooks)."""

    files: Callable[[], dict[str, Body]]


Body = str | bytes | Callable[[IO[bytes]], object] | Group  # a report file's content, a writer, or a group
TABLES = "self-inspection csv+workbooks"  # the key of the Group read in the forked process


def expand(files: Mapping[str, Body]) -> dict[str, Body]:
    """Return the files with every group made into its files (its pass read here, in order)."""
    out: dict[str, Body] = {}
    for rel, body in files.items():
        if isinstance(body, Group):
            out.update(expand(body.files()))
        else:
            out[rel] = body
    return out


def put(path: Path, data: Body) -> None:
    """Write one file of a run folder being built (the folder is renamed into place when complete)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_body(handle, data)


def write_body(handle: IO[bytes], data: Body) -> None:
    if isinstance(data, Group):
        raise TypeError("a group of report files is written by put_all or expanded first")
    if callable(data):
        data(handle)  # a report written as it is made (scanner/report/csv.py, xlsx.py)
    else:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)


# Report files written by a second process while this one writes the others (2 cores or more):
# a Group (the tables, read in that process), or else the spreadsheets and SARIF given as writers.
_FORKED = ("csv/", "workbooks/", "results.sarif")


def _forked(files: Mapping[str, Body]) -> list[str]:
    """Return the files a forked process writes: the groups, else the spreadsheets and SARIF."""
    groups = [rel for rel, body in files.items() if isinstance(body, Group)]
    return groups or [rel for rel, body in files.items() if callable(body) and rel.startswith(_FORKED)]


def put_all(folder: Path, files: Mapping[str, Body]) -> None:
    """Write a run folder's report files; with two cores, the groups (or spreadsheets) in a forked process.

    A group forked is read in the child, which writes its files the same way (a group in them in
    one more process). The child writes only into ``folder`` (still the temporary run folder) and exits; a failure
    there fails the run as it would here. It stops if this process is gone.
    """
    forked = _forked(files)
    if not forked or (os.cpu_count() or 1) < 2 or len(forked) == len(files):
        for rel, body in files.items():
            if isinstance(body, Group):
                put_all(folder, body.files())
            else:
                put(folder / rel, body)
        return
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: write its files, never return into the caller's code
        code = 0
        try:
            for rel in forked:
                if os.getppid() != parent:
                    code = 1
                    break
                body = files[rel]
                if isinstance(body, Group):
                    put_all(folder, body.files())
                else:
                    put(folder / rel, body)
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        finally:
            sys.stderr.flush()
            os._exit(code)
    try:
        for rel, body in files.items():
            if rel not in forked:
                put(folder / rel, body)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    _pid, status = os.waitpid(pid, 0)
    if status != 0:
        raise RuntimeError(f"kijun: the process writing {', '.join(forked)} failed (status {status})")


def outputs(
    formats: tuple[str, ...],
    scales: Any = None,
    junit_failures_only: bool = False,
    junit_not_applicable: bool = False,
    history_dir: Path | None = None,
) -> Callable[[Run, Run | None], dict[str, Body]]:
    """Return the renderer of a run folder's report files for the chosen formats (html shows the diff).

    ``history_dir`` is the reports folder whose earlier runs the dashboard's trend is drawn from.
    """
    from scanner.report import csv as csvfiles
    from scanner.report import dashboard, html, junit, sarif, sheets, trend, xlsx

    chosen = set(formats)
    table_scales = csvfiles.DEFAULT_SCALES if scales is None else scales

    def render(run: Run, prev: Run | None) -> dict[str, Body]:
        files: dict[str, Body] = {}
        here = reading.Pass(run)  # JUnit and HTML: one reading in this process
        if "junit" in chosen:
            cases = here.join(junit.Cases(run, junit_failures_only, junit_not_applicable))

            def suites(out: IO[bytes]) -> None:
                here.ready()
                cases.write(out)

            files["junit.xml"] = suites
        if "html" in chosen:
            points = trend.points(history_dir, run) if history_dir is not None else []
            gathered = here.join(dashboard.Gathering(run, html.failing_before(prev)))

            def page(out: IO[bytes]) -> None:
                here.ready()
                out.write(html.render(run, previous=prev, trend=points, gathered=gathered).encode())

            files["report.html"] = page
        if "sarif" in chosen:
            results = here.join(sarif.Results(run))

            def found(out: IO[bytes]) -> None:
                here.ready()
                out.write(results.text().encode("utf-8"))

            files["results.sarif"] = found
        if chosen & {"xlsx", "csv"}:  # the risk register and review here, the 自己点検 rows forked
            summary = here.join(sheets.Collector(run, table_scales, rows=False))

            @functools.cache
            def done() -> sheets.Collected:
                here.ready()
                return summary.done()

            if "xlsx" in chosen:
                files.update(xlsx.summary_writers(run, done, table_scales))
            if "csv" in chosen:
                files.update(csvfiles.summary_writers(run, done))
            files[TABLES] = Group(lambda: _tables(run, chosen, table_scales))
        return files

    return render


def _tables(run: Run, chosen: set[str], scales: Any) -> dict[str, Body]:
    """Read the findings once for the 自己点検 rows; return their files (the workbooks named by 課).

    About half of the work of writing them (by rows) is a Group, which ``put_all`` writes in one
    more process: the workbooks with the most rows first, findings.csv weighing a third per row.
    """
    from scanner.report import csv, sheets, xlsx

    rows = sheets.Collector(run, scales, summary=False)
    try:
        reading.feed(run, [rows])
    except BaseException:
        rows.spool.close()
        raise
    done = rows.done()
    books = xlsx.self_writers(run, done) if "xlsx" in chosen else {}
    tables = csv.findings_writers(done) if "csv" in chosen else {}
    counts = [len(done.self_rows.rows(o)) for o in done.self_rows.groups()]
    weight = dict(zip(books, counts, strict=False))  # xlsx.self_writers: a book per 課, in their order
    mine, other = (sum(counts) / 3 if tables else 0.0), 0.0
    theirs: dict[str, Body] = {}
    for rel in sorted(books, key=lambda r: -weight.get(r, 0)):
        if other < mine:
            theirs[rel] = books[rel]
            other += weight.get(rel, 0)
        else:
            mine += weight.get(rel, 0)
    files: dict[str, Body] = {rel: body for rel, body in books.items() if rel not in theirs}
    if theirs:
        files["workbooks"] = Group(lambda: theirs)
    return {**files, **tables}
