"""One host's snapshot: the baseline areas in order, the deviations applied, serialised as committed."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from scanner.facts import SUBJECTS
from scanner.rawfacts import build_raw

from . import deviations
from .accounts import add_accounts
from .auth import add_pam, add_sshd
from .logs import add_logging, add_modules, add_time
from .model import AT, COLLECTOR, JST, WARD, Spec, ago, iso, pick
from .network import add_network
from .services import add_backup, add_malware, add_packages, add_systemd


def add_screenlock(spec: Spec) -> None:
    spec.stock("/etc/profile")
    spec.stock("/etc/bash.bashrc")
    spec.kaku("/etc/profile.d/kaku-tmout.sh")
    if spec.terminal:
        spec.kaku("/etc/dconf/db/local.d/00-kaku-screensaver")
        spec.kaku("/etc/dconf/db/local.d/locks/00-kaku-screensaver")


LOG_FILES = [  # (name, mode, gid, minutes since last write, size)
    ("audit", "0750", 4, 1, None),
    ("auth.log", "0640", 4, 3, 48_210),
    ("btmp", "0660", 43, 60 * 24 * 9, 0),
    ("cron.log", "0640", 4, 43, 9_877),
    ("journal", "2755", 101, 0, None),
    ("kern.log", "0640", 4, 60 * 9, 12_338),
    ("lastlog", "0664", 43, 60 * 20, 292_292),
    ("sudo.log", "0600", 0, 60 * 18, 6_530),
    ("syslog", "0640", 4, 0, 1_204_551),
    ("wtmp", "0664", 43, 60 * 20, 38_016),
]


def add_logs(spec: Spec) -> None:
    for name, mode, gid, minutes, size in LOG_FILES:
        spec.stat(
            f"/var/log/{name}",
            ago(minutes=minutes, seconds=pick(spec.name, name, 50)),
            mode=mode,
            size=size,
            gid=gid,
        )
    if spec.role != "log_server":
        return
    spec.stat("/var/log/remote", ago(days=3), mode="0750", gid=4)
    zones = ("mgmt", "dc") if spec.zone == "mgmt" else (spec.zone,)
    for source in spec.inv.hosts:
        if source.zone not in zones or source.name == spec.name or source.os != "linux":
            continue
        last = ago(seconds=2 + pick(source.name, "lastlog", 170))
        spec.stat(
            f"/var/log/remote/{source.name}", ago(days=pick(source.name, "dir", 30)), mode="0750", gid=4
        )
        spec.stat(
            f"/var/log/remote/{source.name}/{source.name}.log",
            last,
            mode="0640",
            gid=4,
            size=2_000_000 + pick(source.name, "size", 40_000_000),
        )
        spec.stat(
            f"/var/log/remote/{source.name}/archive",
            datetime(2026, 11, 1, 0, 0, 4, tzinfo=JST),
            mode="0750",
            gid=4,
        )


def add_proxy(spec: Spec) -> None:
    """Internet-zone hosts reach the web only through proxy-01 (自治体情報セキュリティクラウド)."""
    if spec.host.zone != "internet" or spec.host.role == "proxy":
        return
    proxy = "http://10.30.1.20:8080/"
    spec.template("/etc/environment", mtime=datetime(2026, 4, 1, 9, 0, tzinfo=JST), proxy=proxy)


BUILDERS = (
    add_sshd,
    add_pam,
    add_accounts,
    add_modules,
    add_logging,
    add_time,
    add_systemd,
    add_network,
    add_packages,
    add_malware,
    add_backup,
    add_screenlock,
    add_logs,
    add_proxy,
)


def declared_paths() -> list[str]:
    """Return the exact (glob-free) file paths the host parsers read: absent ones are collected as absent.

    A network device's exported configuration (subject netdev) is no path on a Linux host.
    """
    subjects = [s for s in SUBJECTS.values() if s.name != "netdev"]
    paths = {p for s in subjects for p in s.files if not any(c in p for c in "*?[")}
    return sorted(paths)


WINDOWS_BASELINE = WARD / "baseline" / "windows" / "terminal.json"


def windows_snapshot(spec: Spec) -> dict[str, Any]:
    """Return a Windows terminal's raw facts: the recorded collector output, moved to this scan's date."""
    base = json.loads(WINDOWS_BASELINE.read_text(encoding="utf-8"))
    shift = AT.date() - datetime.fromisoformat(base["collected_at"]).date()

    def moved(text: str) -> str:
        def one(m: re.Match[str]) -> str:
            sep = m.group(2)
            day = datetime.strptime(m.group(0), f"%Y{sep}%m{sep}%d").date() + shift
            return day.strftime(f"%Y{sep}%m{sep}%d")

        text = re.sub(r"(\d{4})([-/])\d{2}\2\d{2}", one, text)
        # The LGWAN zone's own time server, not the My Number zone's.
        return (
            text.replace("ntp1.mn.", "ntp1.lg.")
            .replace("10.10.1.5", "10.20.1.5")
            .replace("0x0A0A0105", "0x0A140105")
        )

    items = {}
    for item_id, item in base["items"].items():
        item = dict(item)
        if "stdout" in item:
            item["stdout"] = moved(item["stdout"])
            item["sha256"] = hashlib.sha256(item["stdout"].encode("utf-8")).hexdigest()
        items[item_id] = item
    return {"host": spec.name, "collected_at": iso(AT), "collector": dict(base["collector"]), "items": items}


def snapshot(spec: Spec, devs: list[dict[str, Any]]) -> dict[str, Any]:
    """Build one host's raw facts: the baseline, then its deviations (Windows: the recorded output)."""
    if spec.host.os == "windows":
        return windows_snapshot(spec)
    if spec.host.os == "linux":
        for build in BUILDERS:
            build(spec)
        deviations.apply(devs, spec)
    absent = [p for p in declared_paths() if p not in spec.files] if spec.host.os == "linux" else []
    raw = build_raw(
        host=spec.name,
        collected_at=iso(AT),
        files=spec.files,
        absent=absent,
        stats=spec.stats,
        probes=spec.probes,
    )
    raw = replace(raw, collector=dict(COLLECTOR))
    return raw.to_json()


def dump(obj: dict[str, Any]) -> str:
    """Serialise raw facts with one item per line: readable diffs at a fraction of the indented size."""
    head = {k: v for k, v in obj.items() if k != "items"}
    lines = [
        f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False, sort_keys=True)},"
        for k, v in sorted(head.items())
    ]
    items = [
        f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False, sort_keys=True)}"
        for k, v in sorted(obj["items"].items())
    ]
    body = "{\n" + ",\n".join(items) + "\n }" if items else "{}"
    return "{\n" + "\n".join(lines) + f'\n "items": {body}\n}}\n'
