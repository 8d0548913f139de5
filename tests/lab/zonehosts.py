"""What runs on zone lab hosts: a real sshd with the collector's user and sudo, a listener, a host firewall.

tests/lab/zones.py builds the network; this module gives each host its /etc overlay
(``/etc/netns/<namespace>``, which ``ip netns exec`` mounts over /etc) and starts its processes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tests.lab import zonespec
from tests.lab.lab import NETNS_ETC, SSHD, run
from tests.lab.zonespec import Spec

if TYPE_CHECKING:
    from tests.lab.zones import ZoneLab

UID = 2901
LISTEN = """\
import selectors, socket, sys
sel = selectors.DefaultSelector()
for port in sys.argv[1:]:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(port))); s.listen(64); sel.register(s, selectors.EVENT_READ)
print("ready", flush=True)
while True:
    for key, _ in sel.select():
        key.fileobj.accept()[0].close()
"""

# A resolver that answers every query (NXDOMAIN): enough for a DNS query to get an application answer.
DNS = """\
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 53))
t = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
t.bind(("::", 53))
print("ready", flush=True)
import selectors
sel = selectors.DefaultSelector(); sel.register(s, selectors.EVENT_READ); sel.register(t, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        data, peer = key.fileobj.recvfrom(512)
        if len(data) >= 12:
            key.fileobj.sendto(data[:2] + bytes([0x81, 0x83]) + data[4:6] + bytes(6) + data[12:], peer)
"""


def client(lab: ZoneLab) -> None:
    """Make the scanner's HOME: the lab key and an ssh config naming it."""
    ssh = lab.home / ".ssh"
    ssh.mkdir(parents=True, mode=0o700)
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"kijun-zones-{lab.id}", "-f", str(lab.key))
    (ssh / "config").write_text(
        f"Host *\n    User {zonespec.USER}\n    IdentityFile {lab.key}\n    IdentitiesOnly yes\n"
    )


def _etc(lab: ZoneLab, spec: Spec) -> None:
    """Write a sshd host's /etc overlay: the kijun user with sudo, sshd config and keys, its environment."""
    etc = NETNS_ETC / lab.ns(spec.name)
    (etc / "ssh" / "sshd_config.d").mkdir(parents=True)
    (etc / "sudoers.d").mkdir(mode=0o750)
    home = lab.dir / "home" / spec.name
    home.mkdir(parents=True)
    os.chown(home, UID, UID)
    for name, line in (
        ("passwd", f"{zonespec.USER}:x:{UID}:{UID}:kijun lab:{home}:/bin/sh\n"),
        ("group", f"{zonespec.USER}:x:{UID}:\n"),
        ("shadow", f"{zonespec.USER}:*:19000:0:99999:7:::\n"),
    ):
        (etc / name).write_text(Path("/etc", name).read_text() + line)
    os.chmod(etc / "shadow", 0o640)
    for name in ("sshd_config", "moduli", "ssh_config"):
        shutil.copy2(Path("/etc/ssh", name), etc / "ssh" / name)
    (etc / "ssh" / "sshd_config.d" / "00-lab.conf").write_text(
        "HostKey /etc/ssh/ssh_host_ed25519_key\nAuthorizedKeysFile /etc/ssh/authorized_keys/%u\nPidFile none\n"
    )
    key = etc / "ssh" / "ssh_host_ed25519_key"
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{spec.name}@kijun-zones", "-f", str(key))
    (etc / "ssh" / "authorized_keys").mkdir()
    (etc / "ssh" / "authorized_keys" / zonespec.USER).write_text(Path(f"{lab.key}.pub").read_text())
    (etc / "sudoers.d" / "kijun").write_text(f"{zonespec.USER} ALL=(ALL) NOPASSWD: ALL\n")
    (etc / "sudoers.d" / "kijun").chmod(0o440)
    if spec.env:
        (etc / "environment").write_text(spec.env)


def _wait(lab: ZoneLab, log: Path, ready: str, what: str) -> None:
    deadline = time.monotonic() + 15
    while ready not in log.read_text(errors="replace"):
        if lab.procs[-1].poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start: {log.read_text(errors='replace')}")
        time.sleep(0.01)


def listen(lab: ZoneLab, spec: Spec, ports: tuple[int, ...], tag: str) -> subprocess.Popen[bytes]:
    """Start a listener on more ports of a host (a test stops it); return its process."""
    _spawn(lab, spec, [sys.executable, "-c", LISTEN, *map(str, ports)], "ready", tag)
    return lab.procs[-1]


def _spawn(lab: ZoneLab, spec: Spec, argv: list[str], ready: str, tag: str) -> None:
    log = lab.dir / "logs" / f"{spec.name}-{tag}.log"
    log.parent.mkdir(exist_ok=True)
    with open(log, "wb") as out:
        lab.procs.append(
            subprocess.Popen(["ip", "netns", "exec", lab.ns(spec.name), *argv], stdout=out, stderr=out)
        )
    _wait(lab, log, ready, f"{spec.name} {tag}")


def start(lab: ZoneLab, spec: Spec) -> None:
    """Start a host's sshd and listener, and load its host firewall (sshd hosts only)."""
    if spec.sshd:
        _etc(lab, spec)
        _spawn(
            lab, spec, [SSHD, "-D", "-e", "-f", "/etc/ssh/sshd_config"], "Server listening on 0.0.0.0", "sshd"
        )
        firewall = zonespec.host_firewall(spec).encode()
        run("ip", "netns", "exec", lab.ns(spec.name), "nft", "-f", "-", input=firewall)
    if spec.listen:
        _spawn(lab, spec, [sys.executable, "-c", LISTEN, *map(str, spec.listen)], "ready", "listen")
    if spec.dns:
        _spawn(lab, spec, [sys.executable, "-c", DNS], "ready", "dns")


def known_hosts(lab: ZoneLab) -> None:
    """Write the scanner's known_hosts with every sshd host's key."""
    lines = []
    for spec in lab.specs.values():
        pub = NETNS_ETC / lab.ns(spec.name) / "ssh" / "ssh_host_ed25519_key.pub"
        if spec.sshd:
            lines.append(f"{lab.address(spec.name)} {' '.join(pub.read_text().split()[:2])}\n")
    if lines:
        (lab.home / ".ssh" / "known_hosts").write_text("".join(lines))
