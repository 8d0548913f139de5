"""Add hosts to a built lab after the fact: a namespace on a zone's bridge, an /etc overlay, a real sshd.

Tests that need hosts of their own (backup sites, two-factor sshd) add them here rather than to the
lab's template, with an inventory of their own, and remove them when done. The hosts sit in
``lab.hosts`` under the lab's ``kj-<id>-<name>`` names, so the lab's teardown (or a later run's
stale cleanup) removes whatever a crashed test left behind.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scanner.inventory import Host, Inventory, load
from tests.lab import hosts as profiles
from tests.lab.lab import NETNS_ETC, SSHD, Lab, LabHost, run


@dataclass(frozen=True)
class User:
    """A login account of an added host, with a home in the lab's folder."""

    name: str
    uid: int
    password_hash: str = "*"
    home_files: dict[str, str] = field(default_factory=dict)  # name -> content, mode 0600


@dataclass(frozen=True)
class Spec:
    """What an added host is: its zone and address, sshd settings, /etc files and accounts."""

    name: str
    zone: str
    octet: int  # last part of its address in the zone's subnet
    sshd: str = ""  # sshd_config.d/50-<name>.conf
    files: dict[str, str] = field(default_factory=dict)  # relative to /etc
    modes: dict[str, int] = field(default_factory=dict)  # relative to /etc; 0644 when not given
    users: tuple[User, ...] = ()
    # root's home moved into the lab folder, so that root's ssh client reads the host's own ~/.ssh
    root_home: bool = False


def root_home(lab: Lab, name: str) -> Path:
    return lab.dir / "home" / f"{name}.root"


def user_home(lab: Lab, name: str, user: str) -> Path:
    return lab.dir / "home" / f"{name}.{user}"


def mountpoints(entries: set[str]) -> list[Path]:
    """Create the /etc entries an overlay needs and the machine lacks; return those made (remove them after)."""
    # `ip netns exec` mounts /etc/netns/<ns>/<entry> over /etc/<entry> only when that exists.
    made = []
    for entry in sorted(entries):
        path = Path("/etc", entry)
        if not path.exists():
            path.mkdir(mode=0o755)
            made.append(path)
    return made


def unmake(made: list[Path]) -> None:
    for path in made:
        with contextlib.suppress(OSError):
            path.rmdir()  # fails, as it should, when something was put there meanwhile


def add(lab: Lab, spec: Spec) -> LabHost:
    """Build one host in the lab and start its sshd; on failure, remove what was made and re-raise."""
    net = ipaddress.ip_network(lab.inventory.zones[spec.zone].cidrs[0])
    host = Host(spec.name, spec.zone, "server", address=str(net.network_address + spec.octet))
    added = LabHost(
        host, f"kj-{lab.id}-{spec.name}", NETNS_ETC / f"kj-{lab.id}-{spec.name}", lab.dir / "home" / spec.name
    )
    lab.hosts[spec.name] = added  # first, so that any teardown finds a half-built host
    try:
        _network(lab, added, net)
        _etc(lab, added, spec)
        _start(lab, added)
    except BaseException:
        remove(lab, spec.name)
        raise
    return added


