"""Parser tests for subject 'backup': the generic status file, schedules and offsite copies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scanner.facts import Context
from scanner.facts.backup import parse
from scanner.inventory import Host, Inventory, Site, Zone
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "backup"
TIMERS = (Path(__file__).parent / "outputs" / "services" / "systemctl-timers.txt").read_text()
E2SCRUB = (OUT / "cron.d-e2scrub_all").read_text()
STATUS = json.loads((OUT / "backup-status.json").read_text())
NOW = "2026-11-21T14:00:41+09:00"
SITES = {
    "honcho": Site("honcho", "office"),
    "dc-east": Site("dc-east", "external_dc"),
    "dc-west": Site("dc-west", "external_dc"),
    "branch": Site("branch", "branch"),
}
HOSTS = (
    Host("web1", "lgwan", "server", site="honcho"),
    Host("backup1", "lgwan", "backup_storage", site="honcho"),
    Host("dc-backup1", "lgwan", "backup_storage", site="dc-east"),
    Host("dc-backup2", "lgwan", "backup_storage", site="dc-west"),
    Host("dc-app", "lgwan", "server", site="dc-west"),
)
INV = Inventory(
    path=Path("."), name="t", zones={"lgwan": Zone("lgwan", "LGWAN", "LGWAN")}, sites=SITES, hosts=HOSTS
)


def _facts(status: Any = STATUS, host: str = "web1", timers: Any = TIMERS, **files: Any) -> dict[str, Any]:
    all_files = {"/etc/cron.d/e2scrub_all": E2SCRUB, **files}
    if status is not None:
        all_files["/var/lib/kijun/backup-status.json"] = json.dumps(status)
    probes = {"systemctl-timers": timers} if timers is not None else {}
    host_record = INV.host(host)
    assert host_record is not None
    return parse(build_raw(collected_at=NOW, files=all_files, probes=probes), Context(host_record, INV))


def test_full_status() -> None:
    facts = _facts()
    assert facts["configured"] is True
    assert facts["scheduled"] is True  # restic-backup.timer
    assert facts["latest_age_hours"] == 12.0
    assert facts["last_result"] == "success"
    # dc-backup2 (dc-west) is fresher than dc-backup1 (dc-east); backup1 is in the same office
    assert facts["offsite_age_hours"] == pytest.approx(9.511, abs=0.001)
    assert facts["offsite_sites"] == ["dc-east", "dc-west"]
    assert facts["generations_daily"] == 7
    assert facts["generations_weekly"] == 4
    assert facts["restore_test_age_days"] == pytest.approx(37.584, abs=0.001)
    assert facts["notes"] == ["copy host 'old-tape-server' is not in the inventory: it does not count"]


def test_copies_at_the_hosts_own_site_are_not_offsite() -> None:
    facts = _facts(host="dc-app")  # itself at dc-west
    assert facts["offsite_sites"] == ["dc-east"]
    assert facts["offsite_age_hours"] == pytest.approx(33.511, abs=0.001)


def test_repository_itself_counts_as_a_copy() -> None:
    status = {**STATUS, "repository": {"host": "dc-backup1", "path": "/x"}, "copies": []}
    facts = _facts(status)
    assert facts["offsite_sites"] == ["dc-east"]
    assert facts["offsite_age_hours"] == 12.0


def test_no_offsite_copy_and_failed_restore_test() -> None:
    status = {**STATUS, "copies": [], "restore_test": {"date": "2026-11-01", "result": "failure"}}
    facts = _facts(status)
    assert facts["offsite_age_hours"] is None
    assert facts["offsite_sites"] == []
    assert facts["restore_test_age_days"] is None


def test_schedule_from_cron_or_not_at_all() -> None:
    status = {**STATUS, "tool": "borg", "job": "borgmatic"}
    assert (
        _facts(status, timers=None, **{"/etc/crontab": (OUT / "crontab-borg").read_text()})["scheduled"]
        is True
    )
    assert _facts(status)["scheduled"] is False  # only the restic timer exists
    # MAILTO naming the tool is not a job
    mail_only = "MAILTO=borgmatic@example\n"
    assert _facts(status, timers=None, **{"/etc/crontab": mail_only})["scheduled"] is False


def test_not_configured() -> None:
    raw = build_raw(
        collected_at=NOW, absent=["/var/lib/kijun/backup-status.json"], probes={"systemctl-timers": TIMERS}
    )
    assert parse(raw, Context(HOSTS[0], INV)) == {"configured": False, "scheduled": True}
    assert parse(build_raw(), Context(HOSTS[0], INV)) == {}


def test_never_succeeded() -> None:
    status = {"tool": "restic", "job": "x", "last_result": "failure", "repository": {"host": "dc-backup1"}}
    facts = _facts(status)
    assert "latest_age_hours" not in facts
    assert facts["offsite_age_hours"] is None
    assert facts["notes"] == ["copy on 'dc-backup1' has never succeeded"]


@pytest.mark.parametrize(
    "status",
    [
        {**STATUS, "last_success": "2026-11-21T02:00:41"},  # no offset
        {**STATUS, "copies": [{"last_success": NOW}]},  # copy without host
        ["not", "an", "object"],
        {**STATUS, "last_success": "2099-11-21T02:00:41+09:00"},  # after the collection (issue 9)
        {**STATUS, "copies": [{"host": "dc-backup2", "last_success": "2026-11-21T15:00:00+09:00"}]},
        {**STATUS, "restore_test": {"date": "2026-11-22", "result": "success"}},
    ],
)
def test_bad_status_raises(status: Any) -> None:
    with pytest.raises(ValueError):
        _facts(status)


def test_origins_name_the_status_file_lines() -> None:
    raw = build_raw(
        collected_at=NOW, files={"/var/lib/kijun/backup-status.json": json.dumps(STATUS, indent=2)}
    )
    origins = parse(raw, Context(HOSTS[0], INV))["_origins"]
    lines = json.dumps(STATUS, indent=2).splitlines()
    assert origins["latest_age_hours"]["file"] == "/var/lib/kijun/backup-status.json"
    assert '"last_success"' in lines[origins["latest_age_hours"]["line"] - 1]
    assert '"restore_test"' in lines[origins["restore_test_age_days"]["line"] - 1]
