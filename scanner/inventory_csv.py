"""Load an asset register (資産管理台帳, CSV) as an inventory: one host per row, zones and sites from its columns.

The first row names the columns (English or Japanese, see COLUMNS). Authentication methods
declared per terminal (``factors``: ``face;ic_card``) become ``vars.auth`` with the register as
their source, so checks can tell declared factors from observed ones. Errors say ``file:line``.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path
from typing import Any

from scanner.errors import LoadError
from scanner.inventory import ROLES, SITE_KINDS, TRANSPORTS, Host, Inventory, Site, Zone, _host
from scanner.yamlsrc import Node

# Canonical column -> header names accepted for it (compared after normalize()).
COLUMNS = {
    "name": (
        "name",
        "host",
        "hostname",
        "ホスト名",
        "機器名",
        "コンピュータ名",
        "コンピューター名",
        "端末名",
    ),
    "address": ("address", "ip", "ip_address", "ipアドレス"),
    "zone": ("zone", "ゾーン", "ネットワーク区分"),
    "role": ("role", "役割", "種別"),
    "site": ("site", "設置場所", "拠点"),
    "site_kind": ("site_kind", "拠点種別"),
    "owner": ("owner", "所管課", "管理課", "担当課"),
    "classification": ("classification", "機密性", "分類"),
    "os": ("os",),
    "transport": ("transport", "収集方法"),
    "snapshot": ("snapshot", "スナップショット"),
    "system": ("system", "システム", "業務システム"),
    "labels": ("labels", "ラベル"),
    "factors": ("factors", "auth_methods", "認証要素", "認証方式"),
}
ZONE_NAMES = {
    "mynumber": ("マイナンバー利用事務系", "My Number zone"),
    "lgwan": ("LGWAN接続系", "LGWAN zone"),
    "internet": ("インターネット接続系", "Internet zone"),
    "mgmt": ("管理系", "Management zone"),
    "dc": ("外部データセンター", "External data center"),
}
ROLE_ALIASES = {
    "端末": "terminal",
    "サーバ": "server",
    "サーバー": "server",
    "ネットワーク機器": "network_device",
}
OS_NAMES = ("linux", "windows", "network")
CATEGORIES = ("knowledge", "possession", "inherence")
# Authentication methods and the factor category each belongs to (a category name stands for itself).
METHOD_CATEGORIES = {
    "password": "knowledge", "pin": "knowledge", "passphrase": "knowledge",
    "ic_card": "possession", "smart_card": "possession", "smartcard": "possession", "security_key": "possession",
    "fido": "possession", "otp": "possession", "token": "possession",
    "face": "inherence", "fingerprint": "inherence", "finger_vein": "inherence", "palm_vein": "inherence",
    "vein": "inherence", "iris": "inherence",
    **{c: c for c in CATEGORIES},
}  # fmt: skip
METHOD_ALIASES = {
    "パスワード": "password", "暗証番号": "pin", "icカード": "ic_card", "職員証": "ic_card", "顔": "face",
    "顔認証": "face", "指静脈": "finger_vein", "指静脈認証": "finger_vein", "手のひら静脈": "palm_vein",
    "手のひら静脈認証": "palm_vein", "静脈認証": "vein", "指紋": "fingerprint", "指紋認証": "fingerprint",
    "虹彩": "iris", "ワンタイムパスワード": "otp",
}  # fmt: skip
_SPLIT = re.compile(r"[;,、・+/|]")
# A column that would hold a credential itself (an expiry date column such as パスワード有効期限 is fine).
_SECRET = re.compile(r"(初期)?(password|passwd|パスワード|暗証番号|pin|secret|token|credential)s?")


def normalize(text: str) -> str:
    """Return a header or value in one form: NFKC (full-width to ASCII), lower case, '_' for spaces and '-'."""
    return re.sub(r"[\s\-]+", "_", unicodedata.normalize("NFKC", text).strip().lower())


def method(name: str) -> str:
    """Return the canonical name of a declared authentication method, raising ValueError when unknown.

    >>> method("ＩＣカード"), method("Face")
    ('ic_card', 'face')
    """
    key = normalize(name)
    key = METHOD_ALIASES.get(key, key)
    if key not in METHOD_CATEGORIES:
        known = ", ".join(sorted(METHOD_CATEGORIES))
        raise ValueError(
            f"unknown authentication method {name!r} (known: {known}, or Japanese names such as 顔認証, ICカード)"
        )
    return key


def _read(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Registers saved by Excel on Japanese Windows are Shift_JIS (cp932).
        try:
            return data.decode("cp932")
        except UnicodeDecodeError:
            raise LoadError(str(path), None, "the register is neither UTF-8 nor Shift_JIS (cp932)") from None


def _header(row: list[str], path: Path) -> dict[int, str]:
    aliases = {normalize(a): col for col, names in COLUMNS.items() for a in names}
    columns: dict[int, str] = {}
    for i, cell in enumerate(row):
        if _SECRET.fullmatch(normalize(cell)):
            raise LoadError(
                str(path),
                1,
                f"column {cell!r} looks like a credential; a register loaded by kijun never holds credentials",
            )
        if cell.strip():
            columns[i] = aliases.get(normalize(cell), "register:" + cell.strip())
    missing = [c for c in ("name", "zone", "role") if c not in columns.values()]
    if missing:
        raise LoadError(
            str(path),
            1,
            f"the register needs the column(s) {', '.join(missing)} (Japanese headers such as ホスト名, ゾーン, 役割 are accepted)",
        )
    return columns


def _labels(text: str) -> dict[str, str]:
    pairs = (part.partition("=") for part in re.split(r"[;,]", text) if part.strip())
    return {k.strip(): (v.strip() if sep else "true") for k, sep, v in pairs}


def _entry(cells: dict[str, str], path: Path, line: int) -> dict[str, Any]:
    """Turn one row into the mapping an inventory host entry would be."""
    entry: dict[str, Any] = {
        k: v for k, v in cells.items() if k in COLUMNS and k not in ("labels", "factors", "site_kind")
    }
    zone = normalize(entry["zone"])
    entry["zone"] = next((z for z, (ja, _) in ZONE_NAMES.items() if normalize(ja) == zone), zone)
    entry["role"] = ROLE_ALIASES.get(entry["role"].strip(), normalize(entry["role"]))
    if "os" in entry:
        entry["os"] = normalize(entry["os"])
        if entry["os"] not in OS_NAMES:
            raise LoadError(
                str(path),
                line,
                f"host {entry['name']}: os {entry['os']!r} is not one of {', '.join(OS_NAMES)}",
            )
    if entry.get("transport", "ssh") not in TRANSPORTS:
        raise LoadError(
            str(path),
            line,
            f"host {entry['name']}: unknown transport {entry['transport']!r} (one of {', '.join(TRANSPORTS)})",
        )
    if "snapshot" in entry and "transport" not in entry:
        entry["transport"] = "snapshot"
    if entry["role"] not in ROLES:
        raise LoadError(
            str(path),
            line,
            f"host {entry['name']}: unknown role {cells['role']!r} (one of {', '.join(ROLES)})",
        )
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


def load_csv(path: Path) -> Inventory:
    """Load an asset register CSV as an inventory, raising LoadError (file:line) on the first problem.

    >>> load_csv(Path("register.csv")).hosts[0].vars["auth"]["methods"]  # doctest: +SKIP
    ['face', 'ic_card']
    """
    if not path.is_file():
        raise LoadError(str(path), None, "no such register")
    reader = csv.reader(io.StringIO(_read(path)))
    rows: list[tuple[int, list[str]]] = []
    end = 0
    for row in reader:
        rows.append((end + 1, row))  # the line a row starts on (a quoted cell may span lines)
        end = reader.line_num
    if not rows:
        raise LoadError(str(path), None, "the register is empty")
    columns = _header(rows[0][1], path)
    entries: list[tuple[int, dict[str, Any]]] = []
    sites: dict[str, Site] = {}
    for line, row in rows[1:]:
        cells = {columns[i]: v.strip() for i, v in enumerate(row) if i in columns and v.strip()}
        if not cells:
            continue
        for required in ("name", "zone", "role"):
            if required not in cells:
                raise LoadError(str(path), line, f"row has no {required}")
        entry = _entry(cells, path, line)
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
    zones = {
        e["zone"]: Zone(e["zone"], *ZONE_NAMES.get(e["zone"], (e["zone"], e["zone"]))) for _, e in entries
    }
    hosts: list[Host] = []
    seen: dict[str, int] = {}
    for line, entry in entries:
        if entry["name"] in seen:
            raise LoadError(
                str(path),
                line,
                f"duplicate host name {entry['name']!r} (first at line {seen[entry['name']]})",
            )
        seen[entry["name"]] = line
        node = Node(entry)
        node.line, node.key_lines = line, {}
        hosts.append(_host(entry, path, path.parent, zones, sites, line, node))
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
