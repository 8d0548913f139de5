"""restic as a backup source: its snapshots and the inventory host holding its repository, from the restic-* probes.

The probes read the host's ``/etc/kijun/restic.env`` on the host itself (scanner/collect/probes.py):
``restic-snapshots`` prints ``restic snapshots --json`` for this host's snapshots, and
``restic-repository`` the repository location without any password. Helper of scanner/facts/backup.py.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from urllib.parse import urlsplit

from scanner.inventory import Host, Inventory
from scanner.rawfacts import RawFacts

ENV_FILE = "/etc/kijun/restic.env"
PROBES = ("restic-snapshots", "restic-repository")
# Backends that name no host of an inventory: cloud storage and rclone remotes.
_NO_HOST = ("s3:", "b2:", "azure:", "gs:", "swift:", "rclone:")
_SFTP = re.compile(r"sftp:(?:[^@/]+@)?(\[[^\]]+\]|[^:/\[\]]+):.*")


def output(raw: RawFacts, name: str) -> str:
    """Return a restic probe's output; raise when it was not collected or failed (the backup state is then unknown)."""
    item = raw.probe(name)
    if item is None:
        raise ValueError(f"{ENV_FILE} exists but probe {name} was not collected")
    if item.rc != 0:
        raise ValueError(f"{name} failed (rc {item.rc}): {item.stderr.strip()[-300:]}")
    return item.text


def snapshot_times(text: str) -> list[datetime]:
    """Return the times of the snapshots that `restic snapshots --json` lists, oldest first.

    >>> snapshot_times('[{"time": "2026-11-21T02:00:07.5+09:00"}]')[0].isoformat()
    '2026-11-21T02:00:07.500000+09:00'
    """
    listed = json.loads(text)
    if not isinstance(listed, list):
        raise ValueError("restic snapshots: not a JSON list")
    times = []
    for snapshot in listed:
        when = snapshot.get("time") if isinstance(snapshot, dict) else None
        if not isinstance(when, str):
            raise ValueError(f"restic snapshots: snapshot without time: {snapshot!r}")
        # restic prints RFC 3339 with nanoseconds; fromisoformat keeps the microseconds.
        moment = datetime.fromisoformat(when)
        if moment.tzinfo is None:
            raise ValueError(f"restic snapshots: time without offset: {when!r}")
        times.append(moment)
    return sorted(times)


def generations(times: list[datetime]) -> tuple[int, int]:
    """Return (days, ISO weeks) that have a snapshot, in the host's own time as restic recorded it."""
    return len({t.date() for t in times}), len({t.isocalendar()[:2] for t in times})


def repository_host(location: str) -> str | None:
    """Return the host a repository location names: "" for a path on this host, None when it names none.

    >>> repository_host("sftp:backup@dc-vault:/srv/restic/files-srv")
    'dc-vault'
    """
    location = location.strip()
    if location.startswith(("/", "local:")):
        return ""
    if location.startswith(("sftp://", "rest:")):
        return urlsplit(location.removeprefix("rest:")).hostname or None
    found = _SFTP.fullmatch(location)
    if found:
        return found.group(1).strip("[]")
    if location.startswith(_NO_HOST):
        return None
    raise ValueError(f"restic repository: unknown location format {location!r}")


def inventory_host(inventory: Inventory, name: str) -> Host | None:
    """Return the inventory host with this name or address."""
    return inventory.first(("address", name), ("lower", name.lower()))
