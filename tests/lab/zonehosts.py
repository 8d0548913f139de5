"""What runs on zone lab hosts: a real sshd with the collector's user and sudo, a listener, a host firewall.

tests/lab/zones.py builds the network; this module gives each host its /etc overlay (with
tests/lab/sshhost.py, as every lab host) and starts its processes.
"""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

from tests.lab import sshhost, zonespec
from tests.lab.zonespec import Spec

if TYPE_CHECKING:
    from tests.lab.zones import ZoneLab

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


def listen(lab: ZoneLab, spec: Spec, ports: tuple[int, ...], tag: str) -> subprocess.Popen[bytes]:
    """Start a listener on more ports of a host (a test stops it); return its process."""
    return lab.spawn(spec.name, [sys.executable, "-c", LISTEN, *map(str, ports)], "ready", tag)


def start(lab: ZoneLab, spec: Spec) -> None:
    """Start a host's sshd and listener, and load its host firewall (sshd hosts only)."""
    if spec.sshd:
        env = {"environment": spec.env} if spec.env else {}
        sshhost.write_etc(lab, spec.name, lab.dir / "home" / spec.name, dict(env), sudo="NOPASSWD: ALL")
        sshhost.start_sshd(lab, spec.name)
        lab.exec(spec.name, "nft", "-f", "-", input=zonespec.host_firewall(spec).encode())
    if spec.listen:
        listen(lab, spec, spec.listen, "listen")
    if spec.dns:
        lab.spawn(spec.name, [sys.executable, "-c", DNS], "ready", "dns")


def start_all(lab: ZoneLab) -> None:
    """Make the scanner's HOME (when any host runs sshd), start every host, write the scanner's known_hosts."""
    sshd = {s.name: lab.address(s.name) for s in lab.specs.values() if s.sshd}
    if sshd:
        sshhost.client(lab, sshhost.client_config())
    for spec in lab.specs.values():
        start(lab, spec)
    if sshd:
        sshhost.known_hosts(lab, sshd, lab.home / ".ssh" / "known_hosts")
