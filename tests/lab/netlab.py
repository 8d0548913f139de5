"""The one network-namespace lab builder: a router with a bridge per zone, a namespace per host, teardown.

Every lab (the SSH lab of tests/lab/lab.py, its added hosts, the zone lab of tests/lab/zones.py)
is a ``Net``, named and cleaned up as tests/lab/netns.py says. No namespace gets a default route:
hosts and the scanner route only the lab's own zones, through the router (.1, or ::1, of each
zone), whose nftables a lab loads with ``load_rules``.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from tests.lab.netns import NETNS_ETC, STATE, kill_namespace, run, taken_prefixes


def nth(cidr: str, last: int) -> str:
    """Return the address ``last`` places into a network ("10.231.90.0/24", 2 -> "10.231.90.2")."""
    return str(ipaddress.ip_network(cidr).network_address + last)


@dataclass
class Net:
    """A built lab network: zones (name -> networks, IPv4 first) behind one router, and what runs in it."""

    id: str
    dir: Path
    prefix: str  # e.g. "10.231."
    zones: dict[str, tuple[str, ...]] = field(default_factory=dict)
    namespaces: list[str] = field(default_factory=list)  # the router first, then the hosts
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    made_netns_etc: bool = False  # /etc/netns did not exist before this lab
    links: int = 0

    @property
    def router(self) -> str:
        return self.ns("router")

    @property
    def home(self) -> Path:
        """The HOME the scanner runs with: .ssh/config, .ssh/known_hosts, .ssh/lab_ed25519."""
        return self.dir / "scanner-home"

    @property
    def key(self) -> Path:
        return self.home / ".ssh" / "lab_ed25519"

    def ns(self, name: str) -> str:
        return f"kj-{self.id}-{name}"

    def etc(self, name: str) -> Path:
        """Return a host's /etc overlay (``ip netns exec`` mounts /etc/netns/<ns> over /etc)."""
        return NETNS_ETC / self.ns(name)

    def exec(
        self, name: str, *argv: str, check: bool = True, input: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        """Run a command inside a host's namespace (with its /etc)."""
        return run("ip", "netns", "exec", self.ns(name), *argv, check=check, input=input)

    def host_key(self, name: str, kind: str = "ed25519") -> str:
        """Return a host's public key line ("ssh-ed25519 AAAA...")."""
        text = (self.etc(name) / "ssh" / f"ssh_host_{kind}_key.pub").read_text()
        return " ".join(text.split()[:2])

    def gateway(self, zone: str, version: int = 4) -> str:
        """Return the router's address in a zone (.1), of one IP version."""
        cidr = next(c for c in self.zones[zone] if ipaddress.ip_network(c).version == version)
        return nth(cidr, 1)

    def add_router(self) -> None:
        """Make the router: forwarding on, one bridge per zone holding the zone's .1 (and ::1)."""
        r = self.router
        run("ip", "netns", "add", r)
        self.namespaces.append(r)
        run("ip", "netns", "exec", r, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        if any(ipaddress.ip_network(c).version == 6 for cidrs in self.zones.values() for c in cidrs):
            run("ip", "netns", "exec", r, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        run("ip", "-n", r, "link", "set", "lo", "up")
        for zone, cidrs in self.zones.items():
            bridge = f"br-{zone}"[:15]
            run("ip", "-n", r, "link", "add", bridge, "type", "bridge")
            run("ip", "-n", r, "link", "set", bridge, "up")
            for cidr in cidrs:
                self._address(r, bridge, cidr, 1)

    def _address(self, ns: str | None, dev: str, cidr: str, last: int) -> None:
        net = ipaddress.ip_network(cidr)
        where = ("-n", ns) if ns else ()
        nodad = ("nodad",) if net.version == 6 else ()
        run("ip", *where, "addr", "add", f"{nth(cidr, last)}/{net.prefixlen}", "dev", dev, *nodad)

    def _routes(self, ns: str | None, zone: str, to: list[str], dev: str = "") -> None:
        """Route the other zones' networks via the router's address in ``zone`` (never a default route)."""
        where = ("-n", ns) if ns else ()
        for other in to:
            for cidr in self.zones[other]:
                version = ipaddress.ip_network(cidr).version
                via = ("via", self.gateway(zone, version), *(("dev", dev) if dev else ()))
                run("ip", *where, f"-{version}", "route", "add", cidr, *via)

    def link(self, ns: str, ifname: str, zone: str, last: int) -> None:
        """Plug a namespace into a zone's bridge with one more veth and an address in each of its networks."""
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
        run("ip", "-n", self.router, "link", "set", peer, "master", f"br-{zone}"[:15], "up")
        for cidr in self.zones[zone]:
            self._address(ns, ifname, cidr, last)
        run("ip", "-n", ns, "link", "set", ifname, "up")

    def add_host(self, name: str, zone: str, last: int, routes: list[str] | None = None) -> str:
        """Make a host's namespace on its zone's bridge, routing ``routes`` (default: every other zone)."""
        ns = self.ns(name)
        run("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        run("ip", "-n", ns, "link", "set", "lo", "up")
        self.link(ns, "eth0", zone, last)
        self._routes(ns, zone, [z for z in self.zones if z != zone] if routes is None else routes)
        return ns

    def add_scanner(self, zone: str = "mgmt", last: int = 2) -> None:
        """Join the root namespace (the scanner) to a zone with the veth kj<id>s, routing only the lab."""
        mine = f"kj{self.id}s"
        run("ip", "link", "add", mine, "type", "veth", "peer", "name", "scanner", "netns", self.router)
        run("ip", "-n", self.router, "link", "set", "scanner", "master", f"br-{zone}"[:15], "up")
        for cidr in self.zones[zone]:
            self._address(None, mine, cidr, last)
        run("ip", "link", "set", mine, "up")
        self._routes(None, zone, [z for z in self.zones if z != zone], dev=mine)

    def load_rules(self, nft: str) -> None:
        """Load an nftables ruleset (one transaction) into the router."""
        run("ip", "netns", "exec", self.router, "nft", "-f", "-", input=nft.encode())

    def spawn(self, name: str, argv: list[str], ready: str, tag: str) -> subprocess.Popen[bytes]:
        """Start a process in a host's namespace, wait until its log says ``ready``; the teardown stops it."""
        log = self.dir / "logs" / f"{name}-{tag}.log"
        log.parent.mkdir(exist_ok=True)
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                ["ip", "netns", "exec", self.ns(name), *argv],
                stdout=out,
                stderr=out,
                stdin=subprocess.DEVNULL,
            )
        self.procs.append(proc)
        deadline = time.monotonic() + 15
        while ready not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} {tag} did not start: {log.read_text(errors='replace')}")
            time.sleep(0.01)
        return proc

    def remove_host(self, name: str) -> None:
        """Stop everything in a host's namespace, delete it and its /etc overlay."""
        ns = self.ns(name)
        kill_namespace(ns)
        for proc in [p for p in self.procs if p.poll() is not None]:
            self.procs.remove(proc)  # reaped: its namespace is gone
        if ns in self.namespaces:
            self.namespaces.remove(ns)


N = TypeVar("N", bound=Net)


def build(new: Callable[[str, Path, str], N], network: Callable[[N], None], hosts: Callable[[N], None]) -> N:
    """Build a lab: ``new(id, folder, prefix)``, its ``network`` (under the prefix lock), then its ``hosts``.

    On any failure, remove what was already made and re-raise.
    """
    STATE.mkdir(exist_ok=True)
    # sshd's privilege separation directory, which the Debian service creates when it starts; kept.
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    lab_id = secrets.token_hex(3)
    (STATE / lab_id).write_text(str(os.getpid()))
    lab_dir = Path(tempfile.mkdtemp(prefix=f"kj-{lab_id}-"))
    lab_dir.chmod(0o755)  # the lab users must reach their homes inside it
    lab: N | None = None
    try:
        with open(STATE / ".lock", "w") as lock:
            # Choosing a free prefix and routing it must not race a parallel run.
            fcntl.flock(lock, fcntl.LOCK_EX)
            free = [f"10.{o}." for o in range(231, 251) if f"10.{o}." not in taken_prefixes()]
            if not free:
                raise RuntimeError("no free 10.x.0.0/16 prefix (10.231-10.250) for the lab")
            lab = new(lab_id, lab_dir, free[0])
            lab.made_netns_etc = not NETNS_ETC.exists()
            network(lab)
        hosts(lab)
        return lab
    except BaseException:
        if lab is not None:
            teardown(lab)
        else:
            shutil.rmtree(lab_dir, ignore_errors=True)
            (STATE / lab_id).unlink(missing_ok=True)
        raise


def teardown(lab: Net) -> None:
    """Remove everything the lab made: processes, namespaces, /etc/netns dirs, the veth, the temp folder."""
    for proc in lab.procs:
        proc.terminate()
    for proc in lab.procs:
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=2)
    for ns in [*lab.namespaces[1:], *lab.namespaces[:1]]:  # the hosts, then the router
        kill_namespace(ns)
    run("ip", "link", "del", f"kj{lab.id}s", check=False)
    shutil.rmtree(lab.dir, ignore_errors=True)
    (STATE / lab.id).unlink(missing_ok=True)
    if lab.made_netns_etc:
        with contextlib.suppress(OSError):
            NETNS_ETC.rmdir()  # fails, as it should, while another lab still uses it
