"""Network delay for the fleet benchmark's one-host-at-a-time rows, inside its private network namespace only.

Loopback has no latency, which favours a tool that makes many round trips; a ward's hosts are on
LANs and on WAN links to its branch offices (出先機関), a few ms away. Two ways to add a round-trip
time (RTT), tried in this order:

* ``netem``: ``tc qdisc replace dev lo root netem delay RTT/2`` (iproute2 and the kernel's
  sch_netem module). Every packet leaving lo waits RTT/2; a request and its answer each leave lo
  once, so a round trip takes RTT. Used only when the benchmark runs in its own network namespace:
  the host's real network is never touched.
* ``relay``, when netem cannot be loaded (a kernel without sch_netem): a TCP relay in the benchmark
  process, listening on its own port in the namespace, that forwards every chunk it reads to the
  benchmark's sshd after RTT/2, in each direction, in order. It delays data, not packets: TCP's own
  timing (slow start, delayed ACKs) is not simulated.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import subprocess
import threading
import time


def netem(rtt_ms: float) -> bool:
    """Delay every packet on lo by half the RTT; return False when the kernel cannot (no sch_netem)."""
    delay = f"{rtt_ms / 2:g}ms"
    done = subprocess.run(
        ["tc", "qdisc", "replace", "dev", "lo", "root", "netem", "delay", delay],
        capture_output=True,
        text=True,
    )
    return done.returncode == 0


def clear_netem() -> None:
    """Remove the delay from lo (the namespace's own lo)."""
    subprocess.run(["tc", "qdisc", "del", "dev", "lo", "root"], capture_output=True)


def netem_error() -> str:
    """Return why netem cannot be used here (modprobe's and tc's own words)."""
    probe = subprocess.run(["modprobe", "sch_netem"], capture_output=True, text=True)
    return (probe.stderr or probe.stdout).strip() or f"modprobe sch_netem exited {probe.returncode}"


class Relay:
    """Forward connections on ``port`` (any local address) to the same address on ``target`` after a delay."""

    def __init__(self, port: int, target: int) -> None:
        self.port = port
        self.target = target
        self.delay = 0.0
        self._server = socket.create_server(("0.0.0.0", port), backlog=128, reuse_port=False)
        self._stop = threading.Event()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        address = client.getsockname()[0]
        try:
            server = socket.create_connection((address, self.target), timeout=10)
        except OSError:
            client.close()
            return
        server.settimeout(None)
        for sock in (client, server):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._open.update((client, server))
        ends = [threading.Event(), threading.Event()]
        for (src, dst), end in zip(((client, server), (server, client)), ends, strict=True):
            threading.Thread(target=self._pump, args=(src, dst, end), daemon=True).start()
        for end in ends:
            end.wait()
        with self._lock:
            self._open.difference_update((client, server))
        client.close()
        server.close()

    def _pump(self, src: socket.socket, dst: socket.socket, end: threading.Event) -> None:
        """Read from src, write to dst each chunk ``delay`` seconds after it was read, in order."""
        queue: list[tuple[float, int, bytes]] = []
        ready = threading.Condition()
        order = itertools.count()

        def read() -> None:
            while True:
                try:
                    data = src.recv(65536)
                except OSError:
                    data = b""
                with ready:
                    heapq.heappush(queue, (time.monotonic() + self.delay, next(order), data))
                    ready.notify()
                if not data:
                    return

        threading.Thread(target=read, daemon=True).start()
        try:
            while True:
                with ready:
                    while not queue:
                        ready.wait()
                    due, _, data = queue[0]
                    wait = due - time.monotonic()
                    if wait > 0:
                        ready.wait(wait)
                        continue
                    heapq.heappop(queue)
                if not data:
                    with contextlib.suppress(OSError):
                        dst.shutdown(socket.SHUT_WR)
                    return
                try:
                    dst.sendall(data)
                except OSError:
                    return
        finally:
            end.set()

    def close(self) -> None:
        """Stop accepting and close every relayed connection."""
        self._stop.set()
        self._server.close()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
