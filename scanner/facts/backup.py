"""Facts of subject 'backup': freshness, schedule, offsite copies and restore tests of the backup job."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any

from scanner.facts import Context, Subject, lines
from scanner.facts.services import probe_text
from scanner.rawfacts import RawFacts

_STATUS = "/var/lib/kijun/backup-status.json"
_CRON = ("/etc/crontab", "/etc/cron.d/*")
_TOOLS = ("restic", "borg", "rsnapshot", "bacula")
_OFFSITE_KIND = "external_dc"


def _when(value: Any, field: str) -> datetime:
    """Parse an ISO 8601 timestamp that carries its offset (a naive one is ambiguous)."""
    if not isinstance(value, str):
        raise ValueError(f"backup status: {field} is not a timestamp: {value!r}")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"backup status: {field} has no UTC offset: {value!r}")
    return moment


def _hours(since: datetime, now: datetime) -> float:
    return round((now - since).total_seconds() / 3600, 3)


def _scheduled(raw: RawFacts, words: list[str]) -> bool | None:
    """Return whether a systemd timer or a cron line mentions the job or a backup tool."""
    timers = probe_text(raw, "systemctl-timers")
    cron_items = [it for it in (raw.file(_CRON[0]), *raw.glob(_CRON[1])) if it is not None]
    if timers is None and not cron_items:
        return None
    # Timer lines: only the unit names (the last two columns), never the dates.
    for line in (timers or "").splitlines():
        units = [w for w in line.split() if w.endswith((".timer", ".service"))]
        if any(word in unit for unit in units for word in words):
            return True
    for item in cron_items:
        for line in lines(item):
            # Skip variable assignments (SHELL=..., MAILTO=...): they run nothing.
            if "=" in line.split()[0]:
                continue
            if any(word in line for word in words):
                return True
    return False


def _copies(status: dict[str, Any], ctx: Context, now: datetime) -> tuple[list[tuple[str, float]], list[str]]:
    """Return (site, age in hours) of offsite copies and notes on copies that could not count."""
    candidates: list[tuple[str, Any]] = []
    repository = status.get("repository")
    if isinstance(repository, dict) and "host" in repository:
        candidates.append((str(repository["host"]), status.get("last_success")))
    for copy in status.get("copies", []):
        if not isinstance(copy, dict) or "host" not in copy:
            raise ValueError(f"backup status: copy without host: {copy!r}")
        candidates.append((str(copy["host"]), copy.get("last_success")))
    offsite: list[tuple[str, float]] = []
    notes: list[str] = []
    for name, when in candidates:
        host = ctx.inventory.host(name)
        if host is None:
            notes.append(f"copy host {name!r} is not in the inventory: it does not count")
            continue
        if ctx.inventory.site_kind(host.site) != _OFFSITE_KIND or host.site == ctx.host.site:
            continue
        if when is None:
            notes.append(f"copy on {name!r} has never succeeded")
            continue
        offsite.append((host.site, _hours(_when(when, f"last_success of {name}"), now)))
    return offsite, notes


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return ``configured, scheduled, latest_age_hours, last_result, offsite_*, generations_*, restore_test_age_days``."""
    item = raw.file(_STATUS)
    out: dict[str, Any] = {}
    status: dict[str, Any] = {}
    if item is not None:
        out["configured"] = item.exists
        if item.exists:
            status = json.loads(item.text)
            if not isinstance(status, dict):
                raise ValueError("backup status: not a JSON object")
    words = [w for w in (status.get("job"), status.get("tool")) if isinstance(w, str) and w] or list(_TOOLS)
    scheduled = _scheduled(raw, words)
    if scheduled is not None:
        out["scheduled"] = scheduled
    if not status:
        return out
    now = datetime.fromisoformat(raw.collected_at)
    if status.get("last_success") is not None:
        out["latest_age_hours"] = _hours(_when(status["last_success"], "last_success"), now)
    if "last_result" in status:
        out["last_result"] = str(status["last_result"])
    offsite, notes = _copies(status, ctx, now)
    freshest = min(offsite, key=lambda pair: pair[1]) if offsite else None
    out["offsite_age_hours"] = freshest[1] if freshest else None
    out["offsite_sites"] = sorted({site for site, _ in offsite})
    generations = status.get("generations", {})
    for period in ("daily", "weekly"):
        if period in generations:
            out[f"generations_{period}"] = int(generations[period])
    test = status.get("restore_test") or {}
    out["restore_test_age_days"] = None
    # Only a restore test that succeeded shows that the backup can be restored.
    if test.get("result") == "success" and test.get("date"):
        day = datetime.combine(date.fromisoformat(str(test["date"])), time(), tzinfo=now.tzinfo)
        out["restore_test_age_days"] = round((now - day).total_seconds() / 86400, 3)
    out["notes"] = notes
    return out


SUBJECT = Subject(
    name="backup",
    parse=parse,
    files=(_STATUS, *_CRON),
    probes=("systemctl-timers",),
)
