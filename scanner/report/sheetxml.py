"""Stream a worksheet's data rows as SpreadsheetML, the way openpyxl writes them, with bounded memory.

openpyxl keeps every cell of a sheet as an object and looks its style up per assignment, which
took minutes for a 1,000-host run. xlsx.py lets openpyxl lay out all but the data rows (heading,
header, widths, validations, protection, pages); this module writes the rows one at a time into a
temporary file with the style ids the workbook registers for them, then splices them into the
sheet's XML while copying openpyxl's zip. The rows are written exactly as openpyxl writes them
(inline strings, the same attributes), so a workbook reads the same either way.
"""

from __future__ import annotations

import functools
import re
import shutil
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

_WIDE = re.compile("[\u2e80-\U0010ffff]")  # CJK glyphs and beyond: two columns wide
_DIMENSION = re.compile(rb'<dimension ref="[^"]*" />')
_END = b"</sheetData>"


def height(values: list[Any], widths: list[int]) -> float:
    """Return a row height that shows wrapped text (spreadsheets do not grow rows written by openpyxl)."""
    lines = 1
    for value, width in zip(values, widths, strict=False):
        columns, breaks = _columns(value if isinstance(value, str) else str(value))
        lines = max(lines, -(-columns // max(width - 1, 1)) + breaks)
    return 15.0 * min(lines, 12)


@functools.lru_cache(maxsize=8192)  # titles, remediation, systems and zones repeat on every row
def _columns(text: str) -> tuple[int, int]:
    """Return the columns a text takes (CJK glyphs are two columns wide) and its line breaks."""
    if text.isascii():
        return len(text), text.count("\n")
    return len(text) + len(_WIDE.findall(text)), text.count("\n")


def register(ws: Worksheet) -> None:
    """Register the styles of the cells openpyxl will write (heading, header) before the data rows'."""
    for _place, cell in sorted(ws._cells.items()):
        if cell.has_style:
            _ = cell.style_id


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(ref: str, style: int, value: Any) -> str:
    """Return one cell as openpyxl's etree writer gives it (strings inline)."""
    if isinstance(value, str):
        return f'<c r="{ref}" s="{style}" t="inlineStr"{_inline(value)}'
    if value is None:
        return f'<c r="{ref}" s="{style}" t="n" />'
    kind = "b" if isinstance(value, bool) else "n"
    if isinstance(value, int | float):
        return f'<c r="{ref}" s="{style}" t="{kind}"><v>{value:.16g}</v></c>'
    return _cell(ref, style, str(value))


@functools.lru_cache(maxsize=8192)
def _inline(value: str) -> str:
    """Return the end of a string cell: its inline text, escaped as ElementTree escapes it."""
    value = value[:32767]  # what openpyxl keeps of a longer string
    if not value:
        return " />"
    stripped = value.strip()
    space = ' xml:space="preserve"' if stripped and stripped != value else ""
    return f"><is><t{space}>{_escape(value)}</t></is></c>"


@dataclass
class Part:
    """The data rows of one sheet, written to a file: where, below which header row, how many columns."""

    path: Path
    head: int
    columns: int
    count: int = 0

    def write(
        self,
        rows: Iterable[list[Any]],
        widths: list[int],
        styles: Callable[[int, list[Any]], list[int]],
        clean: Callable[[Any], Any],
    ) -> None:
        """Write the rows below the header: each with its height, each cell with its style.

        A string cell's text (cleaned, escaped) and its width are looked up once per distinct
        string: titles, remediation, systems and zones repeat on every row.
        """
        letters = [get_column_letter(c) for c in range(1, self.columns + 1)]
        spans = [max(width - 1, 1) for width in widths]

        @functools.lru_cache(maxsize=8192)
        def text(value: str) -> tuple[str, int, int]:
            cleaned = clean(value)
            tail = _inline(cleaned) if isinstance(cleaned, str) else ""
            return (tail, *_columns(value))

        with self.path.open("w", encoding="utf-8") as out:
            for r, values in enumerate(rows, start=self.head + 1):
                ids = styles(r, values)
                cells, lines = [], 1
                for i, value in enumerate(values):
                    if isinstance(value, str):
                        tail, columns, breaks = text(value)
                        cell = f'<c r="{letters[i]}{r}" s="{ids[i]}" t="inlineStr"{tail}' if tail else ""
                    else:
                        columns, breaks = _columns(str(value))
                        cell = ""
                    cells.append(cell or _cell(f"{letters[i]}{r}", ids[i], clean(value)))
                    if i < len(spans):
                        lines = max(lines, -(-columns // spans[i]) + breaks)
                ht = 15.0 * min(lines, 12)
                out.write(f'<row r="{r}" ht="{ht:.16g}" customHeight="1">{"".join(cells)}</row>')
                self.count += 1

    def splice(self, sheet: bytes, out: IO[bytes]) -> None:
        """Write the sheet's XML with the rows inserted before the end of its data."""
        at = sheet.rindex(_END)
        head = sheet[:at]
        if self.count:
            ref = f'<dimension ref="A1:{get_column_letter(self.columns)}{self.head + self.count}" />'
            head = _DIMENSION.sub(ref.encode(), head, count=1)
        out.write(head)
        with self.path.open("rb") as rows:
            shutil.copyfileobj(rows, out, 1 << 20)
        out.write(sheet[at:])


def assemble(skeleton: IO[bytes], parts: dict[str, Part], handle: IO[bytes]) -> None:
    """Copy openpyxl's zip into ``handle``, the named sheets with their data rows spliced in."""
    skeleton.seek(0)
    with (
        zipfile.ZipFile(skeleton) as src,
        zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            if info.filename not in parts:
                dst.writestr(info, data)
                continue
            entry = zipfile.ZipInfo(info.filename, info.date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(entry, "w", force_zip64=True) as out:
                parts[info.filename].splice(data, out)
