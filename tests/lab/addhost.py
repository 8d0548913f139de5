"""Add hosts to a built SSH lab after the fact: a namespace on a zone's bridge, an /etc overlay, a real sshd.

Tests that need hosts of their own (backup sites, two-factor sshd) add them here rather than to the
lab's template, with an inventory of their own, and remove them when done. The hosts sit in
``lab.hosts`` under the lab's ``kj-<id>-<name>`` names, so the lab's teardown (or a later run's
stale cleanup) removes whatever a crashed test left behind.
"""

from __future__ import annotations

import contextlib
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scanner.inventory import Host, Inventory, load
from tests.lab import sshhost
from tests.lab.lab import Lab, LabHost
from tests.lab.sshhost import User as User  # the accounts of added hosts


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
    return sshhost.user_home(lab, name, "root")


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
    address = str(ipaddress.ip_network(lab.zones[spec.zone][0]).network_address + spec.octet)
    added = lab.host_entry(Host(spec.name, spec.zone, "server", address=address))
    lab.hosts[spec.name] = added  # first, so that any teardown finds a half-built host
    try:
        lab.add_host(spec.name, spec.zone, spec.octet)
        files = {**({f"ssh/sshd_config.d/50-{spec.name}.conf": spec.sshd} if spec.sshd else {}), **spec.files}
        sshhost.write_etc(
            lab,
            spec.name,
            added.home,
            dict(files),
            modes=spec.modes,
            users=spec.users,
            sudo="NOPASSWD: ALL",
            root_home=spec.root_home,
        )
        sshhost.start_sshd(lab, spec.name)
    except BaseException:
        remove(lab, spec.name)
        raise
    return added


def remove(lab: Lab, name: str) -> None:
    """Stop everything in the host's namespace, delete it and its overlay, and forget the host."""
    lab.hosts.pop(name)
    lab.remove_host(name)


def known_hosts(lab: Lab, names: list[str], path: Path) -> Path:
    """Write a known_hosts file for the named hosts (for KIJUN_KNOWN_HOSTS)."""
    return sshhost.known_hosts(lab, {n: lab.hosts[n].address for n in names}, path)


def inventory(lab: Lab, path: Path, sites: dict[str, str], hosts: list[dict[str, Any]]) -> Inventory:
    """Write and load an inventory of added hosts: the lab's zones, these sites, these hosts at their addresses."""
    doc = {
        "name": "kijun-lab-added",
        "zones": {
            name: {"label_ja": z.label_ja, "label_en": z.label_en, "cidrs": list(z.cidrs)}
            for name, z in lab.inventory.zones.items()
        },
        "sites": {name: {"kind": kind} for name, kind in sites.items()},
        "defaults": {"user": sshhost.USER, "transport": "ssh", "become": True},
        "hosts": [
            {**h, "address": lab.hosts[h["name"]].address, "zone": lab.hosts[h["name"]].host.zone}
            for h in hosts
        ],
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return load(path)
