"""Own the Excel workbooks: a 自己点検票 per owner 課, the リスク登録簿, and the management review.

The tables come from report/csv.py; this module only lays them out (a heading block naming the
run, a frozen and filterable header row, widths, percentages). Host-supplied text is written as
text, never as a formula, and characters that XML cannot carry are replaced.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from scanner.report import sheetxml, tables
from scanner.report.labels import mode_label
from scanner.report.sheets import Collected, collect
from scanner.results import Run

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEAD_FILL = PatternFill("solid", fgColor="DDE4EE")
_SIGN_FILL = PatternFill("solid", fgColor="FFF8C5")
_THIN = Side(style="thin", color="B0B7C3")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_PERCENT = ("網羅率", "適合率")
_SIGN = ("課長確認", "確認日", "部長承認", "承認日", "対応状況")
_ANSWER_FILL = PatternFill("solid", fgColor="E2F0D9")
_OPEN = Protection(locked=False)
LISTS = "選択肢"  # the hidden sheet that holds the choice lists of the input columns
_UNSAFE_NAME = re.compile(r"[\\/:*?\[\]\x00-\x1f]")


def _text(value: Any) -> Any:
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value


def _heading(run: Run) -> list[tuple[str, str]]:
    """Return the label/value lines that open every sheet: whose run, when, by whom, how complete."""
    env, cov = run.envelope, run.coverage()
    who = " / ".join(p for p in (str(env.get("operator", "")), str(env.get("operator_role", ""))) if p)
    signed = env.get("signature", {})
    return [
        ("団体 municipality", f"{run.municipality.get('name_ja', '')} ({run.profile})"),
        ("実行ID run id", run.run_id),
        ("種別 mode", " ".join(dict.fromkeys(mode_label(run.mode)))),
        ("実施者 operator / role", who),
        ("開始・終了 started / finished", f"{run.started_at} — {run.finished_at}"),
        ("網羅率 coverage", f"{cov['assessed']}/{cov['in_scope']} ホスト hosts ({cov['ratio']:.1%})"),
        (
            "電子署名 signature",
            str(signed.get("fingerprint", "")) if signed.get("signed") else "署名なし unsigned",
        ),
    ]


def _sheet(ws: Worksheet, run: Run, table: tables.Table) -> int:
    """Lay out a sheet but its data rows (written by sheetxml.py); return the header row's number."""
    ws.cell(row=1, column=1, value=_text(table.title)).font = _TITLE
    row = 2
    for label, value in _heading(run):
        ws.cell(row=row, column=1, value=_text(f"{label}: {value}"))  # one cell, spilling right
        row += 1
    head = row + 1
    cell: Any
    ws.row_dimensions[head].height = 30.0  # bilingual headings wrap onto two lines
    for col, name in enumerate(table.headers, start=1):
        cell = ws.cell(row=head, column=col, value=name)
        cell.font, cell.fill, cell.border = _BOLD, _HEAD_FILL, _BOX
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    widths = table.widths or [18] * len(table.headers)
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = f"A{head + 1}"
    last = max(head, head + len(table.rows))
    ws.auto_filter.ref = f"A{head}:{get_column_letter(len(table.headers))}{last}"
    _inputs(ws, table, head)
    _page(ws, run, table)
    ws.print_title_rows = f"{head}:{head}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    return head


def _style(ws: Worksheet, table: tables.Table, col: int, answerable: bool, percent: bool) -> int:
    """Return the style id of a data cell: boxed and wrapped; signature, percent and input columns marked.

    A style is registered the first time a cell in reading order uses it, as openpyxl itself does.
    """
    header = table.headers[col - 1]
    cell = Cell(ws, row=1, column=1)  # detached: only its style is used
    cell.border = _BOX
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    if percent:
        cell.number_format = "0.0%"
    if header.startswith(_SIGN):
        cell.fill = _SIGN_FILL
    if header in table.inputs:
        answer = header in table.answer_columns
        if answerable or not answer:  # a machine verdict takes no answer: the cell stays locked
            cell.protection = _OPEN
            if answer:
                cell.fill = _ANSWER_FILL
    return int(cell.style_id)


