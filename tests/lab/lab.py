"""Build and tear down the network-namespace lab: a router with nftables, zones as subnets, real sshd hosts.

Everything the lab creates is named ``kj-<id>-...`` (namespaces, /etc/netns dirs, the temp folder)
or ``kj<id>s`` (the one veth in the root namespace), and a state file ``/run/kijun-lab/<id>``
holds the owning pid, so a later run can remove what a crashed run left behind without touching
a lab that is still in use.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from scanner.inventory import Host, Inventory, load
from tests.lab import hosts as profiles

TEMPLATE = Path(__file__).resolve().parents[2] / "inventories" / "lab" / "inventory.yaml"
STATE = Path("/run/kijun-lab")
NETNS_ETC = Path("/etc/netns")
SSHD = "/usr/sbin/sshd"
_ID = re.compile(r"[0-9a-f]{6}")
_NAMESPACE = re.compile(r"kj-([0-9a-f]{6})-[a-z0-9-]+")  # only names a lab made: kj-<id>-<host>


def run(*argv: str, check: bool = True, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run a command, raising with its stderr when it fails."""
    proc = subprocess.run(argv, input=input, capture_output=True, timeout=60)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: rc {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    return proc


def unavailable() -> str:
    """Return why the lab cannot run here ("" when it can)."""
    if os.geteuid() != 0:
        return "the lab needs root (network namespaces)"
    for tool in ("ip", "nft", SSHD, "ssh-keygen", "sudo"):
        if shutil.which(tool) is None:
            return f"the lab needs {tool}"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True)
    if probe.returncode != 0:
        return f"ip netns is unavailable: {probe.stderr.decode(errors='replace').strip()}"
    return ""


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


