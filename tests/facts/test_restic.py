"""restic as a backup source: recorded `restic snapshots --json` output, repository locations, and the probes run for real."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from scanner.collect.probes import PROBES
from scanner.facts import Context, restic
from scanner.facts.backup import parse
from scanner.inventory import Host, Inventory, Site, Zone
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "backup"
SNAPSHOTS = (OUT / "restic-snapshots.json").read_text()  # 9 snapshots, newest 2026-11-21T02:00:07+09:00
TIMERS = (Path(__file__).parent / "outputs" / "services" / "systemctl-timers.txt").read_text()
NOW = "2026-11-21T14:00:07+09:00"
SITES = {"honcho": Site("honcho", "office"), "dc-east": Site("dc-east", "external_dc")}
HOSTS = (
    Host("files-srv", "lgwan", "server", address="10.20.10.30", site="honcho"),
    Host("nas-01", "lgwan", "backup_storage", address="10.20.10.40", site="honcho"),
    Host("dc-vault", "lgwan", "backup_storage", address="10.30.0.10", site="dc-east"),
)
INV = Inventory(
    path=Path("."), name="t", zones={"lgwan": Zone("lgwan", "LGWAN", "LGWAN")}, sites=SITES, hosts=HOSTS
)
DC_REPO = "sftp:backup@10.30.0.10:/srv/restic/files-srv"


def facts(
    repository: Any = DC_REPO, snapshots: Any = SNAPSHOTS, host: str = "files-srv", status: str | None = None
) -> dict[str, Any]:
    probes = {
        "systemctl-timers": TIMERS,
        "restic-snapshots": snapshots,
        "restic-repository": repository + "\n",
    }
    raw = build_raw(
        collected_at=NOW,
        stats={restic.ENV_FILE: {"mode": "0600"}},
        files={"/var/lib/kijun/backup-status.json": status} if status else {},
        absent=[] if status else ["/var/lib/kijun/backup-status.json"],
        probes=probes,
    )
    target = INV.host(host)
    assert target is not None
    return parse(raw, Context(target, INV))


def test_recorded_snapshots_copied_to_the_external_dc() -> None:
    got = facts()
    assert got["configured"] is True and got["scheduled"] is True  # restic-backup.timer
    assert got["latest_age_hours"] == 12.0
    # restic forget --keep-daily 7 --keep-weekly 4 left 9 days in 4 ISO weeks
    assert (got["generations_daily"], got["generations_weekly"]) == (9, 4)
    assert got["offsite_age_hours"] == 12.0 and got["offsite_sites"] == ["dc-east"]
    assert got["restore_test_age_days"] is None and "last_result" not in got
    assert got["notes"] == []


@pytest.mark.parametrize(
    "repository,note",
    [
        ("sftp:backup@nas-01:/srv/restic", "is on nas-01 at site 'honcho': not offsite"),
        ("sftp:backup@10.20.10.40:/srv/restic", "is on nas-01 at site 'honcho': not offsite"),
        ("/srv/restic-repo", "is on files-srv at site 'honcho': not offsite"),
        ("sftp:backup@vault.example.jp:/srv", "its host is not in the inventory, so not offsite"),
        ("s3:https://s3.example.jp/bucket", "its host is not in the inventory, so not offsite"),
    ],
)
def test_repository_not_at_an_external_dc(repository: str, note: str) -> None:
    got = facts(repository)
    assert got["latest_age_hours"] == 12.0
    assert got["offsite_age_hours"] is None and got["offsite_sites"] == []
    assert got["notes"] == [
        f"restic repository {repository} {note}".replace(f"{repository} its", f"{repository}: its")
    ]


def test_the_dc_host_itself_is_not_offsite_for_its_own_backup() -> None:
    assert facts(host="dc-vault")["offsite_age_hours"] is None


def test_no_snapshot_of_this_host() -> None:
    got = facts(snapshots=(OUT / "restic-snapshots-empty.json").read_text())
    assert got["latest_age_hours"] is None and got["offsite_age_hours"] is None
    assert (got["generations_daily"], got["generations_weekly"]) == (0, 0)
    assert got["notes"] == [f"restic repository {DC_REPO} holds no snapshot of this host"]


@pytest.mark.parametrize("recorded", ["restic-snapshots-wrong-password", "restic-snapshots-unreachable"])
def test_failed_restic_run_raises_with_its_message(recorded: str) -> None:
    stderr = (OUT / f"{recorded}.stderr").read_text()
    with pytest.raises(ValueError, match=r"(?s)restic-snapshots failed \(rc 1\): .*Fatal"):
        facts(snapshots={"stdout": "", "rc": 1, "stderr": stderr})


def test_snapshot_after_the_collection_raises() -> None:
    future = SNAPSHOTS.replace("2026-11-21T02:00:07", "2099-11-21T02:00:07")
    assert future != SNAPSHOTS
    with pytest.raises(
        ValueError, match=r"newest snapshot time 2099-11-21T02:00:07.*is after the collection"
    ):
        facts(snapshots=future)


def test_configured_without_the_probes_raises() -> None:
    raw = build_raw(
        collected_at=NOW, stats={restic.ENV_FILE: {}}, absent=["/var/lib/kijun/backup-status.json"]
    )
    with pytest.raises(ValueError, match="probe restic-snapshots was not collected"):
        parse(raw, Context(HOSTS[0], INV))


def test_neither_source_configured() -> None:
    raw = build_raw(
        collected_at=NOW,
        stats={restic.ENV_FILE: {"exists": False}},
        absent=["/var/lib/kijun/backup-status.json"],
        probes={"systemctl-timers": TIMERS, "restic-snapshots": {"rc": 3}, "restic-repository": {"rc": 3}},
    )
    assert parse(raw, Context(HOSTS[0], INV)) == {"configured": False, "scheduled": True}


def test_status_file_and_restic_together_give_the_worse_job() -> None:
    status = (
        '{"tool": "pg_dump", "job": "db-dump", "last_success": "2026-11-20T01:00:07+09:00", '
        '"copies": [{"host": "dc-vault", "last_success": "2026-11-21T13:00:07+09:00"}], '
        '"generations": {"daily": 14, "weekly": 3}, "restore_test": {"date": "2026-10-01", "result": "success"}}'
    )
    both = facts(status=status)
    assert both["latest_age_hours"] == 37.0  # the dump is older than the snapshot
    assert both["offsite_age_hours"] == 12.0  # the dump's copy is fresher: the snapshot counts
    assert (both["generations_daily"], both["generations_weekly"]) == (9, 3)
    assert both["restore_test_age_days"] == pytest.approx(51.583, abs=0.001)
    same_site = facts("sftp:backup@nas-01:/srv", status=status)
    assert same_site["offsite_age_hours"] is None  # restic's copy is not offsite, so not every job is
    assert same_site["offsite_sites"] == ["dc-east"]


@pytest.mark.parametrize(
    "location,host",
    [
        ("sftp:dc-vault:/srv/restic", "dc-vault"),
        ("sftp:backup@10.30.0.10:relative/repo", "10.30.0.10"),
        ("sftp:backup@[2001:db8::5]:/srv/restic", "2001:db8::5"),
        ("sftp://backup@dc-vault:2222//srv/restic", "dc-vault"),
        ("rest:https://backup@dc-vault:8000/files-srv/", "dc-vault"),
        ("local:/srv/restic", ""),
        ("/srv/restic", ""),
        ("s3:s3.amazonaws.com/bucket", None),
        ("rclone:dc:restic", None),
    ],
)
def test_repository_host(location: str, host: str | None) -> None:
    assert restic.repository_host(location) == host


@pytest.mark.parametrize("text", ['{"time": "x"}', '[{"id": "a"}]', '[{"time": "2026-11-21T02:00:07"}]'])
def test_bad_snapshot_lists_raise(text: str) -> None:
    with pytest.raises(ValueError):
        restic.snapshot_times(text)


def test_unknown_location_raises() -> None:
    with pytest.raises(ValueError, match="unknown location format"):
        restic.repository_host("ftp://dc-vault/x")


# The probes, run by sh as the collector runs them, on an env file in a temporary folder.
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the probes insist on a root-owned env file")


def run_probe(name: str, env_file: Path, **env: str) -> subprocess.CompletedProcess[str]:
    script = PROBES[name].replace(restic.ENV_FILE, str(env_file))
    return subprocess.run(
        ["sh", "-c", script],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "LC_ALL": "C", **env},
        timeout=60,
        check=False,
    )


@needs_root
@pytest.mark.parametrize(
    "line,printed",
    [
        ("RESTIC_REPOSITORY=sftp:backup@dc-vault:/srv/restic", "sftp:backup@dc-vault:/srv/restic"),
        (
            'RESTIC_REPOSITORY="rest:https://backup:s3cr3t@dc-vault:8000/x/"',
            "rest:https://backup@dc-vault:8000/x/",
        ),
        ("  RESTIC_REPOSITORY='/srv/restic'  ", "/srv/restic"),
        # A password holding "@", ":" and "/": none of it is left (up to the last "@").
        ("RESTIC_REPOSITORY=rest:https://bk:s3cr3t@p:a/s@s3cr3t@host/r", "rest:https://bk@host/r"),
    ],
)
def test_repository_probe_prints_the_location_only(tmp_path: Path, line: str, printed: str) -> None:
    env_file = tmp_path / "restic.env"
    env_file.write_text(f"# the backup job's settings\nRESTIC_PASSWORD=s3cr3t\n{line}\nAWS_SECRET=x=y\n")
    env_file.chmod(0o600)
    run = run_probe("restic-repository", env_file)
    assert (run.returncode, run.stdout, run.stderr) == (0, printed + "\n", "")
    assert "s3cr3t" not in run.stdout + run.stderr


@needs_root
def test_probes_refuse_an_env_file_others_may_write(tmp_path: Path) -> None:
    env_file = tmp_path / "restic.env"
    env_file.write_text("RESTIC_REPOSITORY=/srv/restic\n")
    env_file.chmod(0o620)
    for name in restic.PROBES:
        run = run_probe(name, env_file)
        assert run.returncode == 3 and "only root can write" in run.stderr and run.stdout == ""
    env_file.unlink()
    assert run_probe("restic-snapshots", env_file).returncode == 3


@needs_root
@pytest.mark.skipif(shutil.which("restic") is None, reason="restic is not installed")
def test_snapshots_probe_lists_this_hosts_snapshots_from_a_real_repository(tmp_path: Path) -> None:
    env_file, repo, data = tmp_path / "restic.env", tmp_path / "repo", tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text("kijun\n")
    (tmp_path / "password").write_text("not-a-real-secret\n")
    env_file.write_text(
        f"RESTIC_REPOSITORY={repo}\nRESTIC_PASSWORD_FILE={tmp_path / 'password'}\nRESTIC_HOST=files-srv\n"
    )
    env_file.chmod(0o600)
    restic_env = {"RESTIC_REPOSITORY": str(repo), "RESTIC_PASSWORD_FILE": str(tmp_path / "password")}
    environ = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **restic_env}
    for argv in (
        ["init"],
        ["backup", "--host", "files-srv", str(data)],
        ["backup", "--host", "other", str(data)],
    ):
        subprocess.run(["restic", "--no-cache", *argv], env=environ, check=True, capture_output=True)
    run = run_probe("restic-snapshots", env_file)
    assert run.returncode == 0, run.stderr
    assert len(restic.snapshot_times(run.stdout)) == 1  # the other host's snapshot is not listed
    assert '"hostname":"files-srv"' in run.stdout and "not-a-real-secret" not in run.stdout
    assert list(tmp_path.glob(".cache")) == []  # --no-cache: the probe wrote nothing
