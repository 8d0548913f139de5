"""The words of a 資産管理台帳 (asset register) and their kijun meaning: columns, zones, roles, OS, methods.

A register speaks its own language (``基幹系``, ``クライアントPC``, ``Red Hat Enterprise Linux 8``).
kijun knows the official names and common words; a register's own words go in a map file beside
it, ``<register>.map.yaml`` (see docs/inventories.md). A word neither knows is an error at load
(and so at ``kijun lint``), never a new zone or a silent not_applicable.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from scanner.errors import LoadError
from scanner.inventory import ROLES
from scanner.yamlsrc import Node, load_yaml

# Canonical column -> header names accepted for it (compared after normalize()).
COLUMNS = {
    "name": ("name", "host", "hostname", "ホスト名", "機器名", "コンピュータ名", "コンピューター名", "端末名"),
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
}  # fmt: skip
ZONE_NAMES = {
    "mynumber": ("マイナンバー利用事務系", "My Number zone"),
    "lgwan": ("LGWAN接続系", "LGWAN zone"),
    "internet": ("インターネット接続系", "Internet zone"),
    "mgmt": ("管理系", "Management zone"),
    "dc": ("外部データセンター", "External data center"),
}
ROLE_WORDS = {
    "端末": "terminal", "クライアントpc": "terminal", "クライアント": "terminal", "pc": "terminal",
    "パソコン": "terminal", "業務端末": "terminal", "ノートpc": "terminal", "デスクトップpc": "terminal",
    "シンクライアント": "terminal", "サーバ": "server", "サーバー": "server", "ネットワーク機器": "network_device",
    "ルータ": "network_device", "ルーター": "network_device", "スイッチ": "network_device",
    "ファイアウォール": "network_device", "ログサーバ": "log_server", "ログサーバー": "log_server",
    "バックアップサーバ": "backup_storage", "バックアップサーバー": "backup_storage", "踏み台": "bastion",
    "踏み台サーバ": "bastion", "踏み台サーバー": "bastion", "プロキシ": "proxy", "プロキシサーバ": "proxy",
    "プロキシサーバー": "proxy",
}  # fmt: skip
OS_NAMES = ("linux", "windows", "network")
# Product names, matched as words in the normalized cell: "red_hat_enterprise_linux_8" -> linux.
_OS_WORDS = (
    ("windows", re.compile(r"windows|win(7|8|10|11)\b")),
    ("linux", re.compile(r"linux|red_?hat|rhel|ubuntu|debian|centos|rocky|alma|suse|fedora")),
    ("network", re.compile(r"\bios\b|ios_xe|nx_os|junos|fortios|fortigate|pan_os|yamaha|rtx|cisco|apresia")),
)
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


@dataclass(frozen=True)
class Words:
    """A register's own words (from its map file) on top of kijun's: normalized word -> kijun word."""

    columns: dict[str, str] = field(default_factory=dict)
    zones: dict[str, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    os: dict[str, str] = field(default_factory=dict)
    file: str = ""

    def zone(self, text: str) -> str:
        """Return the kijun zone of a cell, raising ValueError for a word neither kijun nor the map knows."""
        key = normalize(text)
        if key in self.zones:
            return self.zones[key]
        for zone, (ja, en) in ZONE_NAMES.items():
            if key in (zone, normalize(ja), normalize(en)):
                return zone
        known = ", ".join(f"{z} ({ja})" for z, (ja, _) in ZONE_NAMES.items())
        raise ValueError(f"zone {text!r} is not a kijun zone ({known}); {self._hint('zones', text)}")

    def role(self, text: str) -> str:
        """Return the kijun role of a cell, raising ValueError when unknown."""
        key = normalize(text)
        found = self.roles.get(key) or ROLE_WORDS.get(key) or (key if key in ROLES else "")
        if not found:
            raise ValueError(
                f"unknown role {text!r} (one of {', '.join(ROLES)}); {self._hint('roles', text)}"
            )
        return found

    def os_of(self, text: str) -> str:
        """Return linux, windows or network for an OS cell (product names are recognised)."""
        key = normalize(text)
        if key in self.os:
            return self.os[key]
        if key in OS_NAMES:
            return key
        for name, pattern in _OS_WORDS:
            if pattern.search(key):
                return name
        raise ValueError(f"os {text!r} is not linux, windows or network; {self._hint('os', text)}")

    def _hint(self, section: str, text: str) -> str:
        where = self.file or "<register>.map.yaml beside the register"
        return f"map the register's word in {where}: {section}: {{{text}: ...}}"


_TARGETS = {
    "columns": (*COLUMNS, "ignore"),
    "zones": tuple(ZONE_NAMES),
    "roles": ROLES,
    "os": OS_NAMES,
}


def map_file(register: Path) -> Path | None:
    """Return the map file of a register (``<stem>.map.yaml`` beside it), or None."""
    for suffix in (".map.yaml", ".map.yml"):
        candidate = register.with_name(register.stem + suffix)
        if candidate.exists():
            return candidate
    return None


def load_words(register: Path) -> Words:
    """Load a register's map file (``columns``, ``zones``, ``roles``, ``os``: word -> kijun word)."""
    path = map_file(register)
    if path is None:
        return Words()
    doc = load_yaml(path)
    if not isinstance(doc, Node):
        raise LoadError(str(path), None, "a map file is a mapping of columns, zones, roles and os")
    sections: dict[str, dict[str, str]] = {}
    for section, value in doc.items():
        if section not in _TARGETS:
            raise LoadError(
                str(path), doc.line_of(section), f"unknown section {section!r} ({', '.join(_TARGETS)})"
            )
        if not isinstance(value, Node) or not value:
            raise LoadError(str(path), doc.line_of(section), f"{section}: a mapping of word: kijun word")
        for word, target in value.items():
            if str(target) not in _TARGETS[section]:
                raise LoadError(
                    str(path),
                    value.line_of(word),
                    f"{section}: {word!r} maps to {target!r}, not one of {', '.join(_TARGETS[section])}",
                )
        sections[section] = {normalize(str(k)): str(v) for k, v in value.items()}
    return Words(**sections, file=str(path))