def _styler(ws: Worksheet, table: tables.Table) -> Callable[[int, list[Any]], list[int]]:
    """Return the style ids of a row's cells (by column, whether the row takes an answer, percentages)."""
    known: dict[tuple[int, bool, bool], int] = {}
    percent = {i for i, h in enumerate(table.headers, start=1) if h.startswith(_PERCENT)}
    answers = bool(table.answer_columns)

    whole: dict[bool, list[int]] = {}  # with no percentage column, a row's ids depend on its answer only

    def styles(row: int, values: list[Any]) -> list[int]:
        answerable = answers and tables.answerable(str(values[6]))
        if not percent and answerable in whole and len(values) == len(whole[answerable]):
            return whole[answerable]
        out = []
        for col, value in enumerate(values, start=1):
            key = (col, answerable, col in percent and isinstance(value, float))
            if key not in known:
                known[key] = _style(ws, table, *key)
            out.append(known[key])
        if not percent:
            whole[answerable] = out
        return out

    return styles


def _choices(ws: Worksheet, name: str, values: list[str]) -> str:
    """Write a choice list to the hidden lists sheet and return a formula naming its range."""
    wb = ws.parent
    assert wb is not None  # a sheet kijun just made belongs to its workbook
    lists = wb[LISTS] if LISTS in wb.sheetnames else wb.create_sheet(LISTS)
    lists.sheet_state = "hidden"
    col = lists.max_column + 1 if lists.max_row > 1 or lists["A1"].value is not None else 1
    letter = get_column_letter(col)
    lists.cell(row=1, column=col, value=_text(name))
    for i, value in enumerate(values, start=2):
        lists.cell(row=i, column=col, value=_text(value)).data_type = "s"
    return f"'{LISTS}'!${letter}$2:${letter}${len(values) + 1}"


def _inputs(ws: Worksheet, table: tables.Table, head: int) -> None:
    """Open the columns a person fills (with choice lists and date checks), protect the rest, hide keys."""
    if not table.inputs:
        return
    first, last = head + 1, head + max(len(table.rows), 1)
    for name, kind in table.inputs.items():
        col = table.headers.index(name) + 1
        letter = get_column_letter(col)
        if isinstance(kind, list):
            rule = DataValidation(type="list", formula1=_choices(ws, name, kind), allow_blank=True)
            rule.error, rule.errorTitle = "一覧から選んでください / choose from the list", name
        elif kind == "date":
            rule = DataValidation(
                type="date", operator="between", formula1="DATE(2000,1,1)", formula2="DATE(2100,12,31)",
                allow_blank=True,
            )  # fmt: skip
            rule.error, rule.errorTitle = "日付 YYYY-MM-DD を入力してください / enter a date", name
        else:
            rule = None
        if rule is not None:
            rule.showErrorMessage = True
            ws.add_data_validation(rule)
            rule.add(f"{letter}{first}:{letter}{last}")
    for name in table.hidden:
        ws.column_dimensions[get_column_letter(table.headers.index(name) + 1)].hidden = True
    # Computed columns are protected (no password: it prevents slips, not attackers; the signature
    # of `kijun attest` is what makes answers trustworthy). Filtering, sorting and widths stay allowed.
    ws.protection.sheet = True
    ws.protection.autoFilter = False
    ws.protection.sort = False
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


