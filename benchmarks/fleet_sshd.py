"""A simulated SSH fleet for the benchmark: one real sshd answering on N distinct loopback addresses.

As root the whole benchmark first moves into a private network namespace (nothing it listens on is
visible outside it, and parallel runs cannot collide on the port), and sshd runs in a private mount
namespace in which the login user's ``~/.bashrc`` is hidden: a server's root account runs no
``pyenv init``, and a heavy rc file would be charged to every session (once for kijun, once per
check for testinfra). Without root, sshd runs as the current user and logs in as that user.
"""

from __future__ import annotations

import contextlib
import ctypes
import getpass
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SSHD = "/usr/sbin/sshd"
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1

# The representative server of the full default policy: a マイナンバー系 server of 機密性3.
ZONE, ROLE, CLASSIFICATION = "mynumber", "server", "機密性3"
LABELS = {"system_category": "基幹情報系", "handles_my_number": "true", "mfa_admin": "true"}

_libc = ctypes.CDLL(None, use_errno=True)


def private_network() -> bool:
    """Move this process into a new network namespace with loopback up (root only); tell whether it did."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return False
    if _libc.unshare(CLONE_NEWNET) != 0:
        return False
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    return True


def die_with_parent() -> None:
    """In a child before exec: get SIGKILL when the benchmark dies, so no sshd outlives it."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def address(i: int) -> str:
    """Return the i-th fleet address: 127.1.0.1, ..., 127.1.0.254, 127.1.1.1, ..."""
    return f"127.{1 + i // (254 * 256)}.{(i // 254) % 256}.{i % 254 + 1}"


def free_port() -> int:
    """Return a TCP port that is free on 0.0.0.0 now."""
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Fleet:
    """The temp folder (keys, sshd config, known_hosts, inventory), the sshd process and the addresses."""

    dir: Path
    port: int
    user: str
    addresses: list[str]
    sshd: subprocess.Popen[bytes] | None = None
    masked: list[str] = field(default_factory=list)

    @property
    def key(self) -> Path:
        return self.dir / "client_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.dir / "known_hosts"

    @property
    def home(self) -> Path:
        """The HOME of the clients: empty, so no ~/.ssh/config, key or known_hosts of the user applies."""
        return self.dir / "home"

    def client_env(self) -> dict[str, str]:
        """Return the environment for kijun, ssh and testinfra: the fleet's HOME and known_hosts, no agent."""
        env = {k: v for k, v in os.environ.items() if k not in ("SSH_AUTH_SOCK", "KIJUN_TOFU")}
        env.update(HOME=str(self.home), KIJUN_KNOWN_HOSTS=str(self.known_hosts))
        return env


def _keygen(path: Path) -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kijun-bench", "-f", str(path)], check=True
    )
    return " ".join(Path(f"{path}.pub").read_text().split()[:2])


def _sshd_config(fleet: Fleet, parallel: int) -> str:
    return f"""\
# kijun benchmark: one sshd for the whole simulated fleet
Port {fleet.port}
ListenAddress 0.0.0.0
HostKey {fleet.dir}/host_ed25519
PidFile none
AuthorizedKeysFile {fleet.dir}/authorized_keys
StrictModes no
AllowUsers {fleet.user}
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
MaxStartups {max(2000, 4 * parallel)}:30:{max(4000, 8 * parallel)}
MaxSessions 100
LoginGraceTime 120
LogLevel ERROR
Subsystem sftp internal-sftp
"""


