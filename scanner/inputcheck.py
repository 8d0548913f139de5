"""Checks every inventory format shares: names that become file names, and credentials by key or value.

A host name names ``evidence/<host>.json`` and ``<host>.json`` in a collect folder, and an owner
課 names a self-inspection workbook, so each is refused at load when it could not be a plain file
name on every system kijun writes to. Inventories never hold credentials: a key that reads like
one, or a value that looks like a password assignment, a URL with a password, or a password hash,
is refused wherever it is nested.
"""

from __future__ import annotations

import re
from typing import Any

MAX_NAME_BYTES = 200  # file names are at most 255 bytes; room for ".json", ".xlsx" and temporary suffixes
# Names kijun itself uses beside host files (collect.json, ...).
RESERVED = frozenset({"collect", "latest", "manifest", "signature", "envelope", "results"})
# Names Windows cannot create with any extension (a bundle may be copied there).
WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"{dev}{n}" for dev in ("com", "lpt") for n in range(1, 10)}
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# A key that would hold a credential itself (``password_env``, the name of a variable, is fine).
SECRET_KEY = re.compile(
    r"pass(word|wd|phrase)?|pw$|secret|token|private_?key|api_?key|credential|パスワード|暗証番号",
    re.IGNORECASE,
)
# A key about a credential, not holding one: パスワード有効期限, password_expiry, 認証方式, ...
ABOUT_SECRET = re.compile(
    r"期限|期日|日付|変更|更新|有効|ポリシー|方式|要素|桁|長さ|expir|date|policy|_age|method|length|hint|_env$",
    re.IGNORECASE,
)
# A value that carries one: ``password=...``, ``pw: ...``, ``https://user:pw@host``, a crypt(3) hash.
SECRET_VALUE = re.compile(
    r"(?<![a-z])(pass(word|wd)?|pwd?|パスワード|暗証番号)\s*[:=：]\s*\S"
    r"|://[^/\s:@]+:[^/\s@]+@"
    r"|^\$(1|2[abxy]?|5|6|7|y|gy)\$\S{8,}",
    re.IGNORECASE,
)


def name_problem(name: str, what: str = "host name") -> str:
    """Return why a name cannot become a file name ("" when it can).

    >>> name_problem("../etc"), name_problem("web01")
    ("host name '../etc' contains '/' (it names a file)", '')
    """
    for char in ("/", "\\"):
        if char in name:
            return f"{what} {name!r} contains {char!r} (it names a file)"
    if not name.strip():
        return f"{what} is empty"
    if _CONTROL.search(name):
        return f"{what} {name!r} contains a control character"
    if name.startswith("."):
        return f"{what} {name!r} starts with '.' (a hidden file, or '.'/'..')"
    if name.strip() != name:
        return f"{what} {name!r} starts or ends with a space"
    if name.lower() in RESERVED or name.lower().split(".")[0] in WINDOWS_DEVICES:
        return f"{what} {name!r} is reserved (kijun or Windows uses that file name)"
    size = len(name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        return f"{what} is {size} bytes in UTF-8; at most {MAX_NAME_BYTES} (it names a file)"
    return ""


def text_problem(text: str, what: str) -> str:
    """Return why a label or owner text is refused: control characters or over MAX_NAME_BYTES bytes."""
    if _CONTROL.search(text):
        return f"{what} {text[:40]!r} contains a control character"
    size = len(text.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        return f"{what} is {size} bytes in UTF-8; at most {MAX_NAME_BYTES} (it can name a file)"
    return ""


def is_secret_key(key: str) -> bool:
    """Tell whether a key or column header names a credential itself (not a rule about one)."""
    return bool(SECRET_KEY.search(key)) and not ABOUT_SECRET.search(key)


def secret_in(value: Any, where: str = "vars") -> str:
    """Return the dotted place of the first credential nested in a value ("" when none).

    >>> secret_in({"db": [{"admin_password": "x"}]})
    'vars.db[0].admin_password'
    """
    if isinstance(value, dict):
        for key, sub in value.items():
            place = f"{where}.{key}"
            if is_secret_key(str(key)):
                return place
            if found := secret_in(sub, place):
                return found
    elif isinstance(value, list | tuple):
        for i, sub in enumerate(value):
            if found := secret_in(sub, f"{where}[{i}]"):
                return found
    elif isinstance(value, str) and SECRET_VALUE.search(value):
        return where
    return ""


def host_problem(name: str, owner: str, labels: dict[str, str], vars_: Any) -> tuple[str, str]:
    """Return (the host key at fault, why) for a host every inventory format builds; ("", "") when fine."""
    if problem := name_problem(name):
        return "name", problem
    if problem := text_problem(owner, f"host {name}: owner"):
        return "owner", problem
    for key, value in labels.items():
        if problem := text_problem(key, f"host {name}: label") or text_problem(
            value, f"host {name}: label {key}"
        ):
            return "labels", problem
    if place := secret_in(vars_ or {}):
        return "vars", (
            f"host {name}: {place} looks like a credential; inventories never hold credentials "
            "(use SSH keys, the agent, or the name of an environment variable: <key>_env) / "
            "インベントリに認証情報は書けません"
        )
    return "", ""
