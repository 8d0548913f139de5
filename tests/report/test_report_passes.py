"""The reporters share their readings of the findings and split the writing across processes.

``writing.outputs`` reads the findings once for JUnit, HTML and SARIF, once more (in a forked
process) for the tables, and writes about half the workbooks in a third process; whatever the
split, every file is the one each reporter writes alone.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from scanner import compact, history
from scanner.report import csv as csvreport
from scanner.report import html, junit, reading, sarif, sheets, writing, xlsx
from scanner.results import Finding, Run, Status


@pytest.fixture(params=["in memory", "from its folder"])
def either(request: pytest.FixtureRequest, run: Run, tmp_path: Path) -> Run:
    if request.param == "in memory":
        return run
    history.write_results(tmp_path / "run", run)
    loaded = compact.load(tmp_path / "run" / "results.json")
    assert isinstance(loaded.findings, compact.FindingLog)
    return loaded


def _alone(run: Run) -> dict[str, bytes]:
    """Each reporter's files, each reporter reading the findings itself."""
    return {
        "junit.xml": junit.render(run).encode("utf-8"),
        "report.html": html.render(run).encode(),
        "results.sarif": sarif.render(run).encode("utf-8"),
        **xlsx.render(run),
        **csvreport.render(run),
    }


def _contents(data: bytes) -> dict[str, bytes]:
    """A workbook's parts but its timestamps (docProps/core.xml), or the file itself."""
    if not data.startswith(b"PK"):
        return {"": data}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


def _same(got: dict[str, bytes], want: dict[str, bytes]) -> None:
    assert sorted(got) == sorted(want)
    for rel in want:
        assert _contents(got[rel]) == _contents(want[rel]), rel


FORMATS = ("junit", "html", "sarif", "csv", "xlsx")


def test_shared_readings_in_three_processes_write_what_each_reporter_writes(
    either: Run, tmp_path: Path
) -> None:
    files = writing.outputs(FORMATS)(either, None)
    assert isinstance(files[writing.TABLES], writing.Group)  # the tables are read in a forked process
    writing.put_all(tmp_path / "out", files)
    written = {
        p.relative_to(tmp_path / "out").as_posix(): p.read_bytes() for p in (tmp_path / "out").rglob("*.*")
    }
    _same(written, _alone(either))


def test_expanded_groups_write_the_same_in_one_process(either: Run) -> None:
    files = writing.expand(writing.outputs(FORMATS)(either, None))
    assert not any(isinstance(b, writing.Group) for b in files.values())
    got = {}
    for rel, body in files.items():
        buffer = io.BytesIO()
        writing.write_body(buffer, body)
        got[rel] = buffer.getvalue()
    _same(got, _alone(either))


def test_about_half_of_the_workbooks_go_to_a_third_process(either: Run) -> None:
    group = writing.outputs(("csv", "xlsx"))(either, None)[writing.TABLES]
    assert isinstance(group, writing.Group)
    files = group.files()
    theirs = files.pop("workbooks")
    assert isinstance(theirs, writing.Group)
    there = set(theirs.files())
    here = {rel for rel in files if rel.startswith("workbooks/")}
    assert there and here and not there & here  # each workbook in exactly one of them
    assert all(rel.startswith("workbooks/") for rel in there)


class _Keep:
    """A reader that keeps what it is given, wanting only some statuses."""

    def __init__(self, statuses: tuple[Status, ...]) -> None:
        self.statuses, self.got = statuses, list[tuple[str, Status, Finding | None]]()

    def wanted(self, host: str, status: Status) -> bool:
        return status in self.statuses

    def add(self, host: str, status: Status, finding: Finding | None) -> None:
        self.got.append((host, status, finding))


def test_one_reading_gives_each_reader_what_it_would_read_alone(either: Run) -> None:
    fails, all_but_na = (
        _Keep((Status.FAIL,)),
        _Keep(tuple(s for s in Status if s is not Status.NOT_APPLICABLE)),
    )
    reading.feed(either, [fails, all_but_na])
    for reader in (fails, all_but_na):
        alone = list(reading.findings(either, reader.wanted))
        if isinstance(either.findings, compact.FindingLog):  # built only when wanted
            assert reader.got == alone
            assert all((f is None) != reader.wanted(h, s) for h, s, f in reader.got)
        else:
            assert [(h, s) for h, s, _f in reader.got] == [(h, s) for h, s, _f in alone]
    assert any(f is not None for _h, _s, f in fails.got)


def test_a_pass_reads_once_and_takes_no_reader_after(run: Run) -> None:
    shared = reading.Pass(run)
    keep = shared.join(_Keep((Status.FAIL,)))
    shared.ready()
    shared.ready()
    assert len(keep.got) == len(run.findings)
    with pytest.raises(RuntimeError):
        shared.join(_Keep(()))


def test_spooled_rows_read_at_once_by_two_processes(either: Run, tmp_path: Path) -> None:
    done = sheets.collect(either)
    owners = done.self_rows.groups()
    want = {o: list(done.self_rows.rows(o)) for o in owners}
    pid = os.fork()
    if pid == 0:  # the child reads every group while the parent does too (no shared file position)
        code = 0
        try:
            for _ in range(20):
                for o in owners:
                    code |= list(done.self_rows.rows(o)) != want[o]
        finally:
            os._exit(code)
    same = True
    for _ in range(20):
        for o in reversed(owners):
            same &= list(done.self_rows.rows(o)) == want[o]
    _pid, status = os.waitpid(pid, 0)
    done.close()
    assert same and status == 0


def test_a_failing_group_fails_the_run_from_its_process(tmp_path: Path) -> None:
    def broken() -> dict[str, writing.Body]:
        raise OSError("disk full")

    def books() -> dict[str, writing.Body]:  # a group inside the group: one more process
        return {
            "workbooks/a.xlsx": b"a",
            "inner": writing.Group(lambda: {"workbooks/b.xlsx": lambda out: broken()}),
        }

    with pytest.raises(RuntimeError, match="the process writing tables failed"):
        writing.put_all(tmp_path / "one", {"junit.xml": b"c", "tables": writing.Group(broken)})
    with pytest.raises(RuntimeError, match="the process writing tables failed"):
        writing.put_all(tmp_path / "two", {"junit.xml": b"c", "tables": writing.Group(books)})
    assert (tmp_path / "two" / "workbooks" / "a.xlsx").read_bytes() == b"a"
