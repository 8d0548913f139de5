"""Reporters read a run's findings once, in bounded memory, and write the same files as before.

The tables of the workbooks and CSV come from one pass (report/sheets.py); these tests hold them
to the plain definitions computed here from the whole list of findings, on the hand-made run and
on the same run read back lazily from its folder (a FindingLog).
"""

from __future__ import annotations

import dataclasses
import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from scanner import compact, history
from scanner.report import console, junit, sarif, sheetxml, tables, writing, xlsx
from scanner.report import csv as csvreport
from scanner.report.labels import STATUS_ORDER, area_label, severity_sorted
from scanner.results import Finding, Run, Status


@pytest.fixture(params=["in memory", "from its folder"])
def either(request: pytest.FixtureRequest, run: Run, tmp_path: Path) -> Run:
    if request.param == "in memory":
        return run
    history.write_results(tmp_path, run)
    loaded = compact.load(tmp_path / "results.json")
    assert isinstance(loaded.findings, compact.FindingLog)
    return loaded


def _plain_review(run: Run) -> list[list[object]]:
    """The management review as first written: group the whole list of findings, count each group."""
    info, found = tables.targets(run), list(run.findings)

    def row(dim: str, group: str, items: list[Finding], hosts: set[str] | None) -> list[object]:
        counts = {s: sum(1 for f in items if f.status is s) for s in Status}
        lapsed = sum(1 for f in items if f.waiver and f.waiver.id in tables.lapsed_ids(run))
        overdue = sum(
            1
            for f in items
            if f.status is Status.FAIL and tables.run_date(run) > tables.due(run, f, tables.DEFAULT_SCALES)
        )
        return tables.review_row(run, dim, group, counts, hosts, lapsed, overdue)

    out = []
    keys = [
        ("部/課 department", lambda f: tables.department(info, f), True),
        ("ゾーン zone", lambda f: tables.zone_of(f) or tables.ORGANIZATION, True),
        ("領域 area", lambda f: area_label(f.area)[0], False),
    ]
    for dim, key, by_host in keys:
        groups: dict[str, list[Finding]] = {}
        for f in found:
            groups.setdefault(key(f), []).append(f)
        for name, items in sorted(groups.items()):
            out.append(row(dim, name, items, {f.host for f in items if f.host in info} if by_host else None))
    out.append(row("全体 total", tables.ORGANIZATION, found, set(info)))
    return out


def test_one_pass_gives_the_tables_of_their_plain_definitions(either: Run) -> None:
    assert csvreport.review(either).rows == _plain_review(either)
    order = {s: i for i, s in enumerate(STATUS_ORDER)}
    info, role = tables.targets(either), tables.owner_role(either)
    found = list(either.findings)
    for owner, table in csvreport.self_inspection(either).items():
        mine = [f for f in found if tables.owner_of(f) == owner and f.status is not Status.NOT_APPLICABLE]
        mine.sort(key=lambda f: (order[f.status], f.host, f.control_id))
        assert list(table.rows) == [tables.self_row(either, f, info, role) for f in mine], owner
    risky = [f for f in severity_sorted(found) if f.status in (Status.FAIL, Status.WAIVED)]
    assert [r[0] for r in csvreport.risk_register(either).rows] == [f.key for f in risky]


def test_workbook_rows_read_back_as_written(either: Run) -> None:
    books = xlsx.render(either)
    owners = csvreport.self_inspection(either)
    assert owners
    for owner, table in owners.items():
        ws = load_workbook(
            io.BytesIO(books[f"workbooks/self-inspection/{xlsx.safe_name(owner)}.xlsx"])
        ).worksheets[0]
        values = [list(r) for r in ws.iter_rows(values_only=True)]
        head = next(i for i, r in enumerate(values) if r[0] == "ホスト host")
        assert ws.max_row == head + 1 + len(table.rows)  # the <dimension> names the spliced rows
        expected = [[None if v == "" else v for v in row] for row in table.rows]
        assert values[head + 1 :] == expected
        answer = tables.SELF_HEADERS.index(tables.ANSWER) + 1
        for i, row in enumerate(table.rows):
            cell = ws.cell(row=head + 2 + i, column=answer)
            takes = tables.answerable(str(row[6]))
            assert cell.protection.locked is not takes
            assert (cell.fill.fgColor.rgb == "00E2F0D9") is takes
            height = ws.row_dimensions[head + 2 + i].height
            assert height == sheetxml.height(row, tables.SELF_WIDTHS) and height >= 15


