"""Facts of subject 'backup': freshness, schedule, offsite copies and restore tests of the backup jobs.

Two sources, each one job: the generic status file a backup job writes (docs/facts.md) and restic,
read through its probes (scanner/facts/restic.py). Every job must be fresh and copied offsite, so
with both the facts are those of the worse job.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any

from scanner.facts import ORIGINS, Context, Subject, elapsed, lines, restic
from scanner.facts.services import probe_text
from scanner.inventory import Host
from scanner.rawfacts import RawFacts

_STATUS = "/var/lib/kijun/backup-status.json"
_CRON = ("/etc/crontab", "/etc/cron.d/*")
_TOOLS = ("restic", "borg", "rsnapshot", "bacula")
_OFFSITE_KIND = "external_dc"
_JOBS = "_jobs"  # what content keeps for finish: the status file, whether restic is set up, origins


def _when(value: Any, field: str) -> datetime:
    """Parse an ISO 8601 timestamp that carries its offset (a naive one is ambiguous)."""
    if not isinstance(value, str):
        raise ValueError(f"backup status: {field} is not a timestamp: {value!r}")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"backup status: {field} has no UTC offset: {value!r}")
    return moment


def _hours(since: datetime, now: datetime, what: str) -> float:
    return round(elapsed(since, now, what) / 3600, 3)


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


def _offsite(ctx: Context, host: Host) -> bool:
    """Tell whether a host is at an external data center other than this host's site."""
    return ctx.inventory.site_kind(host.site) == _OFFSITE_KIND and host.site != ctx.host.site


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
        if not _offsite(ctx, host):
            continue
        if when is None:
            notes.append(f"copy on {name!r} has never succeeded")
            continue
        what = f"backup status: last_success of {name}"
        offsite.append((host.site, _hours(_when(when, what), now, what)))
    return offsite, notes


def _status_job(status: dict[str, Any], ctx: Context, now: datetime) -> dict[str, Any]:
    """Return the facts the generic status file gives about its job."""
    out: dict[str, Any] = {}
    if status.get("last_success") is not None:
        when = _when(status["last_success"], "last_success")
        out["latest_age_hours"] = _hours(when, now, "backup status: last_success")
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
        out["restore_test_age_days"] = round(elapsed(day, now, "backup status: restore_test date") / 86400, 3)
    out["notes"] = notes
    return out


def _restic_job(raw: RawFacts, ctx: Context, now: datetime) -> dict[str, Any]:
    """Return the facts restic's snapshots and repository location give about its job."""
    times = restic.snapshot_times(restic.output(raw, "restic-snapshots"))
    location = restic.output(raw, "restic-repository").strip()
    latest = _hours(times[-1], now, "restic: newest snapshot time") if times else None
    daily, weekly = restic.generations(times)
    out: dict[str, Any] = {
        "latest_age_hours": latest,
        "generations_daily": daily,
        "generations_weekly": weekly,
    }
    notes = [] if times else [f"restic repository {location} holds no snapshot of this host"]
    name = restic.repository_host(location)
    host = ctx.host if name == "" else restic.inventory_host(ctx.inventory, name) if name else None
    if host is None:
        notes.append(f"restic repository {location}: its host is not in the inventory, so not offsite")
    elif not _offsite(ctx, host):
        notes.append(f"restic repository {location} is on {host.name} at site {host.site!r}: not offsite")
    offsite = host.site if host is not None and latest is not None and _offsite(ctx, host) else None
    out["offsite_age_hours"] = latest if offsite else None
    out["offsite_sites"] = [offsite] if offsite else []
    out["notes"] = notes
    return out


def _worst(jobs: list[dict[str, Any]]) -> dict[str, Any]:
    """Combine jobs: each must be fresh and copied offsite, so the stalest age and fewest generations count."""
    out: dict[str, Any] = {}
    for key in ("latest_age_hours", "offsite_age_hours"):
        values = [job[key] for job in jobs if key in job]
        if values:
            out[key] = None if None in values else max(values)
    out["offsite_sites"] = sorted({site for job in jobs for site in job["offsite_sites"]})
    for key in ("generations_daily", "generations_weekly"):
        values = [job[key] for job in jobs if key in job]
        if values:
            out[key] = min(values)
    # Only the status file records the last result and restore tests.
    status = next((job for job in jobs if "restore_test_age_days" in job), {})
    if "last_result" in status:
        out["last_result"] = status["last_result"]
    out["restore_test_age_days"] = status.get("restore_test_age_days")
    out["notes"] = [note for job in jobs for note in job["notes"]]
    return out


def content(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return ``configured`` and ``scheduled``, and the status file and restic's presence for ``finish``."""
    item, env = raw.file(_STATUS), raw.stat(restic.ENV_FILE)
    collected = [i for i in (item, env) if i is not None]
    out: dict[str, Any] = {}
    # Both sources are collected together; cases and older snapshots may hold only the status file.
    if collected:
        out["configured"] = any(i.exists for i in collected)
    status: dict[str, Any] = {}
    if item is not None and item.exists:
        status = json.loads(item.text)
        if not isinstance(status, dict):
            raise ValueError("backup status: not a JSON object")
    with_restic = env is not None and env.exists
    words = [w for w in (status.get("job"), status.get("tool")) if isinstance(w, str) and w]
    words = words + ["restic"] * with_restic or list(_TOOLS)
    scheduled = _scheduled(raw, words)
    if scheduled is not None:
        out["scheduled"] = scheduled
    origins = _origins(item.text) if status and item is not None else None
    out[_JOBS] = {"status": status, "restic": with_restic, "origins": origins}
    return out


def finish(facts: dict[str, Any], raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Add the jobs' facts: their ages at the collection time and their copies at the inventory's sites."""
    parts = facts[_JOBS]  # the kept content is shared by hosts: read, never changed
    facts = {k: v for k, v in facts.items() if k != _JOBS}
    status = parts["status"]
    now = datetime.fromisoformat(raw.collected_at)
    jobs = ([_status_job(status, ctx, now)] if status else []) + (
        [_restic_job(raw, ctx, now)] if parts["restic"] else []
    )
    out = {**facts, **_worst(jobs)} if jobs else facts
    if parts["origins"] is not None:
        out[ORIGINS] = parts["origins"]
    return out


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return ``configured, scheduled, latest_age_hours, last_result, offsite_*, generations_*, restore_test_age_days``."""
    return finish(content(raw, ctx), raw, ctx)


def _origins(text: str) -> dict[str, dict[str, Any]]:
    """Return the status file lines that set the ages: its last_success, copies and restore_test keys."""
    keys = {
        "latest_age_hours": '"last_success"',
        "offsite_age_hours": '"copies"',
        "restore_test_age_days": '"restore_test"',
    }
    out: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        for fact, key in keys.items():
            if key in line and fact not in out:
                out[fact] = {"file": _STATUS, "line": number}
    return out


SUBJECT = Subject(
    name="backup",
    parse=parse,
    files=(_STATUS, *_CRON),
    stats=(restic.ENV_FILE,),
    probes=("systemctl-timers", *restic.PROBES),
    content=content,
    finish=finish,
)
