#!/usr/bin/env python3
"""Benchmark kijun over SSH at fleet scale against the floor (OpenSSH, same script) and testinfra (paramiko).

N inventory hosts are N distinct loopback addresses answered by one real sshd (fleet_sshd.py); every
host gets the full default policy of a マイナンバー系 server. Printed side by side:

(a) kijun: ``scanner.stream.scan`` over the N ssh hosts (what ``kijun scan`` runs: collection
    threads, the worker processes, evidence and findings written to a temporary folder; no report
    files), and ``kijun collect`` (raw facts to a folder), each in a child process so that its
    memory is its own (the scan's: the peak summed RSS of its process tree, workers included,
    PSS beside it; its CPU includes the workers');
(b) the floor: the same collector script through the OpenSSH client (``ssh HOST sh -s``), one
    process per host, at the same concurrency;
(c) pytest-testinfra's paramiko backend running the same checks its way (a remote command per
    check) on a subset of hosts.

Then the same three one host at a time (latency per host), and with ``--rtt`` again with a network
round-trip time added inside the benchmark's own network namespace (fleet_delay.py). See
benchmarks/README.md.

    python benchmarks/fleet_ssh.py                 # 1000 hosts
    python benchmarks/fleet_ssh.py --quick         # 50 hosts, a smoke run
    python benchmarks/fleet_ssh.py --hosts 100 --seq-hosts 5 --rtt 2,10
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

# This folder (fleet_sshd, fleet_testinfra) and the checkout it is in: measure this tree's scanner,
# whatever copy of kijun happens to be installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import fleet_delay
import fleet_report
import fleet_sshd

from scanner.collect import Plan, plan_for
from scanner.collect.script import MAX_BYTES, build_script, new_nonce
from scanner.inventory import Host

APT = fleet_report.APT


def representative() -> Host:
    """Return the server whose plan every fleet host gets."""
    return Host(
        name="h00001",
        zone=fleet_sshd.ZONE,
        role=fleet_sshd.ROLE,
        classification=fleet_sshd.CLASSIFICATION,
        labels=dict(fleet_sshd.LABELS),
    )


def _without_apt(plan: Plan) -> Plan:
    return dataclasses.replace(plan, probes=tuple(p for p in plan.probes if p != APT))


def full_plan(with_apt: bool) -> Plan:
    """Return the plan of the base pack's checks on the representative server."""
    from scanner.policy import load_pack
    from scanner.run import subjects_for

    plan = plan_for(subjects_for(load_pack("base"), representative()) - {"host"})
    return plan if with_apt else _without_apt(plan)


def _skip_apt_in_kijun() -> None:
    """Leave the apt probe out of kijun's plans too (see README: it measures apt, not SSH)."""
    import scanner.collect.bulk as bulk
    import scanner.run as run

    def without(subjects: Any) -> Plan:
        return _without_apt(plan_for(subjects))

    run.plan_for = without  # type: ignore[assignment]
    bulk.plan_for = without  # type: ignore[assignment]


# --- children: kijun and testinfra, each measured alone ------------------------------------------


