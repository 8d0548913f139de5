"""Facts of subject 'windows': a Windows terminal's policies and state, from the kijun-collect.ps1 probes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from scanner.facts import Context, Subject
from scanner.facts import windows_json as wj
from scanner.facts import windows_registry as wr
from scanner.facts import windows_text as wt
from scanner.facts.services import probe_text
from scanner.rawfacts import Item, RawFacts

# Probe names as kijun-collect.ps1 writes them (probe:<name>); see docs/windows.md.
PROBES = (
    "win-os", "win-secedit", "win-auditpol", "win-w32tm", "win-defender", "win-av-products", "win-hotfix",
    "win-local-admins", "win-registry", "win-credential-providers", "win-services", "win-smartcard-readers",
)  # fmt: skip
NOT_FOUND = 127  # the collector's rc when a command or cmdlet does not exist on the host
W32TIME_STOPPED = "0x80070426"  # "The service has not been started."
DEFENDER_OFF = "0x800106ba"  # Get-MpComputerStatus: the Defender service is not running


def _json(raw: RawFacts, name: str) -> Any:
    """Return a successful probe's JSON (None when not collected or failed; malformed JSON raises)."""
    text = probe_text(raw, name)
    if text is None:
        return None
    if not text.strip():
        return []  # ConvertTo-Json of nothing writes nothing
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name}: output is not JSON: {exc}") from None


def _failed_with(item: Item | None, code: str) -> bool:
    return item is not None and item.rc not in (0, None) and code.lower() in (item.text + item.stderr).lower()


def _time(raw: RawFacts, now: datetime) -> dict[str, Any] | None:
    item = raw.probe("win-w32tm")
    if _failed_with(item, W32TIME_STOPPED):
        return {"service_running": False, "synchronized": False}
    text = probe_text(raw, "win-w32tm")
    return None if text is None else wt.time_status(text, now)


def _defender(raw: RawFacts, now: datetime) -> dict[str, Any] | None:
    item = raw.probe("win-defender")
    if item is not None and item.rc == NOT_FOUND:
        return {"installed": False, "running": False}
    if _failed_with(item, DEFENDER_OFF):
        return {"installed": True, "running": False}
    found = _json(raw, "win-defender")
    return None if found is None else wj.defender(found, now)


def _antivirus(
    defender: dict[str, Any] | None, products: list[dict[str, Any]] | None
) -> dict[str, Any] | None:
    """Return whether any antivirus runs: Defender itself, or another product registered with Security Center."""
    if defender is None and products is None:
        return None
    others = [p for p in products or [] if not p["defender"]]
    out: dict[str, Any] = {
        "running": bool((defender or {}).get("running")) or any(p["enabled"] for p in others)
    }
    if products is not None:
        out["products"] = products
    return out


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return ``os, password, accounts, audit, time, defender, antivirus, updates, admins, services,
    smartcard, screenlock, usb, logon, mfa`` (each omitted when its probe was not collected)."""
    now = datetime.fromisoformat(raw.collected_at)
    out: dict[str, Any] = {}
    if (found := _json(raw, "win-os")) is not None:
        out["os"] = wj.operating_system(found)
    if (text := probe_text(raw, "win-secedit")) is not None:
        out["password"], out["accounts"] = wt.password_policy(text)
    if (text := probe_text(raw, "win-auditpol")) is not None:
        out["audit"] = wt.audit_policy(text)
    if (time := _time(raw, now)) is not None:
        out["time"] = time
    defender = _defender(raw, now)
    if defender is not None:
        out["defender"] = defender
    found = _json(raw, "win-av-products")
    antivirus = _antivirus(defender, None if found is None else wj.av_products(found))
    if antivirus is not None:
        out["antivirus"] = antivirus
    if (found := _json(raw, "win-hotfix")) is not None:
        out["updates"] = wj.hotfixes(found, now)
    if (found := _json(raw, "win-local-admins")) is not None:
        out["admins"] = wj.local_admins(found)
    if (found := _json(raw, "win-services")) is not None:
        out["services"] = wj.services(found)
    if (found := _json(raw, "win-smartcard-readers")) is not None:
        out["smartcard"] = wj.readers(found)
    if (found := _json(raw, "win-registry")) is not None:
        reg = wr.keyed(found)
        for name, value in (("screenlock", wr.screenlock(reg)), ("usb", wr.usb(reg))):
            if value is not None:
                out[name] = value
        stack = wr.logon(reg, _json(raw, "win-credential-providers"))
        if stack is not None:
            out["logon"], out["mfa"] = stack
    return out


SUBJECT = Subject(name="windows", parse=parse, probes=PROBES)