def test_a_row_height_counts_wide_characters_twice() -> None:
    assert sheetxml.height(["a" * 10], [11]) == 15.0
    assert sheetxml.height(["漢" * 10], [11]) == 30.0  # 20 columns in a 10-column cell
    assert sheetxml.height(["a\nb"], [11]) == 30.0


def test_cells_are_escaped_and_keep_their_spaces() -> None:
    cell = sheetxml._cell("A1", 3, " <a & b> ")
    assert (
        cell == '<c r="A1" s="3" t="inlineStr"><is><t xml:space="preserve"> &lt;a &amp; b&gt; </t></is></c>'
    )
    assert sheetxml._cell("B2", 4, "") == '<c r="B2" s="4" t="inlineStr" />'
    assert sheetxml._cell("C3", 5, 0.25) == '<c r="C3" s="5" t="n"><v>0.25</v></c>'
    ET.fromstring(f"<r>{cell}</r>")


def test_junit_suites_gather_a_hosts_findings_wherever_they_are(run: Run, tmp_path: Path) -> None:
    found = list(run.findings)
    first = found[0].host
    mine = [f for f in found if f.host == first]
    others = [f for f in found if f.host != first]
    split = dataclasses.replace(run, findings=tuple(mine[:1] + others + mine[1:]))  # the host comes back
    history.write_results(tmp_path, split)
    for each in (split, compact.load(tmp_path / "results.json")):
        root = ET.fromstring(junit.render(each))
        suite = next(s for s in root if s.get("name") == first)
        cases = [f for f in mine if f.status is not Status.NOT_APPLICABLE]
        assert int(suite.get("tests", "")) == len(suite.findall("testcase")) == len(cases)
        assert [s.get("name") for s in root].count(first) == 1
        assert junit.render(each) == junit.render(run)  # suites in inventory order, cases in file order


def test_sarif_and_console_read_back_the_same(run: Run, tmp_path: Path) -> None:
    history.write_results(tmp_path, run)
    loaded = compact.load(tmp_path / "results.json")
    assert sarif.render(loaded) == sarif.render(run)
    assert console.render(loaded) == console.render(run)


def test_the_console_keeps_the_first_errors_by_severity(run: Run) -> None:
    base = next(f for f in run.findings if f.status is Status.FAIL)
    errors = [
        dataclasses.replace(
            base, status=Status.ERROR, host=f"h{i % 7}", control_id=f"C-{i % 5:02d}", message=f"m{i}"
        )
        for i in range(3 * console.MAX_ERRORS)
    ]
    many = dataclasses.replace(run, findings=(*run.findings, *errors))
    text = console.render(many)
    shown = severity_sorted([f for f in many.findings if f.status is Status.ERROR])
    assert f"エラー errors ({len(shown)})" in text
    listed = [line.split(": ")[-1] for line in text.splitlines() if line.startswith("  h") and ": m" in line]
    assert listed == [f.message for f in shown[: console.MAX_ERRORS] if f.host.startswith("h")]
    assert f"他 {len(shown) - console.MAX_ERRORS} 件" in text


def test_reports_written_by_two_processes(tmp_path: Path) -> None:
    files: dict[str, writing.Body] = {
        "csv/a.csv": lambda out: out.write(b"a"),
        "workbooks/b.xlsx": lambda out: out.write(b"b"),
        "junit.xml": lambda out: out.write(b"c"),
        "envelope.json": "d",
    }
    writing.put_all(tmp_path, files)
    assert {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in tmp_path.rglob("*.*")} == {
        "csv/a.csv": b"a",
        "workbooks/b.xlsx": b"b",
        "junit.xml": b"c",
        "envelope.json": b"d",
    }


def test_a_failing_report_writer_fails_the_run_in_either_process(tmp_path: Path) -> None:
    def broken(out: object) -> None:
        raise OSError("disk full")

    with pytest.raises(RuntimeError, match=r"csv/a\.csv"):
        writing.put_all(tmp_path / "one", {"csv/a.csv": broken, "junit.xml": b"c"})
    with pytest.raises(OSError, match="disk full"):
        writing.put_all(tmp_path / "two", {"csv/a.csv": lambda out: out.write(b"a"), "junit.xml": broken})


def test_a_workbook_zip_holds_each_part_once(run: Run) -> None:
    for data in xlsx.render(run).values():
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = z.namelist()
            assert len(names) == len(set(names)) and z.testzip() is None
