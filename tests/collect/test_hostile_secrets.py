"""Hostile trees: planted secrets never reach any file of a run folder, whichever way the tree is collected.

The same tree is scanned with `kijun scan --root` (files transport) and with `kijun scan --local`
inside a private mount namespace whose /etc and /home are the tree's (the sh collector, under dash
and under busybox with only its applets). Every file the run writes is then searched for every
planted secret, and the evidence must say what was refused and what was redacted.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOTP = "ZQSEVENTOTPSECRETABC"
# Every string here must appear in no file of the run folder.
NEEDLES = (
    "Zq7cronPW",  # RESTIC_PASSWORD= on a cron.d line
    "Zq7url",  # the password of rest:https://bk:Zq7url@part2Zq7@host/ ...
    "part2Zq7",  # ... and the part after its "@"
    "Zq7hashHASH",  # a crypt hash in /etc/passwd's second field
    "Zq7shadowHASH",  # shadow, read through a hard link under /etc/cron.d
    "Zq7keyBODY",  # a private key named client-key.pem.bak
    "Zq7tlsBODY",  # a private key named tls.KEY
    TOTP,  # a TOTP secret through a profile.d symlink
    "Zq7aptPW",  # a proxy password in an apt.conf URL
    "Zq7envPW",  # a proxy password in /etc/environment
    "Zq7pwdPW",  # rsyslog's pwd="..."
)


def _tree(root: Path) -> None:
    etc = root / "etc"
    for sub in ("cron.d", "ssh/sshd_config.d", "rsyslog.d", "profile.d", "pam.d", "apt/apt.conf.d"):
        (etc / sub).mkdir(parents=True, exist_ok=True)
    (etc / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/bash\ntoor:$6$saltsalt$Zq7hashHASH0123456789abcdef:0:0::/root:/bin/sh\n"
    )
    (etc / "group").write_text("root:x:0:\nsudo:x:27:\n")
    (etc / "shadow").write_text("root:$6$saltsalt$Zq7shadowHASH0123456789:19000:0:99999:7:::\n")
    os.link(etc / "shadow", etc / "cron.d/zz-shadow")
    (etc / "cron.d/backup").write_text(
        "0 3 * * * root RESTIC_PASSWORD=Zq7cronPW restic backup /etc\n"
        "0 4 * * * root restic -r rest:https://bk:Zq7url@part2Zq7@backup.example/ check\n"
    )
    os.mkfifo(etc / "cron.d/pipe")
    os.mkfifo(etc / "login.defs")
    (etc / "ssh/sshd_config").write_text("PermitRootLogin no\nInclude /etc/ssh/sshd_config.d/*\n")
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEZq7keyBODY\n-----END OPENSSH PRIVATE KEY-----\n"
    (etc / "ssh/sshd_config.d/client-key.pem.bak").write_text(key)
    (etc / "rsyslog.d/tls.KEY").write_text(
        "-----BEGIN RSA PRIVATE KEY-----\nZq7tlsBODY\n-----END RSA PRIVATE KEY-----\n"
    )
    (etc / "rsyslog.d/50-db.conf").write_text('action(type="ommysql" server="db" uid="log" pwd="Zq7pwdPW")\n')
    for home in (root / "root", root / "home/alice"):
        home.mkdir(parents=True, exist_ok=True)
        (home / ".google_authenticator").write_text(f'{TOTP}\n" RATE_LIMIT 3 30\n" TOTP_AUTH\n12345678\n')
    (etc / "profile.d/ga.sh").symlink_to("/root/.google_authenticator")
    (etc / "profile.d/gb.sh").symlink_to("/home/alice/.google_authenticator")
    (etc / "profile.d/tmout.sh").write_text("TMOUT=900\nreadonly TMOUT\n")
    (etc / "pam.d/common-auth").write_text(
        "auth required pam_google_authenticator.so secret=/home/${USER}/.google_authenticator nullok\n"
    )
    (etc / "apt/apt.conf.d/90proxy").write_text('Acquire::http::Proxy "http://u:Zq7aptPW@proxy:3128/";\n')
    (etc / "environment").write_text("http_proxy=http://u:Zq7envPW@proxy:3128/\n")


def _kijun(
    *args: str, env: dict[str, str] | None = None, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    code = "import sys; from scanner.cli import main; sys.argv[0] = 'kijun'; main()"
    return subprocess.run(
        [*prefix, sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        cwd=ROOT,
    )


def _leaks(folder: Path) -> list[str]:
    found = []
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert len(files) >= 3, files
    for path in files:
        data = path.read_bytes()
        if zipfile.is_zipfile(path):  # workbooks: search what they hold, not their compressed bytes
            with zipfile.ZipFile(path) as book:
                data += b"".join(book.read(name) for name in book.namelist())
        found += [f"{path.name}: {n}" for n in NEEDLES if n.encode() in data]
    return found


def _evidence(folder: Path) -> dict[str, dict[str, object]]:
    (path,) = list(folder.rglob("evidence/*.json"))
    items: dict[str, dict[str, object]] = json.loads(path.read_text())["items"]
    return items


def _check_evidence(items: dict[str, dict[str, object]], totp_link: str) -> None:
    def reason(item_id: str) -> str:
        return str(items[item_id].get("stderr", ""))

    assert "refused-private-key" in reason("stat:/etc/ssh/sshd_config.d/client-key.pem.bak")
    assert "refused-private-key" in reason("stat:/etc/rsyslog.d/tls.KEY")
    assert "refused-shadow" in reason("stat:/etc/cron.d/zz-shadow")
    assert "refused-link-target" in reason(f"stat:{totp_link}")
    assert items["file:/etc/cron.d/backup"]["redacted"] == 2
    assert items["file:/etc/passwd"]["redacted"] == 1
    assert "toor:REDACTED:0:0:" in str(items["file:/etc/passwd"]["content"])
    # Not secrets: a PAM secret= path and a profile script stay as they are.
    assert "secret=/home/${USER}/.google_authenticator" in str(
        items["file:/etc/pam.d/common-auth"]["content"]
    )
    assert items["file:/etc/profile.d/tmout.sh"]["content"] == "TMOUT=900\nreadonly TMOUT\n"
    assert "not-regular" in reason("stat:/etc/login.defs")
    assert "file:/etc/cron.d/pipe" not in items and "stat:/etc/cron.d/pipe" not in items


def test_scan_root_of_a_hostile_tree(tmp_path: Path) -> None:
    _tree(tmp_path / "host")
    out = tmp_path / "run"
    proc = _kijun("scan", "--root", str(tmp_path / "host"), "--out", str(out))
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    assert _leaks(out) == []
    assert not [n for n in NEEDLES if n in proc.stdout + proc.stderr]
    _check_evidence(_evidence(out), "/etc/profile.d/ga.sh")


def test_zone_policy_error_quotes_no_secret(tmp_path: Path) -> None:
    _tree(tmp_path / "host")
    proc = _kijun(
        "scan",
        "--root",
        str(tmp_path / "host"),
        "--probe",
        "--zone-policy",
        str(tmp_path / "host/etc/shadow"),
    )
    assert proc.returncode == 2
    assert "shadow" in proc.stderr and "Zq7shadowHASH" not in proc.stderr and "$6$" not in proc.stderr


def _busybox_path(tmp_path: Path) -> str:
    bindir = tmp_path / "bb"
    bindir.mkdir()
    applets = subprocess.run(["busybox", "--list"], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        (bindir / applet).symlink_to(shutil.which("busybox") or "")
    return f"{bindir}:{os.environ['PATH']}"


@pytest.mark.parametrize("shell", ["dash", "busybox"])
def test_local_collector_on_a_hostile_tree(tmp_path: Path, shell: str) -> None:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare for a private mount namespace")
    if shell == "busybox" and not shutil.which("busybox"):
        pytest.skip("busybox not installed")
    host = tmp_path / "host"
    _tree(host)
    out = tmp_path / "run"
    # The tree becomes this machine's /etc and /home in a namespace of its own; nothing else changes.
    binds = f'mount --bind {host}/etc /etc && mount --bind {host}/home /home && exec "$@"'
    prefix = ("unshare", "--mount", "--propagation", "private", "sh", "-c", binds, "ns")
    env = {"PATH": _busybox_path(tmp_path)} if shell == "busybox" else None
    proc = _kijun("scan", "--local", "--out", str(out), "--format", "json", env=env, prefix=prefix)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    assert _leaks(out) == []
    items = _evidence(out)
    _check_evidence(items, "/etc/profile.d/gb.sh")