@dataclass
class Lab:
    """A built lab: hosts by name, the rendered inventory, and the scanner's HOME with keys and config."""

    id: str
    dir: Path
    prefix: str  # e.g. "10.231."
    inventory: Inventory
    hosts: dict[str, LabHost] = field(default_factory=dict)
    router: str = ""
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    made_netns_etc: bool = False  # /etc/netns did not exist before this lab

    @property
    def home(self) -> Path:
        """The HOME the scanner runs with: .ssh/config, .ssh/known_hosts, .ssh/lab_ed25519."""
        return self.dir / "scanner-home"

    @property
    def key(self) -> Path:
        return self.home / ".ssh" / "lab_ed25519"

    @property
    def namespaces(self) -> list[str]:
        return [self.router, *(h.ns for h in self.hosts.values())]

    def exec(self, name: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        """Run a command inside a host's namespace (with its /etc)."""
        return run("ip", "netns", "exec", self.hosts[name].ns, *argv, check=check)

    def host_key(self, name: str, kind: str = "ed25519") -> str:
        """Return a host's public key line ("ssh-ed25519 AAAA...")."""
        text = (self.hosts[name].etc / "ssh" / f"ssh_host_{kind}_key.pub").read_text()
        return " ".join(text.split()[:2])


def _taken_prefixes() -> set[str]:
    """Return the 10.x. prefixes already routed or addressed in the root namespace."""
    nets = []
    for argv in (("ip", "-j", "route", "show", "table", "all"), ("ip", "-j", "addr")):
        for entry in json.loads(run(*argv).stdout or b"[]"):
            for text in [entry.get("dst", "")] + [a.get("local", "") for a in entry.get("addr_info", [])]:
                with contextlib.suppress(ValueError):
                    nets.append(ipaddress.ip_network(text, strict=False))
    return {
        f"10.{o}."
        for o in range(231, 251)
        if any(
            n.overlaps(ipaddress.ip_network(f"10.{o}.0.0/16"))
            for n in nets
            if n.version == 4 and n.prefixlen > 0
        )
    }


def _alive(pid: int) -> bool:
    """Tell whether a process runs (a zombie waiting for its parent to reap it does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _kill_namespace(ns: str) -> None:
    """Stop every process in a namespace (all were started by a lab), then delete it."""
    pids = [int(p) for p in run("ip", "netns", "pids", ns, check=False).stdout.split()]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.02)
    run("ip", "netns", "del", ns, check=False)
    shutil.rmtree(NETNS_ETC / ns, ignore_errors=True)


def _owner_alive(lab_id: str) -> bool:
    try:
        return _alive(int((STATE / lab_id).read_text()))
    except (OSError, ValueError):
        return False


def cleanup_stale() -> list[str]:
    """Remove namespaces, /etc/netns dirs, veths and temp folders of lab runs whose owner is gone."""
    removed = []
    names = {
        line.split()[0] for line in run("ip", "netns", "list").stdout.decode().splitlines() if line.strip()
    }
    names |= {p.name for p in NETNS_ETC.glob("kj-*")} if NETNS_ETC.is_dir() else set()
    for ns in sorted(names):
        found = _NAMESPACE.fullmatch(ns)
        if found and not _owner_alive(found.group(1)):
            _kill_namespace(ns)
            removed.append(ns)
    ids = {p.name for p in STATE.iterdir() if _ID.fullmatch(p.name)} if STATE.is_dir() else set()
    for lab_id in sorted(ids):
        if not _owner_alive(lab_id):
            for folder in Path(tempfile.gettempdir()).glob(f"kj-{lab_id}-*"):
                shutil.rmtree(folder, ignore_errors=True)
            run("ip", "link", "del", f"kj{lab_id}s", check=False)
            (STATE / lab_id).unlink(missing_ok=True)
    if removed:
        with contextlib.suppress(OSError):
            NETNS_ETC.rmdir()  # the crashed lab made it; fails while anything else is in it
    return removed


def build() -> Lab:
    """Build a lab; on any failure, remove what was already made and re-raise."""
    STATE.mkdir(exist_ok=True)
    # sshd's privilege separation directory, which the Debian service creates when it starts; kept.
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    lab_id = secrets.token_hex(3)
    (STATE / lab_id).write_text(str(os.getpid()))
    lab_dir = Path(tempfile.mkdtemp(prefix=f"kj-{lab_id}-"))
    lab_dir.chmod(0o755)  # the lab user must reach its home inside it
    lab: Lab | None = None
    try:
        with open(STATE / ".lock", "w") as lock:
            # Choosing a free prefix and routing it must not race a parallel run.
            fcntl.flock(lock, fcntl.LOCK_EX)
            free = [f"10.{o}." for o in range(231, 251) if f"10.{o}." not in _taken_prefixes()]
            if not free:
                raise RuntimeError("no free 10.x.0.0/16 prefix (10.231-10.250) for the lab")
            lab = _render(lab_id, lab_dir, free[0])
            lab.made_netns_etc = not NETNS_ETC.exists()
            _network(lab)
        _client(lab)
        for host in lab.hosts.values():
            profiles.write_etc(lab, host)
        for host in lab.hosts.values():
            _start(lab, host)
        profiles.write_known_hosts(lab)
        return lab
    except BaseException:
        if lab is not None:
            teardown(lab)
        else:
            shutil.rmtree(lab_dir, ignore_errors=True)
            (STATE / lab_id).unlink(missing_ok=True)
        raise


def _render(lab_id: str, lab_dir: Path, prefix: str) -> Lab:
    """Write this run's inventory from the template and name a namespace per host."""
    text = TEMPLATE.read_text(encoding="utf-8").replace("10.231.", prefix)
    path = lab_dir / "inventory.yaml"
    path.write_text(text, encoding="utf-8")
    inventory = load(path)
    lab = Lab(id=lab_id, dir=lab_dir, prefix=prefix, inventory=inventory, router=f"kj-{lab_id}-router")
    for host in inventory.hosts:
        ns = f"kj-{lab_id}-{host.name}"
        lab.hosts[host.name] = LabHost(host, ns, NETNS_ETC / ns, lab_dir / "home" / host.name)
    return lab


def _gateway(lab: Lab, zone: str, last: int = 1) -> str:
    net = ipaddress.ip_network(lab.inventory.zones[zone].cidrs[0])
    return str(net.network_address + last)


def _network(lab: Lab) -> None:
    """Create the router, one bridge per zone, a veth per host, the scanner's veth, routes and nftables."""
    r = lab.router
    run("ip", "netns", "add", r)
    nft = profiles.router_rules(lab)
    cmds = [["ip", "link", "set", "lo", "up"], ["sysctl", "-qw", "net.ipv4.ip_forward=1"]]
    for zone, spec in lab.inventory.zones.items():
        bridge = f"br-{zone}"[:15]
        prefixlen = ipaddress.ip_network(spec.cidrs[0]).prefixlen
        cmds += [
            ["ip", "link", "add", bridge, "type", "bridge"],
            ["ip", "link", "set", bridge, "up"],
            ["ip", "addr", "add", f"{_gateway(lab, zone)}/{prefixlen}", "dev", bridge],
        ]
    for cmd in cmds:
        run("ip", "netns", "exec", r, *cmd)
    lab_nets = [z.cidrs[0] for z in lab.inventory.zones.values()]
    for i, host in enumerate(lab.hosts.values()):
        run("ip", "netns", "add", host.ns)
        zone = host.host.zone
        prefixlen = ipaddress.ip_network(lab.inventory.zones[zone].cidrs[0]).prefixlen
        peer = f"h{i}-{host.host.name}"[:15]
        run("ip", "link", "add", "eth0", "netns", host.ns, "type", "veth", "peer", "name", peer, "netns", r)
        run("ip", "netns", "exec", r, "ip", "link", "set", peer, "master", f"br-{zone}"[:15], "up")
        inside = [
            ["ip", "link", "set", "lo", "up"],
            ["ip", "link", "set", "eth0", "up"],
            ["ip", "addr", "add", f"{host.address}/{prefixlen}", "dev", "eth0"],
        ]
        inside += [
            ["ip", "route", "add", n, "via", _gateway(lab, zone)]
            for n in lab_nets
            if n != lab.inventory.zones[zone].cidrs[0]
        ]
        for cmd in inside:
            run("ip", "netns", "exec", host.ns, *cmd)
    # The scanner (root namespace) joins the mgmt bridge as .2 and routes only the other lab zones.
    mine = f"kj{lab.id}s"
    mgmt_len = ipaddress.ip_network(lab.inventory.zones["mgmt"].cidrs[0]).prefixlen
    run("ip", "link", "add", mine, "type", "veth", "peer", "name", "scanner", "netns", r)
    run("ip", "netns", "exec", r, "ip", "link", "set", "scanner", "master", "br-mgmt", "up")
    run("ip", "addr", "add", f"{_gateway(lab, 'mgmt', 2)}/{mgmt_len}", "dev", mine)
    run("ip", "link", "set", mine, "up")
    for n in lab_nets:
        if n != lab.inventory.zones["mgmt"].cidrs[0]:
            run("ip", "route", "add", n, "via", _gateway(lab, "mgmt"), "dev", mine)
    run("ip", "netns", "exec", r, "nft", "-f", "-", input=nft.encode())


def _client(lab: Lab) -> None:
    """Make the scanner's HOME: the lab key and an ssh config naming it and the bastion."""
    ssh = lab.home / ".ssh"
    ssh.mkdir(parents=True, mode=0o700)
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"kijun-lab-{lab.id}", "-f", str(lab.key))
    bastion = lab.hosts["bastion"].address
    (ssh / "config").write_text(
        f"# kijun lab {lab.id}\nHost bastion\n    HostName {bastion}\n\nHost *\n"
        f"    User {profiles.USER}\n    IdentityFile ~/.ssh/lab_ed25519\n    IdentitiesOnly yes\n"
    )


