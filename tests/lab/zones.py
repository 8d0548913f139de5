"""The zone lab: zones behind a router whose nftables implement the matrix, real hosts; a layer on netlab.

tests/lab/netlab.py builds the network (``kj-<id>-...`` namespaces, ``kj<id>s`` veth, state file
``/run/kijun-lab/<id>``, so ``cleanup_stale`` removes what a crashed run left behind); this layer
adds IPv6, routes by zone (a My Number host routes nothing beyond the zones), the matrix on the
router, and the broken variants tests make and undo: ``set_extra_rules``, a ``stranger``,
``dual_homed`` hosts, extra routes, listeners and addresses. Hosts with ``sshd`` get a real
OpenSSH server, sudo for the collector and their own host firewall (tests/lab/zonehosts.py); the
others are bare namespaces whose kernel answers with resets.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from scanner.collect.local import run_script
from scanner.inventory import Inventory, load
from tests.lab import netlab, zonehosts, zonespec
from tests.lab.netlab import Net
from tests.lab.netns import run
from tests.lab.zonespec import OCTET, Spec


@dataclass(kw_only=True)
class ZoneLab(Net):
    """A built zone lab: its specs, namespaces, rendered inventory and zone policy, the scanner's HOME."""

    specs: dict[str, Spec]

    @property
    def inventory_path(self) -> Path:
        return self.dir / "inventory.yaml"

    @property
    def inventory(self) -> Inventory:
        return load(self.inventory_path)

    def address(self, name: str) -> str:
        spec = self.specs[name]
        return zonespec.address(self.prefix, spec.zone, spec.last)

    def address6(self, name: str) -> str:
        spec = self.specs[name]
        return zonespec.address6(self.prefix, spec.zone, spec.last)

    def runner(self, name: str) -> Callable[[str, float], bytes]:
        """Return a probe runner that runs the script inside a host's namespace (tests only)."""
        argv = ("ip", "netns", "exec", self.ns(name), "sh", "-s")
        return lambda script, timeout: run_script(script, timeout, argv)

    def set_extra_rules(self, extra: list[tuple[str, str]], reject: bool = False) -> None:
        """Replace the router's ruleset (one nft transaction): the matrix plus ``extra`` allow rules."""
        self.load_rules("delete table inet kijun_zones\n" + zonespec.router_rules(self.prefix, extra, reject))

    @contextlib.contextmanager
    def extra_rules(self, extra: list[tuple[str, str]]) -> Iterator[None]:
        """Let ``extra`` through the router besides the matrix, for the duration of the block."""
        self.set_extra_rules(extra)
        try:
            yield
        finally:
            self.set_extra_rules([])

    @contextlib.contextmanager
    def stranger(self, name: str, zone: str, last: int) -> Iterator[str]:
        """Put a host the inventory does not know into a zone, for the duration of the block."""
        try:
            self.add_host(name, zone, last, routes=[])
            yield zonespec.address(self.prefix, zone, last)
        finally:
            self.remove_host(name)

    @contextlib.contextmanager
    def dual_homed(self, name: str, zone: str, last: int) -> Iterator[str]:
        """Give a host a second interface in another zone, for the duration of the block."""
        self.link(self.ns(name), "eth1", zone, last)
        try:
            yield zonespec.address(self.prefix, zone, last)
        finally:
            run("ip", "-n", self.ns(name), "link", "del", "eth1", check=False)

    @contextlib.contextmanager
    def routed(self, name: str, network: str) -> Iterator[None]:
        """Give a host a route to a network (via its zone's router address), for the duration of the block."""
        via = self.gateway(self.specs[name].zone)
        run("ip", "-n", self.ns(name), "route", "add", network, "via", via)
        try:
            yield
        finally:
            run("ip", "-n", self.ns(name), "route", "del", network, check=False)

    @contextlib.contextmanager
    def listening(self, name: str, ports: tuple[int, ...]) -> Iterator[None]:
        """Listen on more tcp ports of a host, for the duration of the block."""
        proc = zonehosts.listen(self, self.specs[name], ports, f"listen-{'-'.join(map(str, ports))}")
        try:
            yield
        finally:
            proc.terminate()
            proc.wait(timeout=5)

    @contextlib.contextmanager
    def extra_address(self, name: str, address: str) -> Iterator[None]:
        """Add an address (with its prefix) to a host's eth0, for the duration of the block."""
        run("ip", "-n", self.ns(name), "addr", "add", address, "dev", "eth0", "nodad")
        try:
            yield
        finally:
            run("ip", "-n", self.ns(name), "addr", "del", address, "dev", "eth0", check=False)


def build(make: Callable[[str], list[Spec]]) -> ZoneLab:
    """Build a zone lab from a spec function of the prefix; on failure remove what was made."""

    def new(lab_id: str, lab_dir: Path, prefix: str) -> ZoneLab:
        zones: dict[str, tuple[str, ...]] = {
            z: (zonespec.cidr(prefix, z), zonespec.cidr6(prefix, z)) for z in OCTET
        }
        specs = {s.name: s for s in make(prefix)}
        return ZoneLab(id=lab_id, dir=lab_dir, prefix=prefix, zones=zones, specs=specs)

    return netlab.build(new, _network, _hosts)


def _network(lab: ZoneLab) -> None:
    """Make the router and its bridges, a namespace per host, the scanner's veth, the matrix."""
    lab.add_router()
    for spec in lab.specs.values():
        # A My Number host has no route beyond the zones (NET-01's host side); the rest reach all.
        beyond = zonespec.BEYOND if spec.zone == "mynumber" else ()
        lab.add_host(
            spec.name, spec.zone, spec.last, [z for z in OCTET if z != spec.zone and z not in beyond]
        )
    lab.add_scanner("mgmt", zonespec.SCANNER)
    lab.load_rules(zonespec.router_rules(lab.prefix))


def _hosts(lab: ZoneLab) -> None:
    """Write the inventory and zone policy, start every host, write the scanner's known_hosts."""
    specs = list(lab.specs.values())
    lab.inventory_path.write_text(zonespec.dump(zonespec.inventory(lab.prefix, specs)), encoding="utf-8")
    (lab.dir / "zones.yaml").write_text(
        zonespec.dump(zonespec.zone_policy(lab.prefix, specs)), encoding="utf-8"
    )
    zonehosts.start_all(lab)
