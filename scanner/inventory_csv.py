"""Load an asset register (資産管理台帳, CSV) as an inventory: one host per row, zones and sites from its columns.

A register is UTF-8 (with or without BOM), CP932, or UTF-16 (Excel's "Unicode text", tab-separated).
Its own words for columns, zones, roles and OS go in ``<register>.map.yaml`` (scanner.register_words);
an unknown zone or role is an error, never a new zone. Credentials are refused by header and by value.

The first row names the columns (English or Japanese, see COLUMNS). Authentication methods
declared per terminal (``factors``: ``face;ic_card``) become ``vars.auth`` with the register as
their source, so checks can tell declared factors from observed ones. Errors say ``file:line``.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path
from typing import Any

from scanner import safeio
from scanner.errors import LoadError
from scanner.inputcheck import SECRET_VALUE, is_secret_key
from scanner.inventory import SITE_KINDS, TRANSPORTS, Host, Inventory, Site, Zone, build_host, claim_name
from scanner.register_words import (  # re-exported: facts.declared reads the method vocabulary here
    CATEGORIES,
    COLUMNS,
    METHOD_CATEGORIES,
    ZONE_NAMES,
    Words,
    load_words,
    method,
    normalize,
)
from scanner.yamlsrc import Node

__all__ = ["CATEGORIES", "METHOD_CATEGORIES", "load_csv", "method"]

_SPLIT = re.compile(r"[;,、・+/|]")


def _read(path: Path) -> str:
    """Decode a register: UTF-8 (with or without BOM), UTF-16 (Excel's "Unicode text"), or CP932."""
    data = safeio.read_bytes(path)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)
    elif len(data) > 1 and data[1:2] == b"\0" and data[0:1] != b"\0":
        encodings = ("utf-16-le",)  # UTF-16 without a BOM: ASCII headers with zero high bytes
    else:
        encodings = ("utf-8-sig", "cp932")  # registers saved by Excel on Japanese Windows are cp932
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LoadError(str(path), None, "the register is neither UTF-8, UTF-16 nor Shift_JIS (cp932)")


def _header(row: list[str], path: Path, words: Words) -> dict[int, str]:
    aliases = {normalize(a): col for col, names in COLUMNS.items() for a in names}
    columns: dict[int, str] = {}
    for i, cell in enumerate(row):
        key = normalize(cell)
        if (is_secret_key(key) or key.endswith("pin")) and words.columns.get(key) != "ignore":
            raise LoadError(
                str(path),
                1,
                f"column {cell!r} looks like a credential; a register loaded by kijun never holds credentials "
                "/ 認証情報の列は読み込めません (remove the column, or map it to ignore in the map file)",
            )
        target = words.columns.get(key) or aliases.get(key)
        if target == "ignore" or not cell.strip():
            continue
        columns[i] = target or "register:" + cell.strip()
    missing = [c for c in ("name", "zone", "role") if c not in columns.values()]
    if missing:
        raise LoadError(
            str(path),
            1,
            f"the register needs the column(s) {', '.join(missing)} (Japanese headers such as ホスト名, ゾーン, 役割 "
            "are accepted; map other headers in the map file: columns: {機器名称: name})",
        )
    return columns


def _labels(text: str) -> dict[str, str]:
    pairs = (part.partition("=") for part in re.split(r"[;,]", text) if part.strip())
    return {k.strip(): (v.strip() if sep else "true") for k, sep, v in pairs}