def start(hosts: int, parallel: int) -> Fleet:
    """Write keys, sshd config, known_hosts and the inventory; start sshd; return the fleet."""
    folder = Path(tempfile.mkdtemp(prefix="kijun-bench-"))
    folder.chmod(0o755)
    user = getpass.getuser()
    port = 2222 if os.geteuid() == 0 else free_port()
    fleet = Fleet(folder, port, user, [address(i) for i in range(hosts)])
    try:
        (fleet.home / ".ssh").mkdir(parents=True, mode=0o700)
        host_key = _keygen(folder / "host_ed25519")
        _keygen(fleet.key)
        (folder / "authorized_keys").write_text(Path(f"{fleet.key}.pub").read_text())
        fleet.known_hosts.write_text("".join(f"[{a}]:{port} {host_key}\n" for a in fleet.addresses))
        (folder / "sshd_config").write_text(_sshd_config(fleet, parallel))
        write_inventory(fleet)
        _run_sshd(fleet)
        return fleet
    except BaseException:
        stop(fleet)
        raise


def write_inventory(fleet: Fleet) -> Path:
    """Write the fleet's inventory: one ssh host per address, all the representative server."""
    labels = "".join(f"\n      {k}: {v}" for k, v in LABELS.items())
    lines = [
        "name: fleet-benchmark",
        "profile: base",
        "zones:",
        "  mynumber: {label_ja: マイナンバー利用事務系, cidrs: [127.0.0.0/8]}",
        "defaults:",
        "  transport: ssh",
        f"  zone: {ZONE}",
        f"  role: {ROLE}",
        f"  classification: {CLASSIFICATION}",
        f"  user: {fleet.user}",
        f"  port: {fleet.port}",
        f"  identity_file: {fleet.key}",
        f"  labels:{labels}",
        "hosts:",
    ]
    lines += [f"  - {{name: h{i + 1:05d}, address: {a}}}" for i, a in enumerate(fleet.addresses)]
    path = fleet.dir / "inventory.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run_sshd(fleet: Fleet) -> None:
    """Start sshd (as root: in a mount namespace hiding the login user's ~/.bashrc) and wait for it."""
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    argv = [SSHD, "-D", "-e", "-f", str(fleet.dir / "sshd_config")]
    rc = Path(pwd.getpwnam(fleet.user).pw_dir) / ".bashrc"
    if os.geteuid() == 0 and rc.exists() and shutil.which("unshare"):
        empty = fleet.dir / "empty-rc"
        empty.write_text("")
        fleet.masked.append(str(rc))
        script = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'
        mask = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"]
        argv = [*mask, str(empty), str(rc), *argv]
    log = open(fleet.dir / "sshd.log", "wb")  # noqa: SIM115 (closed with the process)
    fleet.sshd = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, preexec_fn=die_with_parent
    )
    log.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if fleet.sshd.poll() is not None:
            raise RuntimeError(f"sshd exited: {(fleet.dir / 'sshd.log').read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection((fleet.addresses[0], fleet.port), 1) as s:
            if s.recv(4).startswith(b"SSH-"):
                return
        time.sleep(0.05)
    raise RuntimeError("sshd did not answer within 10s")


def session_cpu(fleet: Fleet) -> float:
    """Return the CPU seconds sshd and every session it has reaped have used so far (the hosts' side).

    sshd reaps each connection's process, which reaped the session and the collector script's
    processes: their CPU adds up in sshd's cutime and cstime (/proc/PID/stat fields 14 to 17).
    """
    if fleet.sshd is None:
        return 0.0
    fields = Path(f"/proc/{fleet.sshd.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def settled_cpu(fleet: Fleet) -> float:
    """Return session_cpu once sshd has reaped the sessions that just ended (the figure stops moving)."""
    last = session_cpu(fleet)
    for _ in range(20):
        time.sleep(0.5)
        now = session_cpu(fleet)
        if now == last:
            break
        last = now
    return last


def stop(fleet: Fleet) -> None:
    """Stop sshd and remove the temp folder."""
    if fleet.sshd is not None and fleet.sshd.poll() is None:
        fleet.sshd.terminate()
        try:
            fleet.sshd.wait(timeout=5)
        except subprocess.TimeoutExpired:
            fleet.sshd.kill()
            fleet.sshd.wait(timeout=5)
    shutil.rmtree(fleet.dir, ignore_errors=True)
