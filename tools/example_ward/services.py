"""systemd (units, unit files, timers), packages, anti-malware signatures and backup status."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from .model import AT, JST, Spec, ago, iso, kaku, pick, stock, table

TIMERS = [  # (timer, activates, hour, minute, every n days)
    ("apt-daily.timer", "apt-daily.service", 6, 12, 1),
    ("apt-daily-upgrade.timer", "apt-daily-upgrade.service", 6, 41, 1),
    ("dpkg-db-backup.timer", "dpkg-db-backup.service", 0, 0, 1),
    ("e2scrub_all.timer", "e2scrub_all.service", 3, 10, 7),
    ("fstrim.timer", "fstrim.service", 0, 0, 7),
    ("logrotate.timer", "logrotate.service", 0, 0, 1),
    ("man-db.timer", "man-db.service", 3, 27, 1),
]
APPS = ("住民記録", "税(個人住民税・収納)", "国民健康保険", "戸籍", "文書管理", "財務会計", "グループウェア")
BACKUP_ORDER = ("tool", "job", "last_success", "last_run", "last_result", "last_error", "repository")


def units_of(sets: list[str]) -> list[tuple[str, str, str, str, str]]:
    """Return (unit, active, sub, unit-file state, description) of the standard build's service sets."""
    out = []
    for line in kaku("/systemd-units.tsv").splitlines():
        if line and not line.startswith("#"):
            group, unit, active, sub, state, desc = line.split("\t")
            if group in sets:
                out.append((unit, active, sub, "" if state == "-" else state, desc))
    return out


def role_units(spec: Spec) -> list[str]:
    system, role = spec.host.system, spec.role
    if spec.terminal:  # terminals use the systems; they serve nothing
        return []
    wanted = {
        "app": system in (*APPS, "ホームページCMS", "統合監視"),
        "postgres": system in ("基幹系データベース", "統合監視"),
        "zabbix": system == "統合監視",
        "samba": system == "ファイルサーバ",
        "squid": role == "proxy",
        "postfix": system.startswith("メール中継"),
        "php": system == "ホームページCMS",
        "rest": role == "backup_storage",
    }
    return [key for key, on in wanted.items() if on]


def backup_unit(spec: Spec) -> tuple[str, str, int, int, str] | None:
    """Return the host's backup timer (timer, service, hour, minute, description), if it has one."""
    if spec.role in ("server", "log_server", "bastion", "proxy"):
        return (
            "restic-backup.timer",
            "restic-backup.service",
            1,
            0,
            "Daily backup to backup-local-01 (restic)",
        )
    if spec.name == "backup-local-01":
        return (
            "restic-copy-dc.timer",
            "restic-copy-dc.service",
            3,
            0,
            "Copy restic repositories to backup-dc-01",
        )
    if spec.role == "backup_storage":
        return ("restic-check.timer", "restic-check.service", 5, 0, "Check restic repositories")
    return None


def add_systemd(spec: Spec) -> None:
    units = units_of(["base", "desktop" if spec.terminal else "vm", *role_units(spec)])
    if spec.terminal and spec.smartcard:
        units.append(("pcscd.service", "inactive", "dead", "indirect", "PC/SC Smart Card Daemon"))
    if spec.usbguard:
        units.append(("usbguard.service", "active", "running", "enabled", "USBGuard daemon"))
    job = backup_unit(spec)
    if job:
        units.append((job[1], "inactive", "dead", "static", job[4]))
    states: dict[str, str] = spec.facts.get("units", {})  # unit -> active and sub state, e.g. failed
    units = [(u[0], states[u[0]], states[u[0]], *u[3:]) if u[0] in states else u for u in units]
    units.sort(key=lambda u: u[0].lower())
    rows = []
    for unit, active, sub, state, desc in units:
        load = "not-found" if state == "" and unit.startswith("systemd-timesyncd") else "loaded"
        rows.append([unit, load, active, sub, desc])
    spec.probe("systemctl-units", table(rows))
    files = [
        [u[0], u[3], "enabled" if u[3] in ("enabled", "indirect") else "-" if u[3] == "static" else "enabled"]
        for u in units
        if u[3] and not u[0].startswith(("ifup@", "getty@", "postgresql@", "postfix@"))
    ]
    files += [["getty@.service", "enabled", "enabled"], ["ifup@.service", "static", "-"]]
    for template in ("postgresql@.service", "postfix@.service"):
        if any(u[0].startswith(template.removesuffix(".service")) for u in units):
            files.append([template, "indirect", "enabled"])
    timers = list(TIMERS)
    if job:
        timers.append((job[0], job[1], job[2], job[3], 1))
    files += [[t[0], "enabled", "enabled"] for t in timers]
    files.sort(key=lambda r: r[0].lower())
    spec.probe("systemctl-unit-files", table(files))
    backup = spec.facts.get("backup")
    trows = []
    for timer, service, hour, minute, every in timers:
        last = AT.replace(hour=hour, minute=minute, second=pick(spec.name, timer, 59))
        if last > AT:
            last -= timedelta(days=1)
        if every == 7:  # weekly timers last ran on Monday (fstrim) or Sunday (e2scrub)
            last -= timedelta(days=(last.weekday() - (0 if timer == "fstrim.timer" else 6)) % 7)
        if backup and timer == "restic-backup.timer":
            last = datetime.fromisoformat(backup["last_run"])
        nxt = last + timedelta(days=every)
        trows.append(
            [
                fmt_time(nxt),
                until(nxt - AT) + " left",
                fmt_time(last),
                until(AT - last) + " ago",
                timer,
                service,
            ]
        )
    trows.sort(key=lambda r: r[0])
    spec.probe("systemctl-timers", table(trows))