def _entry(cells: dict[str, str], path: Path, line: int, words: Words) -> dict[str, Any]:
    """Turn one row into the mapping an inventory host entry would be."""
    entry: dict[str, Any] = {
        k: v for k, v in cells.items() if k in COLUMNS and k not in ("labels", "factors", "site_kind")
    }
    try:
        entry["zone"] = words.zone(entry["zone"])
        entry["role"] = words.role(entry["role"])
        if "os" in entry:
            entry["os"] = words.os_of(entry["os"])
    except ValueError as exc:
        raise LoadError(str(path), line, f"host {entry['name']}: {exc}") from None
    if entry.get("transport", "ssh") not in TRANSPORTS:
        raise LoadError(
            str(path),
            line,
            f"host {entry['name']}: unknown transport {entry['transport']!r} (one of {', '.join(TRANSPORTS)})",
        )
    if "snapshot" in entry and "transport" not in entry:
        entry["transport"] = "snapshot"
    if "labels" in cells:
        entry["labels"] = _labels(cells["labels"])
    vars_: dict[str, Any] = {}
    extra = {k.removeprefix("register:"): v for k, v in cells.items() if k.startswith("register:")}
    if extra:
        vars_["register"] = extra
    if "factors" in cells:
        try:
            methods = [method(m) for m in _SPLIT.split(cells["factors"]) if m.strip()]
        except ValueError as exc:
            raise LoadError(str(path), line, f"host {entry['name']}: {exc}") from None
        vars_["auth"] = {"methods": methods, "source": "asset register", "reference": f"{path.name}:{line}"}
    entry["vars"] = vars_
    return entry


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    """Return (line, cells) of every row; a tab in the header means Excel's tab-separated text."""
    text = _read(path)
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text), delimiter="\t" if first.count("\t") > first.count(",") else ",")
    rows: list[tuple[int, list[str]]] = []
    end = 0
    try:
        for row in reader:
            rows.append((end + 1, row))  # the line a row starts on (a quoted cell may span lines)
            end = reader.line_num
    except csv.Error as exc:  # a field over the csv module's limit, a NUL byte, ...
        raise LoadError(str(path), reader.line_num or end + 1, f"CSV: {exc}") from None
    return rows


def _check_secrets(header: list[str], rows: list[tuple[int, list[str]]], path: Path) -> None:
    """Refuse a cell whose value carries a credential (``password=...``, a URL with a password, a hash)."""
    for line, row in rows:
        for i, cell in enumerate(row):
            if SECRET_VALUE.search(cell):
                column = header[i] if i < len(header) else f"column {i + 1}"
                raise LoadError(
                    str(path),
                    line,
                    f"{column}: the value looks like a credential (not shown); a register loaded by kijun "
                    "never holds credentials / 認証情報らしき値があります",
                )


def load_csv(path: Path) -> Inventory:
    """Load an asset register CSV as an inventory, raising LoadError (file:line) on the first problem.

    >>> load_csv(Path("register.csv")).hosts[0].vars["auth"]["methods"]  # doctest: +SKIP
    ['face', 'ic_card']
    """
    words = load_words(path)
    rows = _rows(path)
    if not rows:
        raise LoadError(str(path), None, "the register is empty")
    columns = _header(rows[0][1], path, words)
    _check_secrets(rows[0][1], rows[1:], path)
    entries: list[tuple[int, dict[str, Any]]] = []
    sites: dict[str, Site] = {}
    for line, row in rows[1:]:
        cells = {columns[i]: v.strip() for i, v in enumerate(row) if i in columns and v.strip()}
        if not cells:
            continue
        for required in ("name", "zone", "role"):
            if required not in cells:
                raise LoadError(str(path), line, f"row has no {required}")
        entry = _entry(cells, path, line, words)
        if "site" in entry:
            kind = cells.get("site_kind", "office")
            if kind not in SITE_KINDS:
                raise LoadError(str(path), line, f"site kind {kind!r} is not one of {', '.join(SITE_KINDS)}")
            known = sites.setdefault(entry["site"], Site(entry["site"], kind))
            if "site_kind" in cells and known.kind != kind:
                raise LoadError(
                    str(path), line, f"site {entry['site']!r} is of kind {known.kind}, not {kind}"
                )
        entries.append((line, entry))
    zones = {e["zone"]: Zone(e["zone"], *ZONE_NAMES[e["zone"]]) for _, e in entries}
    hosts: list[Host] = []
    seen: dict[str, int] = {}
    for line, entry in entries:
        claim_name(seen, entry["name"], str(path), line)
        node = Node(entry)
        node.line, node.key_lines = line, {}
        hosts.append(build_host(entry, path, path.parent, zones, sites, line, node))
    waivers = path.parent / "waivers"
    return Inventory(
        path=path,
        name=path.stem,
        zones=zones,
        sites=sites,
        hosts=tuple(hosts),
        waivers_dir=waivers if waivers.is_dir() else None,
        base_dir=path.parent,
    )
