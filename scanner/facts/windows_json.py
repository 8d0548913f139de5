"""Parsers of the Windows probes that arrive as PowerShell JSON (Defender, antivirus, hotfixes, admins, services, OS)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

_MS_DATE = re.compile(r"^\\?/Date\((-?\d+)(?:[+-]\d{4})?\)\\?/$")
_DEFENDER_NAMES = ("windows defender", "microsoft defender")
_SERVICE_STATUS = {1: "Stopped", 2: "StartPending", 3: "StopPending", 4: "Running", 5: "ContinuePending",
                   6: "PausePending", 7: "Paused"}  # fmt: skip
_START_TYPES = {0: "Boot", 1: "System", 2: "Automatic", 3: "Manual", 4: "Disabled"}


def as_list(value: Any, what: str) -> list[dict[str, Any]]:
    """Return a JSON list of objects; ConvertTo-Json writes a single object without the list."""
    items = value if isinstance(value, list) else [value] if isinstance(value, dict) else None
    if items is None or not all(isinstance(it, dict) for it in items):
        raise ValueError(f"{what}: expected a JSON list of objects")
    return items


def when(value: Any, now: datetime) -> datetime | None:
    """Read a PowerShell date: ISO 8601, /Date(ms)/ (Windows PowerShell 5.1), YYYY-MM-DD or M/D/YYYY."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    text = value.strip()
    found = _MS_DATE.match(text)
    if found:
        return datetime.fromtimestamp(int(found.group(1)) / 1000, UTC)
    # .NET writes seven fractional digits; Python reads at most six.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    for parse in (datetime.fromisoformat, lambda t: datetime.strptime(t, "%m/%d/%Y")):
        try:
            moment = parse(text)
        except ValueError:
            continue
        # A date without an offset is the host's local time, whose offset collected_at carries.
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=now.tzinfo)
    raise ValueError(f"not a date: {value!r}")


def age_days(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else round((now - moment) / timedelta(days=1), 3)


def _bool(obj: dict[str, Any], key: str, what: str) -> bool | None:
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"{what}: {key} is {value!r}, not true/false")


def defender(obj: Any, now: datetime) -> dict[str, Any]:
    """Return Defender facts from Get-MpComputerStatus (selected properties) as JSON."""
    if not isinstance(obj, dict):
        raise ValueError("Get-MpComputerStatus: expected one JSON object")
    out: dict[str, Any] = {"installed": True}
    for key, fact in (
        ("AMServiceEnabled", "service_enabled"), ("AntivirusEnabled", "antivirus_enabled"),
        ("RealTimeProtectionEnabled", "realtime_enabled"), ("IsTamperProtected", "tamper_protected"),
    ):  # fmt: skip
        value = _bool(obj, key, "Get-MpComputerStatus")
        if value is not None:
            out[fact] = value
    mode = obj.get("AMRunningMode")
    if mode is not None:
        out["running_mode"] = str(mode)
    if obj.get("AntivirusSignatureVersion"):
        out["signature_version"] = str(obj["AntivirusSignatureVersion"])
    updated = when(obj.get("AntivirusSignatureLastUpdated"), now)
    if updated is not None:
        out["signature_age_days"] = age_days(updated, now)
    elif isinstance(obj.get("AntivirusSignatureAge"), int):
        out["signature_age_days"] = float(obj["AntivirusSignatureAge"])
    # Passive or EDR block mode means another product is the antivirus: Defender is not it.
    out["running"] = bool(
        out.get("service_enabled")
        and out.get("antivirus_enabled")
        and out.get("realtime_enabled")
        and out.get("running_mode", "Normal") == "Normal"
    )
    return out


def av_products(value: Any) -> list[dict[str, Any]]:
    """Decode root/SecurityCenter2 AntiVirusProduct entries (productState: enabled and up-to-date bits)."""
    products = []
    for obj in as_list(value, "AntiVirusProduct"):
        state = obj.get("productState")
        if not isinstance(state, int) or isinstance(state, bool):
            raise ValueError(f"AntiVirusProduct: productState {state!r} is not a number")
        # The widely used decoding of this undocumented value: 0xAABBCC, BB 10/11 = on, CC 00 = current.
        digits = f"{state:06x}"
        name = str(obj.get("displayName", ""))
        products.append(
            {
                "name": name,
                "enabled": digits[2:4] in ("10", "11"),
                "up_to_date": digits[4:6] == "00",
                "defender": any(n in name.lower() for n in _DEFENDER_NAMES),
            }
        )
    return products


def hotfixes(value: Any, now: datetime) -> dict[str, Any]:
    """Return ``count, ids, latest_installed, latest_age_days`` from Get-HotFix."""
    items = as_list(value, "Get-HotFix")
    dates = [d for it in items if (d := when(it.get("InstalledOn"), now)) is not None]
    latest = max(dates) if dates else None
    return {
        "count": len(items),
        "ids": sorted(str(it.get("HotFixID", "")) for it in items),
        "latest_installed": latest.date().isoformat() if latest else None,
        "latest_age_days": age_days(latest, now),
    }


def local_admins(value: Any) -> dict[str, Any]:
    """Return the members of the local Administrators group (S-1-5-32-544)."""
    items = as_list(value, "Get-LocalGroupMember")
    members = [
        {
            "name": str(it.get("Name", "")),
            "sid": str(it.get("SID", "")),
            "source": str(it.get("PrincipalSource", "")),
        }
        for it in items
    ]
    return {"members": members, "names": [m["name"] for m in members], "count": len(members)}


def services(value: Any) -> dict[str, dict[str, Any]]:
    """Return {service name: {status, start_type, running}} from Get-Service."""
    out: dict[str, dict[str, Any]] = {}
    for it in as_list(value, "Get-Service"):
        status = it.get("Status")
        start = it.get("StartType")
        status = _SERVICE_STATUS.get(status, str(status)) if isinstance(status, int) else str(status)
        start = _START_TYPES.get(start, str(start)) if isinstance(start, int) else str(start)
        out[str(it.get("Name", ""))] = {"status": status, "start_type": start, "running": status == "Running"}
    return out


def operating_system(obj: Any) -> dict[str, Any]:
    """Return ``caption, version, build, display_version, domain_joined, domain`` from the win-os probe."""
    if not isinstance(obj, dict):
        raise ValueError("win-os: expected one JSON object")
    out: dict[str, Any] = {
        "caption": str(obj.get("Caption", "")),
        "version": str(obj.get("Version", "")),
        "build": str(obj.get("BuildNumber", "")),
        "display_version": str(obj.get("DisplayVersion") or ""),
    }
    joined = _bool(obj, "PartOfDomain", "win-os")
    if joined is not None:
        out["domain_joined"] = joined
        out["domain"] = str(obj.get("Domain", "")) if joined else ""
    return out


def readers(value: Any) -> dict[str, Any]:
    """Return the smart-card readers present (Win32_PnPEntity of class SmartCardReader)."""
    items = as_list(value, "SmartCardReader")
    names = [str(it.get("Name", "")) for it in items if str(it.get("Status", "OK")) == "OK"]
    return {"readers": names, "reader_present": bool(names)}