def child(args: argparse.Namespace) -> None:
    """Run one measured side in this process and print its figures as JSON."""
    from scanner.inventory import load

    folder = Path(args.dir)
    inventory = load(folder / "inventory.yaml")
    hosts = inventory.hosts[: args.hosts]
    if args.port:  # through the delaying relay (fleet_delay.py)
        hosts = tuple(dataclasses.replace(h, port=args.port) for h in hosts)
    inventory = dataclasses.replace(inventory, hosts=hosts)
    hosts = list(inventory.hosts)
    if not args.with_apt:
        _skip_apt_in_kijun()
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    if args.child == "testinfra":
        import fleet_testinfra

        out = fleet_testinfra.run(
            [h.address for h in hosts],
            hosts[0].port,
            hosts[0].user,
            hosts[0].identity_file,
            os.environ["HOME"],
            args.parallel,
            args.with_apt,
        )
    else:
        import scanner.collect.ssh  # noqa: F401 (imported lazily by the scan: start-up, not per-host time)
        from scanner.policy import load_pack

        pack = load_pack("base")
        before = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        if args.child == "scan":
            from scanner import stream
            from scanner.run import Options

            last = [started]

            def mark(done: int, total: int, item: object) -> None:
                last[0] = time.monotonic()

            options = Options(parallel=args.parallel, timeout=args.timeout)
            memory = TreeMemory(os.getpid())
            into = Path(tempfile.mkdtemp(prefix="scan-", dir=folder))
            try:  # what `kijun scan` runs: evidence files and findings written, the pool's workers
                run, _raws = stream.scan(inventory, pack, [], options, into, mark)
            finally:
                memory.stop()
                shutil.rmtree(into, ignore_errors=True)
            statuses = [h.status for h in run.hosts]
            ok = statuses.count("assessed")
            after_collection = time.monotonic() - last[0]
        else:
            from scanner.collect.bulk import collect_to_folder

            carry = folder / f"carry-{os.getpid()}"
            results = collect_to_folder(inventory, pack, hosts, carry, args.parallel, args.timeout)
            statuses = [r.status for r in results]
            ok = statuses.count("collected")
        out = {"wall": time.monotonic() - started, "hosts": len(hosts), "ok": ok}
        if args.child == "scan":
            out["after_collection"] = after_collection
        out["failures"] = sorted({s for s in statuses if s not in ("assessed", "collected")})
    after = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    out["rss_mb"] = after.ru_maxrss / 1024
    if args.child == "scan":  # the scan's workers (reaped when its pool closed) and the whole tree
        done = resource.getrusage(resource.RUSAGE_CHILDREN)
        out["cpu"] += done.ru_utime + done.ru_stime - kids.ru_utime - kids.ru_stime
        out["self_rss_mb"] = out["rss_mb"]
        out["rss_mb"], out["pss_mb"] = (n / 2**20 for n in memory.peak)
    print(json.dumps(out))


class TreeMemory:
    """The peak summed RSS and PSS of a process and its descendants (the scan and its workers), sampled every 0.1 s."""

    def __init__(self, root: int) -> None:
        self.peak = [0, 0]
        self._root = root
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        from offline_scale import _tree_memory

        while True:
            rss, pss = _tree_memory(self._root)
            self.peak = [max(self.peak[0], rss), max(self.peak[1], pss)]
            if self._done.wait(0.1):
                return

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


_live: set[subprocess.Popen[bytes]] = set()
_lock = threading.Lock()
_stopping = threading.Event()


def abort() -> None:
    """Start no more processes and kill the running ones."""
    _stopping.set()
    with _lock:
        for proc in list(_live):
            proc.kill()


def _popen(argv: list[str], env: dict[str, str], in_child: bool) -> subprocess.Popen[bytes]:
    with _lock:
        if _stopping.is_set():
            raise KeyboardInterrupt
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            preexec_fn=fleet_sshd.die_with_parent if in_child else None,
        )
        _live.add(proc)
    if _stopping.is_set():  # interrupted while starting it
        abort()
        raise KeyboardInterrupt
    return proc


def _finish(proc: subprocess.Popen[bytes], data: bytes, timeout: float) -> tuple[bytes, bytes]:
    try:
        return proc.communicate(data, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        with _lock:
            _live.discard(proc)


def run_child(
    fleet: fleet_sshd.Fleet, mode: str, hosts: int, parallel: int, args: argparse.Namespace, port: int = 0
) -> dict[str, Any]:
    """Run kijun or testinfra in a child process; return its figures (plus its start-up time)."""
    argv = [sys.executable, __file__, "--child", mode, "--dir", str(fleet.dir), "--hosts", str(hosts)]
    argv += ["--port", str(port)] if port else []
    argv += ["--parallel", str(parallel), "--timeout", str(args.timeout)]
    argv += ["--with-apt"] if args.with_apt else []
    started = time.monotonic()
    proc = _popen(argv, fleet.client_env(), in_child=True)
    out, err = _finish(proc, b"", 3600)
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} child failed ({proc.returncode}): {err.decode(errors='replace')[-2000:]}")
    figures: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    figures["startup"] = time.monotonic() - started - figures["wall"]
    return figures


def floor(
    fleet: fleet_sshd.Fleet, script: bytes, hosts: int, parallel: int, timeout: float, port: int = 0
) -> dict[str, Any]:
    """Send the collector script to each host with the OpenSSH client, ``parallel`` processes at a time."""
    base = [
        "ssh",
        "-F",
        "/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "ControlMaster=no",
        "-o",
        "ControlPath=none",
    ]
    base += ["-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={fleet.known_hosts}"]
    base += ["-o", "GlobalKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none"]
    base += ["-o", "ConnectTimeout=10", "-i", str(fleet.key), "-p", str(port or fleet.port)]
    env = fleet.client_env()

    def one(address: str) -> tuple[bool, int]:
        proc = _popen([*base, f"{fleet.user}@{address}", "sh -s"], env, in_child=False)
        out, _ = _finish(proc, script, timeout)
        return proc.returncode == 0 and b":DONE " in out[-200:], len(out)

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=max(1, min(parallel, hosts)))
    try:
        done = list(pool.map(one, fleet.addresses[:hosts]))
    except BaseException:
        abort()  # before the pool waits for its threads, which wait for their ssh processes
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "wall": wall,
        "hosts": hosts,
        "ok": sum(ok for ok, _ in done),
        "cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        "bytes": sum(n for _, n in done) / max(1, hosts),
    }


