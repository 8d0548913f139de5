"""Write a run folder's report files: the renderer of the chosen formats, and the files it gives.

A report file is given as its content or as a function that writes it into a binary file (the
reports that stream: csv, workbooks, JUnit, HTML, SARIF), so a 10,000-host run is never held in
memory as a report. With two cores, the spreadsheets and SARIF are written by a forked process
while this one writes the rest.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from scanner.results import Run

Body = str | bytes | Callable[[IO[bytes]], object]  # a report file's content, or a function writing it


def put(path: Path, data: Body) -> None:
    """Write one file of a run folder being built (the folder is renamed into place when complete)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_body(handle, data)


def write_body(handle: IO[bytes], data: Body) -> None:
    if callable(data):
        data(handle)  # a report written as it is made (scanner/report/csv.py, xlsx.py)
    else:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)


# Report files written by a second process while this one writes the others (2 cores or more):
# the spreadsheets share one pass over the findings (scanner/report/sheets.py) and SARIF is cheap.
_FORKED = ("csv/", "workbooks/", "results.sarif")


def put_all(folder: Path, files: Mapping[str, Body]) -> None:
    """Write a run folder's report files; with two cores, the spreadsheets in a forked process.

    The child writes only into ``folder`` (still the temporary run folder) and exits; a failure
    there fails the run as it would here. It stops if this process is gone.
    """
    forked = [rel for rel, body in files.items() if callable(body) and rel.startswith(_FORKED)]
    if not forked or (os.cpu_count() or 1) < 2 or len(forked) == len(files):
        for rel, body in files.items():
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
                put(folder / rel, files[rel])
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
    from scanner.report import csv, html, junit, sarif, sheets, trend, xlsx

    chosen = set(formats)
    table_scales = csv.DEFAULT_SCALES if scales is None else scales

    def render(run: Run, prev: Run | None) -> dict[str, Body]:
        files: dict[str, Body] = {}
        if "junit" in chosen:
            files["junit.xml"] = lambda out: junit.write(run, out, junit_failures_only, junit_not_applicable)
        if "html" in chosen:
            points = trend.points(history_dir, run) if history_dir is not None else []
            files["report.html"] = lambda out: out.write(
                html.render(run, previous=prev, trend=points).encode()
            )
        if "sarif" in chosen:
            files["results.sarif"] = lambda out: out.write(sarif.render(run).encode("utf-8"))
        if chosen & {"xlsx", "csv"}:  # one pass over the findings for both; rows spooled to a temporary file
            done = sheets.collect(run, table_scales)
            if "xlsx" in chosen:
                files.update(xlsx.writers(run, done, table_scales))
            if "csv" in chosen:
                files.update(csv.writers(run, done))
        return files

    return render
