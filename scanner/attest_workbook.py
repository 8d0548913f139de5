"""Read a filled-in 自己点検票 back: one attestation per answered row, or ``file:cell: what is wrong``.

The workbook is the one kijun wrote (report/xlsx.py): a heading block, a header row that starts
with ``ホスト host``, a hidden key column (host/control) and the answer columns a person fills.
Rows are found by their headers, not their positions, so a sheet that was sorted, filtered or
re-saved by Excel or LibreOffice reads the same. Dates may be real dates or ``YYYY-MM-DD`` text.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from scanner.attest import MAX_VALID_DAYS, Attestation, check_dates, read_regular
from scanner.errors import LoadError, LoadErrors
from scanner.report.csv import ANSWER, ANSWERS, KEY, answerable

MAX_WORKBOOK_BYTES = 32 * 1024 * 1024
MAX_UNZIPPED_BYTES = 256 * 1024 * 1024  # a zip bomb stops here, before openpyxl inflates it
_HEAD = "ホスト host"
_FIELDS = {
    "answer": ANSWER,
    "by": "回答者 attested by",
    "role": "役職 role",
    "on": "回答日 attested on",
    "until": "有効期限 valid until",
    "status": "状態 status",
    "key": KEY,
}


def _answer(value: str) -> str:
    text = value.strip()
    for label, answer in ANSWERS.items():
        if text in (label, answer, label.split()[0], answer.replace("_", " ")):
            return answer
    return ""


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def _cell(col: int, row: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(col)}{row}"


def _rows(ws: Any) -> tuple[int, dict[str, int], list[tuple[int, tuple[Any, ...]]]]:
    """Return the header row number, column index by field, and the data rows with their numbers."""
    rows = list(ws.iter_rows(values_only=True))
    head = next((i for i, r in enumerate(rows) if r and r[0] == _HEAD), None)
    if head is None:
        return 0, {}, []
    names = [str(h) if h is not None else "" for h in rows[head]]
    cols = {field: names.index(header) for field, header in _FIELDS.items() if header in names}
    return head + 1, cols, [(head + 2 + i, r) for i, r in enumerate(rows[head + 1 :])]


def read(path: Path, today: date) -> tuple[list[Attestation], dict[str, str]]:
    """Return the attestations of a filled-in 自己点検票 and where they came from."""
    data = read_regular(path, MAX_WORKBOOK_BYTES)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_UNZIPPED_BYTES:
                raise LoadError(str(path), 0, "inflates past the workbook size limit")
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except LoadError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on a file that is not a workbook
        raise LoadError(str(path), 0, f"not an .xlsx workbook ({type(exc).__name__})") from None
    found: list[Attestation] = []
    errors: list[LoadError] = []
    sheets = 0
    for ws in wb.worksheets:
        head, cols, rows = _rows(ws)
        if not head:
            continue
        missing = [h for f, h in _FIELDS.items() if f not in cols]
        if missing:
            errors.append(LoadError(f"{path}:{ws.title}", head, f"columns missing: {', '.join(missing)}"))
            continue
        sheets += 1
        for number, row in rows:
            item = _one(path, ws.title, number, row, cols, today, errors)
            if item is not None:
                found.append(item)
    wb.close()
    if not sheets and not errors:
        errors.append(LoadError(str(path), 0, f"no 自己点検票 sheet (a header row starting {_HEAD!r})"))
    if errors:
        raise LoadErrors(errors)
    digest = hashlib.sha256(data).hexdigest()
    return found, {"file": path.name, "sha256": digest, "read_on": today.isoformat()}


def _one(
    path: Path, sheet: str, number: int, row: tuple[Any, ...], cols: dict[str, int], today: date,
    errors: list[LoadError],
) -> Attestation | None:  # fmt: skip
    def value(name: str) -> Any:
        i = cols[name]
        return row[i] if i < len(row) else None

    raw_answer = value("answer")
    if raw_answer in (None, ""):
        return None
    where = f"{path}:{sheet}!{_cell(cols['answer'] + 1, number)}"

    def bad(message: str) -> None:
        errors.append(LoadError(where, None, message))

    answer = _answer(str(raw_answer))
    key = str(value("key") or "")
    by, role = str(value("by") or "").strip(), str(value("role") or "").strip()
    on, until = _date(value("on")), _date(value("until"))
    if not answer:
        bad(f"回答は一覧から / answer must be one of {', '.join(ANSWERS)}")
    elif key.count("/") != 1:
        bad("キー列が壊れています / the hidden key column (host/control) is missing or edited")
    elif not answerable(str(value("status") or "")):
        bad("回答できるのは要確認(manual)の項目だけです / only manual controls take an answer")
    elif not by or not role:
        bad("回答者と役職が必要です / an answer needs who (attested by) and their role")
    elif on is None or until is None:
        bad(
            f"回答日と有効期限(最長{MAX_VALID_DAYS}日)が必要です / attested on and valid until are required dates"
        )
    elif problem := check_dates(on, until, today):
        bad(problem)
    else:
        return Attestation(key, answer, by, role, on, until, source=path.name)
    return None