def _page(ws: Worksheet, run: Run, table: tables.Table) -> None:
    """A4 pages with the ward and the sheet in the header, page numbers and the run in the footer."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ward = _text(str(run.municipality.get("name_ja", "")) or run.profile).replace("&", "&&")
    title = _text(table.title).replace("&", "&&")
    for header, footer in ((ws.oddHeader, ws.oddFooter), (ws.evenHeader, ws.evenFooter)):
        if header is None or footer is None:
            continue
        _set(header.left, ward)
        _set(header.right, title)
        _set(footer.center, "&P / &N")
        _set(footer.right, f"run {run.run_id}")


def _set(part: Any, text: str) -> None:
    if part is not None:
        part.text = text


def write_book(run: Run, sheets: list[tuple[str, tables.Table]], handle: IO[bytes]) -> None:
    """Write an .xlsx of named sheets, each a heading block and one table, into a binary file.

    openpyxl lays out each sheet but its data rows; sheetxml.py streams the rows into a temporary
    file (registering their styles with the workbook) and then into the sheet's XML in the zip.
    """
    wb = Workbook()
    with tempfile.TemporaryDirectory(prefix="kijun-xlsx-") as tmp:
        parts: list[tuple[Worksheet, sheetxml.Part]] = []
        for i, (name, table) in enumerate(sheets):
            ws = wb.worksheets[0] if i == 0 else wb.create_sheet()
            ws.title = _UNSAFE_NAME.sub("_", name)[:31]
            head = _sheet(ws, run, table)
            sheetxml.register(ws)  # the heading's and header's styles first, as openpyxl would
            part = sheetxml.Part(Path(tmp) / f"{i}.xml", head, len(table.headers))
            part.write(table.rows, table.widths or [18] * len(table.headers), _styler(ws, table), _text)
            parts.append((ws, part))
        if LISTS in wb.sheetnames:  # the hidden choice lists go last, after the sheets people read
            wb.move_sheet(LISTS, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index(LISTS))
        skeleton = io.BytesIO()
        wb.save(skeleton)
        names = {i: part for i, ws in enumerate(wb.worksheets) for held, part in parts if held is ws}
        sheetxml.assemble(skeleton, {f"xl/worksheets/sheet{i + 1}.xml": p for i, p in names.items()}, handle)


def book(run: Run, sheets: list[tuple[str, tables.Table]]) -> bytes:
    """Return an .xlsx of named sheets, each a heading block and one table."""
    buffer = io.BytesIO()
    write_book(run, sheets, buffer)
    return buffer.getvalue()


def _scales(scales: tables.Scales) -> tables.Table:
    rows: list[list[Any]] = [["発生可能性 likelihood", k, v, ""] for k, v in scales.likelihood_levels.items()]
    rows += [["影響度 impact", k, v, ""] for k, v in scales.impact_levels.items()]
    rows += [
        ["発生可能性(ゾーン別) likelihood by zone", z, n, ""] for z, n in scales.likelihood_by_zone.items()
    ]
    rows += [
        ["影響度(格付別) impact by classification", c, n, ""]
        for c, n in scales.impact_by_classification.items()
    ]
    rows += [["影響度(重要度別) impact by severity", s, n, ""] for s, n in scales.impact_by_severity.items()]
    rows += [
        ["対応期限 due days", s, n, "発見日からの日数 days from open since"]
        for s, n in scales.due_days.items()
    ]
    return tables.Table(
        "リスク評価の尺度 risk scales",
        ["尺度 scale", "値 key", "水準 level", "備考 note"],
        rows,
        [40, 16, 10, 36],
    )


def safe_name(owner: str) -> str:
    """Return a file name for an owner 課 (path separators and control characters replaced)."""
    return _UNSAFE_NAME.sub("_", owner).strip(". ") or "_"


Writer = Callable[[IO[bytes]], None]


def writers(run: Run, done: Collected, scales: tables.Scales = tables.DEFAULT_SCALES) -> dict[str, Writer]:
    """Return the workbooks of a run, by path inside the run folder, each as a function writing it."""
    return {**summary_writers(run, lambda: done, scales), **self_writers(run, done)}


def summary_writers(
    run: Run, done: Callable[[], Collected], scales: tables.Scales = tables.DEFAULT_SCALES
) -> dict[str, Writer]:
    """Return the risk register's and the management review's workbooks (``done()`` asked when written)."""

    def risk(handle: IO[bytes]) -> None:
        sheets = [("リスク登録簿", tables.risk_table(done().risk_rows())), ("尺度", _scales(scales))]
        write_book(run, [*sheets, ("例外措置", tables.waivers(run))], handle)

    def review(handle: IO[bytes]) -> None:
        sheets = [
            ("マネジメントレビュー", tables.review_table(done().review)),
            ("例外措置", tables.waivers(run)),
        ]
        write_book(run, sheets, handle)

    return {"workbooks/risk-register.xlsx": risk, "workbooks/management-review.xlsx": review}


def _writer(run: Run, sheets: list[tuple[str, tables.Table]]) -> Writer:
    return lambda handle: write_book(run, sheets, handle)


def self_writers(run: Run, done: Collected) -> dict[str, Writer]:
    """Return the 自己点検 workbook of each owner 課 (from ``done``'s rows), in the order of the 課."""
    waivers, inputs = tables.waivers(run), tables.self_inputs(run)
    out: dict[str, Writer] = {}
    for owner in done.self_rows.groups():
        path = f"workbooks/self-inspection/{safe_name(owner)}.xlsx"
        while path in out:  # two 課 names that differ only in replaced characters
            path = path.removesuffix(".xlsx") + "_.xlsx"
        table = tables.self_table(owner, done.self_rows.rows(owner), inputs)
        out[path] = _writer(run, [("自己点検", table), ("例外措置", waivers)])
    return out


def render(run: Run, scales: tables.Scales = tables.DEFAULT_SCALES) -> dict[str, bytes]:
    """Return the workbooks of a run, by path inside the run folder (in memory: small runs, tests).

    >>> sorted(render(run))[0]  # doctest: +SKIP
    'workbooks/management-review.xlsx'
    """
    done = collect(run, scales)
    try:
        out = {}
        for rel, write in writers(run, done, scales).items():
            buffer = io.BytesIO()
            write(buffer)
            out[rel] = buffer.getvalue()
        return out
    finally:
        done.close()
