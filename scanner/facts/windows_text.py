"""Parsers of the Windows text outputs (secedit export, auditpol /r, w32tm), English and Japanese alike."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from typing import Any

GUID = re.compile(r"\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}")


def secedit_sections(text: str) -> dict[str, dict[str, str]]:
    """Split a ``secedit /export`` INF into {section: {key: value}} (keys as written)."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        stripped = line.strip().lstrip("\ufeff")
        if not stripped or stripped.startswith(";"):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = sections.setdefault(stripped[1:-1].strip(), {})
            continue
        key, sep, value = stripped.partition("=")
        if current is None or not sep:
            raise ValueError(f"secedit export: unexpected line {stripped!r}")
        current[key.strip()] = value.strip()
    return sections


def _int_setting(access: dict[str, str], key: str) -> int:
    if key not in access:
        raise ValueError(f"secedit export: [System Access] has no {key}")
    try:
        return int(access[key])
    except ValueError:
        raise ValueError(f"secedit export: {key} = {access[key]!r} is not a number") from None


def password_policy(text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (password, accounts) facts from the [System Access] section of a secedit export."""
    access = secedit_sections(text).get("System Access")
    if access is None:
        raise ValueError("secedit export has no [System Access] section")
    complexity = _int_setting(access, "PasswordComplexity") == 1
    max_age = _int_setting(access, "MaximumPasswordAge")
    threshold = _int_setting(access, "LockoutBadCount")
    password: dict[str, Any] = {
        "min_length": _int_setting(access, "MinimumPasswordLength"),
        "complexity": complexity,
        # Windows complexity demands three of the character categories (upper, lower, digit, symbol, other).
        "min_classes": 3 if complexity else 0,
        # -1 (and 0) mean "never expires": no age is given, so no age limit can be met by accident.
        "expires": max_age > 0,
        "max_age_days": max_age if max_age > 0 else None,
        "lockout_threshold": threshold,
        "lockout_until_unlocked": False,
        "lockout_duration_seconds": 0,
    }
    if "PasswordHistorySize" in access:
        password["history_size"] = _int_setting(access, "PasswordHistorySize")
    if threshold > 0:
        duration = _int_setting(access, "LockoutDuration")  # minutes; -1: until an administrator unlocks
        password["lockout_until_unlocked"] = duration < 0
        password["lockout_duration_seconds"] = None if duration < 0 else duration * 60
    accounts: dict[str, Any] = {}
    for key, fact in (
        ("EnableAdminAccount", "administrator_enabled"),
        ("EnableGuestAccount", "guest_enabled"),
    ):
        if key in access:
            accounts[fact] = _int_setting(access, key) == 1
    if "NewAdministratorName" in access:
        accounts["administrator_name"] = access["NewAdministratorName"].strip('"')
    return password, accounts


# Audit subcategories by GUID (auditpol prints localized names; the GUID is the same everywhere).
SUBCATEGORIES = {
    "{0CCE9215-69AE-11D9-BED3-505054503030}": "logon",
    "{0CCE9216-69AE-11D9-BED3-505054503030}": "logoff",
    "{0CCE9217-69AE-11D9-BED3-505054503030}": "account_lockout",
    "{0CCE921B-69AE-11D9-BED3-505054503030}": "special_logon",
    "{0CCE921C-69AE-11D9-BED3-505054503030}": "other_logon_logoff_events",
    "{0CCE9249-69AE-11D9-BED3-505054503030}": "group_membership",
    "{0CCE923F-69AE-11D9-BED3-505054503030}": "credential_validation",
    "{0CCE9235-69AE-11D9-BED3-505054503030}": "user_account_management",
    "{0CCE9236-69AE-11D9-BED3-505054503030}": "computer_account_management",
    "{0CCE9237-69AE-11D9-BED3-505054503030}": "security_group_management",
    "{0CCE923A-69AE-11D9-BED3-505054503030}": "other_account_management_events",
    "{0CCE9228-69AE-11D9-BED3-505054503030}": "sensitive_privilege_use",
    "{0CCE9229-69AE-11D9-BED3-505054503030}": "non_sensitive_privilege_use",
    "{0CCE922F-69AE-11D9-BED3-505054503030}": "audit_policy_change",
    "{0CCE9230-69AE-11D9-BED3-505054503030}": "authentication_policy_change",
    "{0CCE9231-69AE-11D9-BED3-505054503030}": "authorization_policy_change",
    "{0CCE9232-69AE-11D9-BED3-505054503030}": "mpssvc_rule_level_policy_change",
    "{0CCE922B-69AE-11D9-BED3-505054503030}": "process_creation",
    "{0CCE9245-69AE-11D9-BED3-505054503030}": "removable_storage",
    "{0CCE9210-69AE-11D9-BED3-505054503030}": "security_state_change",
    "{0CCE9211-69AE-11D9-BED3-505054503030}": "security_system_extension",
    "{0CCE9212-69AE-11D9-BED3-505054503030}": "system_integrity",
}
# What each category needs (subcategory, success, failure): the Microsoft security baseline's
# settings for these subcategories, the minimum taisaku-kijun §4.3 LOG-01 asks for.
REQUIRED = {
    "logon": (("logon", True, True), ("special_logon", True, False)),
    "account_mgmt": (("user_account_management", True, True), ("security_group_management", True, False)),
    "privilege_use": (("sensitive_privilege_use", True, True),),
    "policy_change": (("audit_policy_change", True, False), ("authentication_policy_change", True, False)),
}
_SETTINGS = {
    "success and failure": (True, True), "success": (True, False), "failure": (False, True),
    "no auditing": (False, False),
    "成功および失敗": (True, True), "成功": (True, False), "失敗": (False, True), "監査なし": (False, False),
}  # fmt: skip
_SETTING_VALUES = {"0": (False, False), "1": (True, False), "2": (False, True), "3": (True, True)}


def audit_policy(text: str) -> dict[str, Any]:
    """Return ``subcategories`` and ``covers`` from ``auditpol /get /category:* /r`` (CSV, any language)."""
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows or GUID.fullmatch(rows[0][3].strip() if len(rows[0]) > 3 else ""):
        raise ValueError("auditpol /r: no header line")
    subcategories: dict[str, dict[str, Any]] = {}
    for row in rows[1:]:
        if len(row) < 5 or not GUID.fullmatch(row[3].strip()):
            raise ValueError(f"auditpol /r: unexpected line {','.join(row)!r}")
        guid = row[3].strip().upper()
        # A 7th column (Setting Value 0-3, as in auditpol /backup) is language-neutral; prefer it.
        value = row[6].strip() if len(row) > 6 else ""
        setting = _SETTING_VALUES.get(value) or _SETTINGS.get(row[4].strip().lower())
        if setting is None:
            raise ValueError(f"auditpol /r: unknown setting {row[4]!r} for {guid}")
        key = SUBCATEGORIES.get(guid, guid)
        subcategories[key] = {
            "guid": guid,
            "name": row[2].strip(),
            "success": setting[0],
            "failure": setting[1],
        }
    covers: dict[str, bool] = {}
    for category, needs in REQUIRED.items():
        ok = True
        for key, success, failure in needs:
            if key not in subcategories:
                raise ValueError(f"auditpol /r: subcategory {key} is not listed")
            found = subcategories[key]
            ok = ok and (found["success"] or not success) and (found["failure"] or not failure)
        covers[category] = ok
    return {"subcategories": subcategories, "covers": covers}


# w32tm /query /status /verbose labels (the line order is the same in both languages).
_W32TM = {
    "source": ("source", "ソース"),
    "stratum": ("stratum", "階層"),
    "last_sync": ("last successful sync time", "最終正常同期時刻"),
    "since_sync": ("time since last good sync time", "最終正常同期時刻からの時間"),
    "phase_offset": ("phase offset", "フェーズ オフセット", "位相オフセット"),
    "last_sync_error": ("last sync error", "最終同期エラー"),
}
_UNSPECIFIED = ("unspecified", "未指定")
_LOCAL_CLOCKS = ("local cmos clock", "free-running system clock")
_SYNC_FORMATS = ("%Y/%m/%d %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S")


def _w32tm_fields(text: str) -> dict[str, str]:
    labels = {label: name for name, options in _W32TM.items() for label in options}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        label, sep, value = line.replace("：", ":").partition(":")
        name = labels.get(label.strip().lower())
        if sep and name is not None:
            fields[name] = value.strip()
    return fields


def _seconds(value: str) -> float | None:
    found = re.fullmatch(r"([-+]?\d+(?:\.\d+)?)s", value.strip())
    return float(found.group(1)) if found else None


def _sync_age_hours(fields: dict[str, str], now: datetime) -> float | None:
    """Return hours since the last good sync: the verbose counter, else the localized timestamp."""
    since = fields.get("since_sync", "")
    seconds = _seconds(since)
    if seconds is not None:
        return round(seconds / 3600, 3)
    last = fields.get("last_sync", "")
    if not last or last.lower() in _UNSPECIFIED:
        return None
    for fmt in _SYNC_FORMATS:
        try:
            when = datetime.strptime(last, fmt).replace(tzinfo=now.tzinfo)
        except ValueError:
            continue
        return round((now - when) / timedelta(hours=1), 3)
    raise ValueError(f"w32tm: cannot read the last sync time {last!r}")


def time_status(text: str, now: datetime) -> dict[str, Any]:
    """Return ``source, synchronized, last_sync_age_hours, offset_ms, stratum`` from w32tm /query /status."""
    fields = _w32tm_fields(text)
    if "source" not in fields:
        raise ValueError("w32tm /query /status: no Source line")
    # "ntp1.example.lg.jp,0x8": the peer flags are not part of the name.
    source = re.sub(r",(?:0x)?[0-9A-Fa-f]+$", "", fields["source"]).strip()
    out: dict[str, Any] = {"service_running": True, "source": source}
    stratum = re.match(r"\d+", fields.get("stratum", ""))
    if stratum:
        out["stratum"] = int(stratum.group(0))
    age = _sync_age_hours(fields, now)
    out["last_sync_age_hours"] = age
    offset = _seconds(fields.get("phase_offset", ""))
    if offset is not None:
        out["offset_ms"] = round(abs(offset) * 1000, 3)
    error = re.match(r"\d+", fields.get("last_sync_error", ""))
    if error:
        out["last_sync_error"] = int(error.group(0))
    out["synchronized"] = (
        source.lower() not in _LOCAL_CLOCKS and age is not None and out.get("stratum", 1) != 0
    )
    return out