def fmt_time(moment: datetime) -> str:
    return moment.strftime("%a %Y-%m-%d %H:%M:%S JST")


def until(delta: timedelta) -> str:
    """Format a span as systemctl list-timers does (systemd's format_timestamp_relative)."""
    seconds = int(delta.total_seconds())
    days, hours, minutes = seconds // 86400, seconds // 3600, seconds // 60
    if days >= 2:
        return f"{days} days"
    if hours >= 25:
        return f"1 day {hours - 24}h"
    if hours >= 6:
        return f"{hours}h"
    if hours >= 1:
        return f"{hours}h {minutes - 60 * hours}min"
    return f"{minutes}min"


def add_packages(spec: Spec) -> None:
    spec.add("/etc/os-release", stock("/etc/os-release"), mtime=datetime(2026, 9, 6, 10, 0, tzinfo=JST))
    pending: list[tuple[str, str, str, str, str]] = [
        (p["name"], p["installed"], p["candidate"], "Debian-Security:12/oldstable-security", p["arch"])
        for p in spec.facts.get("pending_security", [])
    ]
    if pick(spec.name, "pointrelease", 5) == 0:  # the 12.13 point release, not yet applied here
        pending += [
            ("base-files", "12.4+deb12u12", "12.4+deb12u13", "Debian:12.13/oldstable", "amd64"),
            ("tzdata", "2025b-0+deb12u2", "2026a-0+deb12u1", "Debian:12.13/oldstable", "all"),
        ]
    out = "Reading package lists...\nBuilding dependency tree...\nReading state information...\nCalculating upgrade...\n"
    if pending:
        names = " ".join(sorted(p[0] for p in pending))
        out += f"The following packages will be upgraded:\n  {names}\n"
    out += f"{len(pending)} upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n"
    out += "".join(f"Inst {n} [{old}] ({new} {origin} [{arch}])\n" for n, old, new, origin, arch in pending)
    out += "".join(f"Conf {n} ({new} {origin} [{arch}])\n" for n, _, new, origin, arch in pending)
    spec.probe("apt-upgradable", out)


def add_malware(spec: Spec) -> None:
    updated = ago(hours=2 + pick(spec.name, "freshclam", 9), minutes=pick(spec.name, "fc-min", 60))
    spec.stat("/var/lib/clamav", updated, mode="0755", uid=103, gid=105)
    signatures = [  # bytecode and main change rarely; daily.cld is updated by freshclam every few hours
        ("bytecode.cvd", datetime(2026, 9, 22, 4, 11, tzinfo=JST), 283_136),
        ("daily.cld", updated, 93_102_592),
        ("freshclam.dat", updated, 1_604),
        ("main.cvd", datetime(2025, 10, 1, 10, 33, tzinfo=JST), 170_479_789),
    ]
    for name, mtime, size in signatures:
        spec.stat(f"/var/lib/clamav/{name}", mtime, size=size, uid=103, gid=105)


def add_backup(spec: Spec) -> None:
    spec.stock("/etc/crontab")
    spec.stock("/etc/cron.d/e2scrub_all")
    job = backup_unit(spec)
    if job is None:
        return
    mynumber = spec.zone == "mynumber"
    generations = (
        {"daily": 14, "weekly": 8, "monthly": 12} if mynumber else {"daily": 7, "weekly": 4, "monthly": 6}
    )
    copied = iso(AT - timedelta(days=1) + timedelta(hours=1, minutes=38 + pick(spec.name, "copy", 20)))
    status: dict[str, Any] = {"tool": "restic", "job": job[1].removesuffix(".service")}
    if spec.role == "backup_storage":
        local = spec.name == "backup-local-01"
        status.update(
            last_success=copied if local else iso(ago(hours=20, minutes=31)),
            repository={"host": spec.name, "path": "/srv/restic"},
        )
        if local:
            status["copies"] = [{"host": "backup-dc-01", "last_success": copied}]
    else:
        last = spec.facts.get("backup", {})  # a failed run: its time, result, error, last good copy
        status.update(
            last_success=last.get("last_success", iso(ago(minutes=30 + pick(spec.name, "backup", 40)))),
            **{k: last[k] for k in ("last_run", "last_result", "last_error") if k in last},
            repository={"host": "backup-local-01", "path": f"/srv/restic/{spec.name}"},
            copies=[{"host": "backup-dc-01", "last_success": last.get("copied", copied)}],
        )
    status.setdefault("last_run", status["last_success"])
    status.setdefault("last_result", "success")
    status["generations"] = generations
    tested = datetime(2026, 6, 3 + pick(spec.name, "restore", 25), tzinfo=JST)
    status["restore_test"] = {
        "date": tested.date().isoformat(),
        "result": "success",
        "record": f"情報政策課 復元テスト記録 R8-{40 + pick(spec.name, 'rec', 50):03d}",
    }
    order = (*BACKUP_ORDER, "copies", "generations", "restore_test")
    ordered = {k: status[k] for k in order if k in status}
    spec.add(
        "/var/lib/kijun/backup-status.json",
        json.dumps(ordered, ensure_ascii=False, indent=2) + "\n",
        mode="0640",
        mtime=datetime.fromisoformat(str(ordered["last_run"])),
    )
