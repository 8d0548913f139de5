"""Backup proven for real: restic backs a lab host up over sftp to a host at the external data center; kijun judges it.

Three added hosts on the LGWAN bridge: ``bk-src`` (the server, site honcho), ``bk-dc`` (backup
storage at site dc-east, kind external_dc) and ``bk-nas`` (backup storage in the same office). The
source's root runs real restic with its own key and known_hosts; kijun scans the source over SSH
(become), where the restic probes read /etc/kijun/restic.env on the host: the password stays there.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scanner.inventory import Inventory
from scanner.policy import Pack
from scanner.rawfacts import RawFacts
from scanner.run import Options, scan
from tests.lab import addhost, sshhost
from tests.lab.lab import Lab
from tests.lab.netns import run

pytestmark = pytest.mark.lab

CONTROLS = ("BAK-01", "BAK-02")
CRON = "30 2 * * * root set -a; . /etc/kijun/restic.env; restic backup --quiet /srv/data\n"


@dataclass
class Site:
    """The built backup hosts and what the test needs to drive restic and scan."""

    lab: Lab
    inventory: Inventory
    known_hosts: Path
    password: str
    data: Path

    def repository(self, storage: str) -> str:
        return f"sftp:{sshhost.USER}@{self.lab.hosts[storage].address}:{self.lab.hosts[storage].home}/restic/bk-src"

    def restic(self, repository: str, *args: str) -> str:
        """Run restic as root on the source host (the backup job does this), UTC so that --time is exact."""
        env = [f"PATH={os.environ['PATH']}", "TZ=UTC", f"RESTIC_REPOSITORY={repository}"]
        env.append("RESTIC_PASSWORD_FILE=/etc/kijun/restic.pass")
        return self.lab.exec("bk-src", "env", "-i", *env, "restic", "--no-cache", *args).stdout.decode()

    def point_at(self, repository: str) -> None:
        """Write the source host's restic.env, as its administrator would."""
        env_file = self.lab.hosts["bk-src"].etc / "kijun" / "restic.env"
        env_file.write_text(
            f"# restic settings of the nightly backup (kijun reads them on this host)\n"
            f"RESTIC_REPOSITORY={repository}\nRESTIC_PASSWORD_FILE=/etc/kijun/restic.pass\n"
        )

    def backed_up(self, storage: str) -> str:
        """Make a repository on a storage host, back the data up into it, point the source at it; return it."""
        repository = self.repository(storage)
        self.restic(repository, "init")
        self.restic(repository, "backup", "--quiet", str(self.data))
        self.point_at(repository)
        return repository