class Delay:
    """The --rtt rows' network delay: netem on the namespace's lo, or else the delaying relay."""

    def __init__(self, fleet: fleet_sshd.Fleet, wanted: list[float]) -> None:
        self.relay: fleet_delay.Relay | None = None
        self.method = ""
        self.why = ""
        if not wanted:
            return
        if fleet_delay.netem(1.0):
            fleet_delay.clear_netem()
            self.method = "netem"
            return
        self.why = fleet_delay.netem_error()
        port = fleet.port + 1 if os.geteuid() == 0 else fleet_sshd.free_port()
        self.relay = fleet_delay.Relay(port, fleet.port)
        self.method = "relay"
        # The relay's port is another "host:port" for the clients' known_hosts (the same host key).
        lines = fleet.known_hosts.read_text().splitlines()
        extra = [line.replace(f"]:{fleet.port} ", f"]:{port} ", 1) for line in lines]
        fleet.known_hosts.write_text("\n".join(lines + extra) + "\n")

    @property
    def port(self) -> int:
        return self.relay.port if self.relay else 0

    def set(self, rtt: float) -> None:
        if self.relay:
            self.relay.delay = rtt / 2000
        elif not fleet_delay.netem(rtt):
            raise RuntimeError(f"tc qdisc netem delay {rtt / 2:g}ms on lo failed")

    def clear(self) -> None:
        if self.relay:
            self.relay.delay = 0.0
        elif self.method == "netem":
            fleet_delay.clear_netem()

    def close(self) -> None:
        self.clear()
        if self.relay:
            self.relay.close()


def _with_rtt(delay: Delay, rtt: float, step: Any) -> Any:
    def run() -> Any:
        delay.set(rtt)
        try:
            return step()
        finally:
            delay.clear()

    return run


def measure(
    fleet: fleet_sshd.Fleet, args: argparse.Namespace, script: bytes, delay: Delay
) -> dict[str, dict[str, Any]]:
    """Run every side, printing progress to stderr; return the figures by name."""
    steps = [
        ("scan", lambda: run_child(fleet, "scan", args.hosts, args.parallel, args)),
        ("collect", lambda: run_child(fleet, "collect", args.hosts, args.parallel, args)),
        ("floor", lambda: floor(fleet, script, args.hosts, args.parallel, args.timeout)),
        ("testinfra", lambda: run_child(fleet, "testinfra", args.testinfra_hosts, args.parallel, args)),
        ("seq_scan", lambda: run_child(fleet, "scan", args.seq_hosts, 1, args)),
        ("seq_floor", lambda: floor(fleet, script, args.seq_hosts, 1, args.timeout)),
        ("seq_testinfra", lambda: run_child(fleet, "testinfra", args.seq_hosts, 1, args)),
    ]
    port = delay.port
    for rtt in args.rtt:
        steps += [
            (
                f"rtt{rtt:g}_scan",
                _with_rtt(delay, rtt, lambda: run_child(fleet, "scan", args.seq_hosts, 1, args, port)),
            ),
            (
                f"rtt{rtt:g}_floor",
                _with_rtt(delay, rtt, lambda: floor(fleet, script, args.seq_hosts, 1, args.timeout, port)),
            ),
            (
                f"rtt{rtt:g}_testinfra",
                _with_rtt(delay, rtt, lambda: run_child(fleet, "testinfra", args.seq_hosts, 1, args, port)),
            ),
        ]
    out: dict[str, dict[str, Any]] = {}
    for name, step in steps:
        if _stopping.is_set():
            raise KeyboardInterrupt
        print(f"fleet_ssh: {name} ...", file=sys.stderr, flush=True)
        before = fleet_sshd.settled_cpu(fleet)
        out[name] = step()
        out[name]["host_cpu"] = fleet_sshd.settled_cpu(fleet) - before
        print(
            f"fleet_ssh: {name}: {out[name]['wall']:.2f}s, {out[name]['ok']}/{out[name]['hosts']} ok, "
            f"hosts' CPU {1000 * out[name]['host_cpu'] / max(1, out[name]['hosts']):.1f} ms/host, "
            f"load average {os.getloadavg()[0]:.1f}",
            file=sys.stderr,
            flush=True,
        )
    if _stopping.is_set():
        raise KeyboardInterrupt
    return out


