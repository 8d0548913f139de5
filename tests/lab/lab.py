"""The SSH lab: the hosts of inventories/lab/inventory.yaml, each a real sshd (or a silent listener) in the lab.

tests/lab/netlab.py builds the network (a router, a bridge per zone, a namespace per host, the
scanner on mgmt); tests/lab/hosts.py says what each host is (sshd settings, sudo, hostile files)
and what the router lets through. The template's addresses move to the run's own 10.x prefix.
"""

from __future__ import annotations

import ipaddress
import sys
from dataclasses import dataclass, field
from pathlib import Path

from scanner.inventory import Host, Inventory, load
from tests.lab import hosts as profiles
from tests.lab import netlab, sshhost
from tests.lab.netlab import Net
from tests.lab.netns import NETNS_ETC

TEMPLATE = Path(__file__).resolve().parents[2] / "inventories" / "lab" / "inventory.yaml"


@dataclass
class LabHost:
    """One lab host: its inventory entry and its namespace."""

    host: Host
    ns: str
    etc: Path  # /etc/netns/<ns>: mounted over /etc inside the namespace
    home: Path

    @property
    def address(self) -> str:
        return self.host.address


@dataclass(kw_only=True)
class Lab(Net):
    """A built SSH lab: hosts by name, the rendered inventory, and the scanner's HOME with keys and config."""

    inventory: Inventory
    hosts: dict[str, LabHost] = field(default_factory=dict)

    def host_entry(self, host: Host) -> LabHost:
        """Return the lab's record of an inventory host (its namespace, /etc overlay and home)."""
        return LabHost(
            host, self.ns(host.name), NETNS_ETC / self.ns(host.name), self.dir / "home" / host.name
        )

    def last(self, host: Host) -> int:
        """Return a host's place in its zone's network (10.231.90.10 in 10.231.90.0/24 -> 10)."""
        net = ipaddress.ip_network(self.inventory.zones[host.zone].cidrs[0])
        return int(ipaddress.ip_address(host.address)) - int(net.network_address)


def build() -> Lab:
    """Build the SSH lab; on any failure, remove what was already made and re-raise."""
    return netlab.build(_render, _network, _hosts)


def _render(lab_id: str, lab_dir: Path, prefix: str) -> Lab:
    """Write this run's inventory from the template and name a namespace per host."""
    text = TEMPLATE.read_text(encoding="utf-8").replace("10.231.", prefix)
    path = lab_dir / "inventory.yaml"
    path.write_text(text, encoding="utf-8")
    inventory = load(path)
    zones: dict[str, tuple[str, ...]] = {name: (z.cidrs[0],) for name, z in inventory.zones.items()}
    lab = Lab(id=lab_id, dir=lab_dir, prefix=prefix, zones=zones, inventory=inventory)
    lab.hosts = {host.name: lab.host_entry(host) for host in inventory.hosts}
    return lab


def _network(lab: Lab) -> None:
    """Make the router and its bridges, a namespace per host, the scanner's veth, the router's rules."""
    lab.add_router()
    for host in lab.hosts.values():
        lab.add_host(host.host.name, host.host.zone, lab.last(host.host))
    lab.add_scanner("mgmt")
    lab.load_rules(profiles.router_rules(lab))


def _hosts(lab: Lab) -> None:
    """Make the scanner's HOME, write every host's /etc, start the servers, write known_hosts."""
    sshhost.client(lab, sshhost.client_config(bastion=lab.hosts["bastion"].address))
    for host in lab.hosts.values():
        profiles.write_etc(lab, host)
    for host in lab.hosts.values():
        if profiles.PROFILES[host.host.name].get("kind") == "nobanner":
            lab.spawn(host.host.name, [sys.executable, "-c", profiles.NOBANNER], "ready", "server")
        else:
            sshhost.start_sshd(lab, host.host.name)
    profiles.write_known_hosts(lab)
