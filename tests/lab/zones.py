"""Build and tear down a zone lab: zones behind a router whose nftables implement the matrix, real hosts.

Named like tests/lab/lab.py's lab (``kj-<id>-...`` namespaces and temp folder, ``kj<id>s`` veth,
state file ``/run/kijun-lab/<id>``), so ``cleanup_stale`` removes what a crashed run left behind.
Hosts with ``sshd`` get a real OpenSSH server, sudo for the collector and their own host firewall;
the others are bare namespaces whose kernel answers with resets. Tests change the matrix with
``set_extra_rules``, add a ``stranger`` and ``dual_home`` a host, and undo it afterwards.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from scanner.collect.local import run_script
from scanner.inventory import Inventory, load
from tests.lab import zonehosts, zonespec
from tests.lab.lab import NETNS_ETC, STATE, _kill_namespace, _taken_prefixes, run
from tests.lab.zonespec import OCTET, Spec


@dataclass
class ZoneLab:
    """A built zone lab: its specs, namespaces, rendered inventory and zone policy, the scanner's HOME."""

    id: str
    dir: Path
    prefix: str
    specs: dict[str, Spec]
    router: str
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    made_netns_etc: bool = False
    links: int = 0

    @property
    def home(self) -> Path:
        return self.dir / "scanner-home"

    @property
    def key(self) -> Path:
        return self.home / ".ssh" / "lab_ed25519"

    @property
    def inventory_path(self) -> Path:
        return self.dir / "inventory.yaml"

    @property
    def inventory(self) -> Inventory:
        return load(self.inventory_path)

    def ns(self, name: str) -> str:
        return f"kj-{self.id}-{name}"

    def address(self, name: str) -> str:
        spec = self.specs[name]
        return zonespec.address(self.prefix, spec.zone, spec.last)

    def exec(self, name: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return run("ip", "netns", "exec", self.ns(name), *argv, check=check)

    def runner(self, name: str) -> Callable[[str, float], bytes]:
        """Return a probe runner that runs the script inside a host's namespace (tests only)."""
        argv = ("ip", "netns", "exec", self.ns(name), "sh", "-s")
        return lambda script, timeout: run_script(script, timeout, argv)

    def address6(self, name: str) -> str:
        spec = self.specs[name]
        return zonespec.address6(self.prefix, spec.zone, spec.last)

    def set_extra_rules(self, extra: list[tuple[str, str]], reject: bool = False) -> None:
        """Replace the router's ruleset (one nft transaction): the matrix plus ``extra`` allow rules."""
        text = "delete table inet kijun_zones\n" + zonespec.router_rules(self.prefix, extra, reject)
        run("ip", "netns", "exec", self.router, "nft", "-f", "-", input=text.encode())

    def link(self, ns: str, ifname: str, zone: str, last: int) -> None:
        """Plug a namespace into a zone's bridge with one more veth and address."""
        self.links += 1
        peer = f"x{self.links}"
        run(
            "ip",
            "link",
            "add",
            ifname,
            "netns",
            ns,
            "type",
            "veth",
            "peer",
            "name",
            peer,
            "netns",
            self.router,
        )
        run("ip", "-n", self.router, "link", "set", peer, "master", f"br-{zone}", "up")
        run("ip", "-n", ns, "addr", "add", f"{zonespec.address(self.prefix, zone, last)}/24", "dev", ifname)
        six = f"{zonespec.address6(self.prefix, zone, last)}/64"
        run("ip", "-n", ns, "addr", "add", six, "dev", ifname, "nodad")
        run("ip", "-n", ns, "link", "set", ifname, "up")

    @contextlib.contextmanager
    def stranger(self, name: str, zone: str, last: int) -> Iterator[str]:
        """Put a host the inventory does not know into a zone, for the duration of the block."""
        ns = self.ns(name)
        run("ip", "netns", "add", ns)
        try:
            run("ip", "-n", ns, "link", "set", "lo", "up")
            self.link(ns, "eth0", zone, last)
            yield zonespec.address(self.prefix, zone, last)
        finally:
            _kill_namespace(ns)

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
        spec = self.specs[name]
        via = zonespec.address(self.prefix, spec.zone, 1)
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
    STATE.mkdir(exist_ok=True)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    lab_id = secrets.token_hex(3)
    (STATE / lab_id).write_text(str(os.getpid()))
    lab_dir = Path(tempfile.mkdtemp(prefix=f"kj-{lab_id}-"))
    lab_dir.chmod(0o755)
    lab: ZoneLab | None = None
    try:
        with open(STATE / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            free = [f"10.{o}." for o in range(231, 251) if f"10.{o}." not in _taken_prefixes()]
            if not free:
                raise RuntimeError("no free 10.x.0.0/16 prefix (10.231-10.250) for the lab")
            specs = make(free[0])
            lab = ZoneLab(lab_id, lab_dir, free[0], {s.name: s for s in specs}, f"kj-{lab_id}-router")
            lab.made_netns_etc = not NETNS_ETC.exists()
            _network(lab)
        _render(lab)
        if any(s.sshd for s in specs):
            zonehosts.client(lab)
        for spec in specs:
            zonehosts.start(lab, spec)
        zonehosts.known_hosts(lab)
        return lab
    except BaseException:
        if lab is not None:
            teardown(lab)
        else:
            shutil.rmtree(lab_dir, ignore_errors=True)
            (STATE / lab_id).unlink(missing_ok=True)
        raise


def _network(lab: ZoneLab) -> None:
    """Make the router and its bridges, a namespace and veth per host, the scanner's veth, the matrix."""
    r, p = lab.router, lab.prefix
    run("ip", "netns", "add", r)
    run("ip", "netns", "exec", r, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    run("ip", "netns", "exec", r, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
    run("ip", "-n", r, "link", "set", "lo", "up")
    for zone in OCTET:
        run("ip", "-n", r, "link", "add", f"br-{zone}", "type", "bridge")
        run("ip", "-n", r, "link", "set", f"br-{zone}", "up")
        run("ip", "-n", r, "addr", "add", f"{zonespec.address(p, zone, 1)}/24", "dev", f"br-{zone}")
        six = f"{zonespec.address6(p, zone, 1)}/64"
        run("ip", "-n", r, "addr", "add", six, "dev", f"br-{zone}", "nodad")
    for spec in lab.specs.values():
        ns = lab.ns(spec.name)
        run("ip", "netns", "add", ns)
        run("ip", "-n", ns, "link", "set", "lo", "up")
        lab.link(ns, "eth0", spec.zone, spec.last)
        for zone in OCTET:
            # A My Number host has no route beyond the zones (NET-01's host side); the rest reach all.
            if zone != spec.zone and not (spec.zone == "mynumber" and zone in zonespec.BEYOND):
                run(
                    "ip",
                    "-n",
                    ns,
                    "route",
                    "add",
                    zonespec.cidr(p, zone),
                    "via",
                    zonespec.address(p, spec.zone, 1),
                )
                via = zonespec.address6(p, spec.zone, 1)
                run("ip", "-n", ns, "-6", "route", "add", zonespec.cidr6(p, zone), "via", via)
    mine = f"kj{lab.id}s"
    run("ip", "link", "add", mine, "type", "veth", "peer", "name", "scanner", "netns", r)
    run("ip", "-n", r, "link", "set", "scanner", "master", "br-mgmt", "up")
    run("ip", "addr", "add", f"{zonespec.address(p, 'mgmt', zonespec.SCANNER)}/24", "dev", mine)
    six = f"{zonespec.address6(p, 'mgmt', zonespec.SCANNER)}/64"
    run("ip", "addr", "add", six, "dev", mine, "nodad")
    run("ip", "link", "set", mine, "up")
    for zone in OCTET:
        if zone != "mgmt":
            run(
                "ip",
                "route",
                "add",
                zonespec.cidr(p, zone),
                "via",
                zonespec.address(p, "mgmt", 1),
                "dev",
                mine,
            )
            via = zonespec.address6(p, "mgmt", 1)
            run("ip", "-6", "route", "add", zonespec.cidr6(p, zone), "via", via, "dev", mine)
    run("ip", "netns", "exec", r, "nft", "-f", "-", input=zonespec.router_rules(p).encode())


def _render(lab: ZoneLab) -> None:
    specs = list(lab.specs.values())
    lab.inventory_path.write_text(zonespec.dump(zonespec.inventory(lab.prefix, specs)), encoding="utf-8")
    (lab.dir / "zones.yaml").write_text(
        zonespec.dump(zonespec.zone_policy(lab.prefix, specs)), encoding="utf-8"
    )


def teardown(lab: ZoneLab) -> None:
    """Remove everything the lab made: processes, namespaces, /etc/netns dirs, the veth, the temp folder."""
    for proc in lab.procs:
        proc.terminate()
    for proc in lab.procs:
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=2)
    for ns in [lab.ns(name) for name in lab.specs] + [lab.router]:
        _kill_namespace(ns)
    run("ip", "link", "del", f"kj{lab.id}s", check=False)
    shutil.rmtree(lab.dir, ignore_errors=True)
    (STATE / lab.id).unlink(missing_ok=True)
    if lab.made_netns_etc:
        with contextlib.suppress(OSError):
            NETNS_ETC.rmdir()