def _interrupt(signum: int, frame: Any) -> None:
    # The flag stays set even where Python swallows the exception (an at-fork hook inside Popen).
    _stopping.set()
    raise KeyboardInterrupt


def parse(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line; --quick fills in small numbers where none were given."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hosts", type=int, help="inventory hosts (default 1000; 50 with --quick)")
    p.add_argument("--parallel", type=int, default=32, help="hosts in flight, for all sides (default 32)")
    p.add_argument("--testinfra-hosts", type=int, help="hosts testinfra checks (default 20; 5 with --quick)")
    p.add_argument("--seq-hosts", type=int, help="hosts measured one at a time (default 5; 2 with --quick)")
    p.add_argument("--timeout", type=float, default=300.0, help="whole-host timeout, seconds")
    p.add_argument("--with-apt", action="store_true", help=f"keep the {APT} probe (about 4 CPU-s per host)")
    p.add_argument("--quick", action="store_true", help="a smoke run: 50 hosts")
    p.add_argument(
        "--rtt",
        action="append",
        default=[],
        metavar="MS",
        help="also measure one host at a time with this round-trip time, ms (e.g. 2,10; repeatable); "
        "root only: netem on the benchmark's own namespace's lo, else a delaying relay",
    )
    p.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--child", choices=["scan", "collect", "testinfra"], help=argparse.SUPPRESS)
    p.add_argument("--dir", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    quick = args.quick
    args.hosts = args.hosts or (50 if quick else 1000)
    args.testinfra_hosts = min(args.hosts, args.testinfra_hosts or (5 if quick else 20))
    args.seq_hosts = min(args.hosts, args.seq_hosts or (2 if quick else 5))
    if args.hosts < 1 or args.parallel < 1:
        p.error("--hosts and --parallel must be positive")
    try:
        args.rtt = [float(ms) for each in args.rtt for ms in each.split(",") if ms.strip()]
    except ValueError:
        p.error("--rtt takes milliseconds, e.g. --rtt 2,10")
    if any(ms <= 0 or ms > 1000 for ms in args.rtt):
        p.error("--rtt takes milliseconds between 0 and 1000")
    return args


def main(argv: list[str] | None = None) -> int:
    """Build the fleet, measure every side, print the table; always stop sshd and remove the temp folder."""
    args = parse(argv)
    if args.child:
        child(args)
        return 0
    try:
        import testinfra  # noqa: F401
    except ImportError:
        print("fleet_ssh: needs pytest-testinfra (pip install pytest-testinfra)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    isolated = fleet_sshd.private_network()
    if args.rtt and not isolated:
        print(
            "fleet_ssh: --rtt needs root: the delay goes on the benchmark's own network namespace",
            file=sys.stderr,
        )
        return 2
    print(
        f"fleet_ssh: {'private network namespace' if isolated else 'host network (not root)'}",
        file=sys.stderr,
    )
    load = os.getloadavg()
    plan = full_plan(args.with_apt)
    script = build_script(
        plan, new_nonce(), MAX_BYTES, probe_timeout=max(1, min(60, int(args.timeout)))
    ).encode()
    fleet = fleet_sshd.start(args.hosts, args.parallel)
    pid = fleet.sshd.pid if fleet.sshd else 0
    print(f"fleet_ssh: sshd pid {pid} on port {fleet.port}, folder {fleet.dir}", file=sys.stderr, flush=True)
    delay: Delay | None = None
    try:
        delay = Delay(fleet, args.rtt)
        if delay.method:
            print(f"fleet_ssh: --rtt by {delay.method} {delay.why}".rstrip(), file=sys.stderr, flush=True)
        figures = measure(fleet, args, script, delay)
    except KeyboardInterrupt:
        print("fleet_ssh: interrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        abort()
        if delay is not None:
            delay.close()
        fleet_sshd.stop(fleet)
    print(fleet_report.render(args, plan, script, figures, load, delay.method, delay.why))
    return 0


if __name__ == "__main__":
    sys.exit(main())