def _network(lab: Lab, host: LabHost, net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> None:
    """Put the host on its zone's bridge in the router, with routes to the other lab zones."""
    run("ip", "netns", "add", host.ns)
    peer = f"x{host.address.rsplit('.', 1)[1]}-{host.host.name}"[:15]
    run(
        "ip",
        "link",
        "add",
        "eth0",
        "netns",
        host.ns,
        "type",
        "veth",
        "peer",
        "name",
        peer,
        "netns",
        lab.router,
    )
    run(
        "ip",
        "netns",
        "exec",
        lab.router,
        "ip",
        "link",
        "set",
        peer,
        "master",
        f"br-{host.host.zone}"[:15],
        "up",
    )
    gateway = str(net.network_address + 1)
    cmds = [
        ["ip", "link", "set", "lo", "up"],
        ["ip", "link", "set", "eth0", "up"],
        ["ip", "addr", "add", f"{host.address}/{net.prefixlen}", "dev", "eth0"],
    ]
    cmds += [
        ["ip", "route", "add", z.cidrs[0], "via", gateway]
        for z in lab.inventory.zones.values()
        if z.cidrs[0] != str(net)
    ]
    for cmd in cmds:
        run("ip", "netns", "exec", host.ns, *cmd)


def _etc(lab: Lab, host: LabHost, spec: Spec) -> None:
    """Write the host's /etc overlay: accounts, sudo for the scanner, sshd config and keys, the spec's files."""
    etc = host.etc
    (etc / "ssh" / "sshd_config.d").mkdir(parents=True)
    for name in ("sshd_config", "moduli", "ssh_config"):
        shutil.copy2(Path("/etc/ssh", name), etc / "ssh" / name)
    key = etc / "ssh" / "ssh_host_ed25519_key"
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{spec.name}@kijun-lab", "-f", str(key))
    (etc / "ssh" / "authorized_keys").mkdir()
    (etc / "ssh" / "authorized_keys" / profiles.USER).write_text(Path(f"{lab.key}.pub").read_text())
    files = {
        "ssh/sshd_config.d/00-lab.conf": profiles.COMMON,
        "sudoers.d/kijun": f"{profiles.USER} ALL=(ALL) NOPASSWD: ALL\n",
        **({f"ssh/sshd_config.d/50-{spec.name}.conf": spec.sshd} if spec.sshd else {}),
        **spec.files,
    }
    modes = {"sudoers.d/kijun": 0o440, **spec.modes}
    for rel, text in files.items():
        path = etc / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(modes.get(rel, 0o644))
    accounts = [(profiles.USER, profiles.UID, "*", host.home)]
    accounts += [(u.name, u.uid, u.password_hash, user_home(lab, spec.name, u.name)) for u in spec.users]
    passwd = Path("/etc/passwd").read_text()
    if spec.root_home:
        home = root_home(lab, spec.name)
        (home / ".ssh").mkdir(parents=True, mode=0o700)
        passwd = "".join(
            f"root:x:0:0:root:{home}:/bin/sh\n" if line.startswith("root:") else line + "\n"
            for line in passwd.splitlines()
        )
    days = int(time.time() // 86400)
    (etc / "passwd").write_text(passwd + "".join(f"{n}:x:{u}:{u}::{h}:/bin/sh\n" for n, u, _, h in accounts))
    (etc / "group").write_text(
        Path("/etc/group").read_text() + "".join(f"{n}:x:{u}:\n" for n, u, _, _ in accounts)
    )
    shadow = Path("/etc/shadow").read_text() + "".join(
        f"{n}:{p}:{days}:0:99999:7:::\n" for n, _, p, _ in accounts
    )
    (etc / "shadow").write_text(shadow)
    (etc / "shadow").chmod(0o640)
    for name, uid, _, home in accounts:
        home.mkdir(parents=True, mode=0o700)
        user = next((u for u in spec.users if u.name == name), None)
        for file_name, text in (user.home_files if user else {}).items():
            (home / file_name).write_text(text)
            (home / file_name).chmod(0o600)
            os.chown(home / file_name, uid, uid)
        os.chown(home, uid, uid)


_PROCS: dict[str, subprocess.Popen[bytes]] = {}  # namespace -> its sshd


def _start(lab: Lab, host: LabHost) -> None:
    """Start sshd in the host's namespace and wait until it listens."""
    log = lab.dir / "logs" / f"{host.host.name}.log"
    log.parent.mkdir(exist_ok=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", host.ns, SSHD, "-D", "-e", "-f", "/etc/ssh/sshd_config"],
            stdout=out,
            stderr=out,
            stdin=subprocess.DEVNULL,
        )
    lab.procs.append(proc)  # so that the lab's teardown stops it if this module does not
    _PROCS[host.ns] = proc
    deadline = time.monotonic() + 10
    while "Server listening on 0.0.0.0 port 22" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{host.host.name}: sshd did not start: {log.read_text(errors='replace')}")
        time.sleep(0.01)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def remove(lab: Lab, name: str) -> None:
    """Stop everything in the host's namespace, delete it and its overlay, and forget the host."""
    host = lab.hosts.pop(name)
    proc = _PROCS.pop(host.ns, None)
    if proc is not None:
        proc.terminate()
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=2)
        lab.procs.remove(proc)
    pids = [int(p) for p in run("ip", "netns", "pids", host.ns, check=False).stdout.split()]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.02)
    run("ip", "netns", "del", host.ns, check=False)
    shutil.rmtree(host.etc, ignore_errors=True)


def known_hosts(lab: Lab, names: list[str], path: Path) -> Path:
    """Write a known_hosts file for the named hosts (for KIJUN_KNOWN_HOSTS)."""
    path.write_text("".join(f"{lab.hosts[n].address} {lab.host_key(n)}\n" for n in names))
    return path


def inventory(lab: Lab, path: Path, sites: dict[str, str], hosts: list[dict[str, Any]]) -> Inventory:
    """Write and load an inventory of added hosts: the lab's zones, these sites, these hosts at their addresses."""
    doc = {
        "name": "kijun-lab-added",
        "zones": {
            name: {"label_ja": z.label_ja, "label_en": z.label_en, "cidrs": list(z.cidrs)}
            for name, z in lab.inventory.zones.items()
        },
        "sites": {name: {"kind": kind} for name, kind in sites.items()},
        "defaults": {"user": profiles.USER, "transport": "ssh", "become": True},
        "hosts": [
            {**h, "address": lab.hosts[h["name"]].address, "zone": lab.hosts[h["name"]].host.zone}
            for h in hosts
        ],
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return load(path)