@pytest.fixture(scope="module")
def site(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Add the three hosts (with /etc/kijun and /etc/cron.d as mount points), remove them afterwards."""
    made = addhost.mountpoints({"kijun", "cron.d"})
    names: list[str] = []
    try:
        for name, octet in (("bk-dc", 202), ("bk-nas", 203)):
            addhost.add(lab, addhost.Spec(name, "lgwan", octet))
            names.append(name)
        password = secrets.token_urlsafe(24)
        src = addhost.Spec(
            "bk-src",
            "lgwan",
            201,
            files={
                "kijun/restic.env": "",
                "kijun/restic.pass": password + "\n",
                "cron.d/restic-backup": CRON,
            },
            modes={"kijun/restic.env": 0o600, "kijun/restic.pass": 0o600},
            root_home=True,
        )
        addhost.add(lab, src)
        names.append("bk-src")
        _backup_key(lab, ["bk-dc", "bk-nas"])
        data = lab.dir / "data" / "bk-src"
        data.mkdir(parents=True)
        for i in range(3):
            (data / f"住民記録-{i}.csv").write_text(f"{i},kijun lab\n" * 100)
        folder = tmp_path_factory.mktemp("backup-site")
        inventory = addhost.inventory(
            lab,
            folder / "inventory.yaml",
            {"honcho": "office", "dc-east": "external_dc"},
            [
                {"name": "bk-src", "role": "server", "site": "honcho"},
                {"name": "bk-dc", "role": "backup_storage", "site": "dc-east"},
                {"name": "bk-nas", "role": "backup_storage", "site": "honcho"},
            ],
        )
        known = addhost.known_hosts(lab, names, folder / "known_hosts")
        yield Site(lab, inventory, known, password, data)
    finally:
        for name in names:
            addhost.remove(lab, name)
        addhost.unmake(made)


def _backup_key(lab: Lab, storages: list[str]) -> None:
    """Give the source's root an ssh key that the storages accept and their host keys to verify."""
    ssh = addhost.root_home(lab, "bk-src") / ".ssh"
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "restic@bk-src", "-f", str(ssh / "id_ed25519"))
    public = (ssh / "id_ed25519.pub").read_text()
    for name in storages:
        with open(lab.hosts[name].etc / "ssh" / "authorized_keys" / sshhost.USER, "a") as keys:
            keys.write(public)
    (ssh / "known_hosts").write_text("".join(f"{lab.hosts[n].address} {lab.host_key(n)}\n" for n in storages))
    (ssh / "config").write_text(
        "Host *\n    IdentityFile ~/.ssh/id_ed25519\n    IdentitiesOnly yes\n    BatchMode yes\n"
        "    StrictHostKeyChecking yes\n    UserKnownHostsFile ~/.ssh/known_hosts\n"
    )
    for path in (ssh / "config", ssh / "known_hosts"):
        path.chmod(0o600)


@pytest.fixture
def scanning(env: Lab, site: Site, monkeypatch: pytest.MonkeyPatch) -> Site:
    monkeypatch.setenv("KIJUN_KNOWN_HOSTS", str(site.known_hosts))
    return site


def verdicts(site: Site, pack: Pack) -> tuple[dict[str, str], RawFacts]:
    """Scan the source host with the backup controls only; return control -> status and its raw facts."""
    small = dataclasses.replace(pack, controls={c: pack.controls[c] for c in CONTROLS})
    run, raws = scan(site.inventory, small, [], Options(limit=("bk-src",), timeout=120))
    found = {f.control_id: f.status.value for f in run.findings if f.host == "bk-src"}
    assert set(found) == set(CONTROLS), [(h.name, h.status, h.message) for h in run.hosts]
    return found, raws["bk-src"]


def test_restic_backup_to_the_external_dc_then_stale_then_same_site(scanning: Site, pack: Pack) -> None:
    site = scanning
    dc = site.backed_up("bk-dc")
    found, raw = verdicts(site, pack)
    assert found == {"BAK-01": "pass", "BAK-02": "pass"}
    probe = raw.probe("restic-snapshots")
    assert probe is not None and probe.rc == 0 and len(json.loads(probe.text)) == 1
    assert raw.probe("restic-repository") is not None
    assert site.password not in json.dumps(raw.to_json())  # the repository password never left the host
    # The data really went over sftp into the data center host's repository.
    assert (site.lab.hosts["bk-dc"].home / "restic" / "bk-src" / "config").is_file()

    # The only snapshot forgotten, a new one dated two days back: older than the 30 hours allowed.
    snapshot = json.loads(site.restic(dc, "snapshots", "--json"))[0]["id"]
    site.restic(dc, "forget", snapshot)
    old = (datetime.now(UTC) - timedelta(hours=48)).strftime("%Y-%m-%d %H:%M:%S")
    site.restic(dc, "backup", "--quiet", "--time", old, str(site.data))
    assert verdicts(site, pack)[0] == {"BAK-01": "fail", "BAK-02": "fail"}

    # A fresh backup, but to the NAS in the same office: recent, yet no copy at the external DC.
    nas = site.backed_up("bk-nas")
    found, raw = verdicts(site, pack)
    assert found == {"BAK-01": "pass", "BAK-02": "fail"}
    assert raw.probe("restic-repository") is not None
    assert raw.probe("restic-repository").text.strip() == nas  # type: ignore[union-attr]
