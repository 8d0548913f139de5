"""What makes a lab namespace a real SSH host: its /etc overlay (accounts, sshd, keys, sudo), sshd, the client.

Every lab (tests/lab/lab.py, addhost.py, zonehosts.py) writes its hosts with ``write_etc`` and
starts them with ``start_sshd``; ``ip netns exec`` mounts ``/etc/netns/<ns>`` over /etc, so no
file of the machine is touched. The scanner logs in as ``kijun`` with the lab's own key.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.lab.netlab import Net
from tests.lab.netns import SSHD, run

USER, UID = "kijun", 2901

# Every lab sshd: its own host key, keys under /etc/ssh (no home directory of the machine is touched),
# and no pid file in /run, which the namespaces share with the machine.
COMMON = """\
# kijun lab
HostKey /etc/ssh/ssh_host_ed25519_key
AuthorizedKeysFile /etc/ssh/authorized_keys/%u
PidFile none
"""


@dataclass(frozen=True)
class User:
    """A login account of a lab host besides kijun, with a home in the lab's folder (``user_home``)."""

    name: str
    uid: int
    password_hash: str = "*"
    home_files: dict[str, str] = field(default_factory=dict)  # name -> content, mode 0600


def user_home(lab: Net, host: str, user: str) -> Path:
    """Return the home of a host's user (kijun's is the lab's own; "root" when ``write_etc`` moves it)."""
    return lab.dir / "home" / f"{host}.{user}"


def client(lab: Net, config: str) -> None:
    """Make the scanner's HOME: the lab key, and ``config`` as its ~/.ssh/config."""
    ssh = lab.home / ".ssh"
    ssh.mkdir(parents=True, mode=0o700)
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"kijun-lab-{lab.id}", "-f", str(lab.key))
    (ssh / "config").write_text(f"# kijun lab {lab.id}\n{config}")


def client_config(**hosts: str) -> str:
    """Return the scanner's ssh config: these ``Host`` aliases (name -> address), then the lab user and key."""
    named = "".join(f"Host {name}\n    HostName {address}\n\n" for name, address in hosts.items())
    return f"{named}Host *\n    User {USER}\n    IdentityFile ~/.ssh/lab_ed25519\n    IdentitiesOnly yes\n"


def write_etc(
    lab: Net,
    name: str,
    home: Path,
    files: dict[str, str | bytes],
    *,
    modes: dict[str, int] | None = None,
    users: tuple[User, ...] = (),
    sudo: str = "",
    host_keys: tuple[str, ...] = ("ed25519",),
    shell: str = "/bin/sh",
    root_home: bool = False,
) -> None:
    """Write a host's /etc overlay: the kijun account (home ``home``), ``users``, sshd config and keys, sudo, ``files``.

    ``files`` are relative to /etc (mode 0644, sudoers.d 0440, unless ``modes`` says otherwise);
    ``sudo`` is the kijun sudoers rule ("NOPASSWD: ALL"), none when empty; ``root_home`` moves
    root's home into the lab folder, so that root's ssh client reads the host's own ~/.ssh.
    """
    etc = lab.etc(name)
    (etc / "ssh" / "sshd_config.d").mkdir(parents=True)
    (etc / "sudoers.d").mkdir(mode=0o750)
    for copied in ("sshd_config", "moduli", "ssh_config"):
        shutil.copy2(Path("/etc/ssh", copied), etc / "ssh" / copied)
    for kind in host_keys:
        key = etc / "ssh" / f"ssh_host_{kind}_key"
        run("ssh-keygen", "-q", "-t", kind, "-N", "", "-C", f"{name}@kijun-lab", "-f", str(key))
    (etc / "ssh" / "authorized_keys").mkdir()
    (etc / "ssh" / "authorized_keys" / USER).write_text(Path(f"{lab.key}.pub").read_text())
    everything = {
        "ssh/sshd_config.d/00-lab.conf": COMMON,
        **({"sudoers.d/kijun": f"{USER} ALL=(ALL) {sudo}\n"} if sudo else {}),
        **files,
    }
    for rel, text in everything.items():
        path = etc / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        path.chmod((modes or {}).get(rel, 0o440 if rel.startswith("sudoers.d/") else 0o644))
    accounts = [
        (User(USER, UID), home, shell),
        *((u, user_home(lab, name, u.name), "/bin/sh") for u in users),
    ]
    passwd = Path("/etc/passwd").read_text()
    if root_home:
        moved = user_home(lab, name, "root")
        (moved / ".ssh").mkdir(parents=True, mode=0o700)
        passwd = "".join(
            f"root:x:0:0:root:{moved}:/bin/sh\n" if line.startswith("root:") else line + "\n"
            for line in passwd.splitlines()
        )
    days = int(time.time() // 86400)
    (etc / "passwd").write_text(
        passwd + "".join(f"{u.name}:x:{u.uid}:{u.uid}:kijun lab:{h}:{sh}\n" for u, h, sh in accounts)
    )
    (etc / "group").write_text(
        Path("/etc/group").read_text() + "".join(f"{u.name}:x:{u.uid}:\n" for u, _, _ in accounts)
    )
    (etc / "shadow").write_text(
        Path("/etc/shadow").read_text()
        + "".join(f"{u.name}:{u.password_hash}:{days}:0:99999:7:::\n" for u, _, _ in accounts)
    )
    (etc / "shadow").chmod(0o640)
    for user, user_dir, _ in accounts:
        user_dir.mkdir(parents=True, mode=0o700)
        for file_name, text in user.home_files.items():
            (user_dir / file_name).write_text(text)
            (user_dir / file_name).chmod(0o600)
            os.chown(user_dir / file_name, user.uid, user.uid)
        os.chown(user_dir, user.uid, user.uid)


def start_sshd(lab: Net, name: str) -> subprocess.Popen[bytes]:
    """Start sshd in the host's namespace and wait until it listens."""
    argv = [SSHD, "-D", "-e", "-f", "/etc/ssh/sshd_config"]
    return lab.spawn(name, argv, "Server listening on 0.0.0.0 port 22", "sshd")


def known_hosts(lab: Net, addresses: dict[str, str], path: Path) -> Path:
    """Write a known_hosts file with the ed25519 keys of these hosts (name -> address)."""
    path.write_text("".join(f"{address} {lab.host_key(name)}\n" for name, address in addresses.items()))
    return path
