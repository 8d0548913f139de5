"""Own the Excel workbooks: a 自己点検票 per owner 課, the リスク登録簿, and the management review.

The tables come from report/csv.py; this module only lays them out (a heading block naming the
run, a frozen and filterable header row, widths, percentages). Host-supplied text is written as
text, never as a formula, and characters that XML cannot carry are replaced.
"""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from scanner.report import csv as tables
from scanner.report.labels import mode_label
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


def _height(values: list[Any], widths: list[int]) -> float:
    """Return a row height that shows wrapped text (spreadsheets do not grow rows written by openpyxl)."""
    lines = 1
    for value, width in zip(values, widths, strict=False):
        text = str(value)
        columns = sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)  # CJK glyphs are two columns wide
        lines = max(lines, -(-columns // max(width - 1, 1)) + text.count("\n"))
    return 15.0 * min(lines, 12)


def _sheet(ws: Worksheet, run: Run, table: tables.Table) -> None:
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
    for r, values in enumerate(table.rows, start=head + 1):
        ws.row_dimensions[r].height = _height(values, widths)
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=col)
            cell.value = _text(value)
            if isinstance(value, str):
                cell.data_type = "s"  # host text that starts with "=" stays text, never a formula
            cell.border = _BOX
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            header = table.headers[col - 1]
            if header.startswith(_PERCENT) and isinstance(value, float):
                cell.number_format = "0.0%"
            if header.startswith(_SIGN):
                cell.fill = _SIGN_FILL
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
        answer = name in table.answer_columns
        for i in range(len(table.rows)):
            if answer and i not in table.answer_rows:
                continue  # a machine verdict takes no answer: the cell stays locked
            cell = ws.cell(row=head + 1 + i, column=col)
            cell.protection = _OPEN
            if answer:
                cell.fill = _ANSWER_FILL
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


def book(run: Run, sheets: list[tuple[str, tables.Table]]) -> bytes:
    """Return an .xlsx of named sheets, each a heading block and one table."""
    wb = Workbook()
    for i, (name, table) in enumerate(sheets):
        ws = wb.worksheets[0] if i == 0 else wb.create_sheet()
        ws.title = _UNSAFE_NAME.sub("_", name)[:31]
        _sheet(ws, run, table)
    if LISTS in wb.sheetnames:  # the hidden choice lists go last, after the sheets people read
        wb.move_sheet(LISTS, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index(LISTS))
    buffer = io.BytesIO()
    wb.save(buffer)
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


def render(run: Run, scales: tables.Scales = tables.DEFAULT_SCALES) -> dict[str, bytes]:
    """Return the workbooks of a run, by path inside the run folder.

    >>> sorted(render(run))[0]  # doctest: +SKIP
    'workbooks/management-review.xlsx'
    """
    waivers = tables.waivers(run)
    out = {
        "workbooks/risk-register.xlsx": book(
            run,
            [
                ("リスク登録簿", tables.risk_register(run, scales)),
                ("尺度", _scales(scales)),
                ("例外措置", waivers),
            ],
        ),
        "workbooks/management-review.xlsx": book(
            run, [("マネジメントレビュー", tables.review(run, scales)), ("例外措置", waivers)]
        ),
    }
    for owner, table in tables.self_inspection(run).items():
        path = f"workbooks/self-inspection/{safe_name(owner)}.xlsx"
        while path in out:  # two 課 names that differ only in replaced characters
            path = path.removesuffix(".xlsx") + "_.xlsx"
        out[path] = book(run, [("自己点検", table), ("例外措置", waivers)])
    return out