def _start(lab: Lab, host: LabHost) -> None:
    """Start the host's server inside its namespace and wait until it listens."""
    log = lab.dir / "logs" / f"{host.host.name}.log"
    log.parent.mkdir(exist_ok=True)
    if profiles.PROFILES[host.host.name].get("kind") == "nobanner":
        argv = [sys.executable, "-c", profiles.NOBANNER]
        ready = "ready"
    else:
        argv = [SSHD, "-D", "-e", "-f", "/etc/ssh/sshd_config"]
        ready = "Server listening on 0.0.0.0 port 22"
    with open(log, "wb") as out:
        lab.procs.append(
            subprocess.Popen(
                ["ip", "netns", "exec", host.ns, *argv], stdout=out, stderr=out, stdin=subprocess.DEVNULL
            )
        )
    deadline = time.monotonic() + 10
    while ready not in log.read_text(errors="replace"):
        if lab.procs[-1].poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{host.host.name}: server did not start: {log.read_text(errors='replace')}")
        time.sleep(0.01)


def teardown(lab: Lab) -> None:
    """Remove everything the lab made: processes, namespaces, /etc/netns dirs, the veth, the temp folder."""
    for proc in lab.procs:
        proc.terminate()
    for proc in lab.procs:
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=2)
    for ns in [h.ns for h in lab.hosts.values()] + [lab.router]:
        _kill_namespace(ns)
    run("ip", "link", "del", f"kj{lab.id}s", check=False)
    shutil.rmtree(lab.dir, ignore_errors=True)
    (STATE / lab.id).unlink(missing_ok=True)
    if lab.made_netns_etc:
        with contextlib.suppress(OSError):
            NETNS_ETC.rmdir()  # fails, as it should, while another lab still uses it
