"""The ssh transport: one paramiko connection per host (through jump hosts if asked), one ``sh -s`` session.

The collector script goes to the session's stdin, its framed stdout comes back to EOF within the
whole-host timeout, and only a complete stream with exit status 0 becomes raw facts. Per-phase
times (seconds, as strings) go into ``RawFacts.collector``: ``connect_s`` (TCP, banner, key
exchange and host key check, all hops), ``auth_s`` (all hops), ``exec_s`` (session open, command
and script sent together, the command's answer) and ``transfer_s`` (output read to the exit status).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import paramiko

from scanner import __version__
from scanner.collect import hostkeys, sshconfig
from scanner.collect.framing import parse_output
from scanner.collect.plan import CollectError, Plan
from scanner.collect.script import MAX_BYTES, build_script, new_nonce, probe_timeout_for
from scanner.collect.sshconfig import Endpoint
from scanner.inventory import Host
from scanner.rawfacts import RawFacts

CONNECT_TIMEOUT = 10.0  # TCP connect, SSH banner and key exchange, per hop (capped by the host timeout)
MAX_OUTPUT = 512 * 1024 * 1024  # a host streaming more than this is broken or hostile
_CHUNK = 65536

# paramiko logs handshake failures with tracebacks from its own thread; they are reported as
# CollectError instead, so keep Python's last-resort handler from printing them on the terminal.
logging.getLogger("paramiko").addHandler(logging.NullHandler())


class _Clock:
    """The whole-host deadline and the phase times measured against it."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.times: dict[str, float] = {}

    def left(self, cap: float | None = None) -> float:
        """Return the seconds left (at least a sliver, so a zero never means "block forever")."""
        left = max(0.001, self.deadline - time.monotonic())
        return min(left, cap) if cap is not None else left

    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.times[name] = self.times.get(name, 0.0) + time.monotonic() - start


def _where(ep: Endpoint) -> str:
    return f"{ep.label} ({hostkeys.host_id(ep.address, ep.port)})" if ep.label != ep.address else ep.label


_TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", 0)  # Linux only; elsewhere the plain socket is used


class _QuickAck:
    """A TCP socket that asks the kernel to acknowledge at once before every read.

    sshd leaves Nagle on for non-interactive sessions. Right after login it sends small packets in a
    row (a hostkeys notice, a debug message, then the reply to our channel open); the last one waits
    for our ACK of the others, which Linux delays by up to 40 ms. Quick ACKs remove that stall.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def recv(self, size: int) -> bytes:
        self._sock.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1)
        return self._sock.recv(size)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _tcp(ep: Endpoint, clock: _Clock) -> Any:
    """Open the TCP connection ourselves, so that TCP_NODELAY is set (paramiko sets no socket option)."""
    wait = clock.left(CONNECT_TIMEOUT)
    try:
        sock = socket.create_connection((ep.address, ep.port), timeout=wait)
    except TimeoutError:
        raise CollectError("unreachable", f"{_where(ep)}: TCP connect timed out after {wait:.3g}s") from None
    except OSError as exc:
        raise CollectError("unreachable", f"{_where(ep)}: cannot connect: {exc.strerror or exc}") from None
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return _QuickAck(sock) if _TCP_QUICKACK else sock


def _channel(ep: Endpoint, via: Any, clock: _Clock) -> Any:
    """Open a direct-tcpip channel to the endpoint on the jump host's transport."""
    try:
        return via.open_channel(
            "direct-tcpip", (ep.address, ep.port), ("127.0.0.1", 0), timeout=clock.left(CONNECT_TIMEOUT)
        )
    except (paramiko.SSHException, OSError, EOFError) as exc:
        raise CollectError(
            "unreachable", f"{_where(ep)}: the jump host could not connect to it: {exc}"
        ) from None


class _ClosedEarly(CollectError):
    """The server closed the connection before its banner, well within the timeout.

    sshd does this when too many unauthenticated connections are open (MaxStartups drops them at
    random), which a scan at fleet scale can itself cause; one more try, after a pause, is fair.
    """


# Key exchanges kijun asks for first, in this order; the rest follow in paramiko's order and none is
# added or dropped. The post-quantum hybrid stays first wherever the server has it (OpenSSH 9.9+).
# Against OpenSSH 9.2 (Debian 12) ECDH on P-256 made the key exchange about 10 ms and the whole
# login about 5 ms shorter than curve25519 (benchmarks/fleet_kex.py; sshd's curve25519 is portable
# C, its P-256 OpenSSL's). Both are 128-bit secure; a server that refuses P-256 gets curve25519.
KEX_FIRST = ("mlkem768x25519-sha256", "ecdh-sha2-nistp256", "curve25519-sha256@libssh.org")


def kex_order(offered: tuple[str, ...]) -> tuple[str, ...]:
    """Return paramiko's key exchanges with KEX_FIRST's (those it has) first: the same set, reordered.

    >>> kex_order(("curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "diffie-hellman-group14-sha256"))
    ('ecdh-sha2-nistp256', 'curve25519-sha256@libssh.org', 'diffie-hellman-group14-sha256')
    """
    first = tuple(name for name in KEX_FIRST if name in offered)
    return first + tuple(name for name in offered if name not in first)


def _handshake(ep: Endpoint, sock: Any, clock: _Clock) -> Any:
    """Run banner, key exchange and host key verification; return the started transport."""
    transport = paramiko.Transport(sock)
    started = time.monotonic()
    try:
        wait = clock.left(CONNECT_TIMEOUT)
        silent = f"no SSH banner or key exchange within {wait:.3g}s"
        transport.banner_timeout = transport.handshake_timeout = wait
        transport.auth_timeout = clock.left()
        names = list(
            dict.fromkeys([hostkeys.host_id(ep.address, ep.port), hostkeys.host_id(ep.label, ep.port)])
        )
        options = transport.get_security_options()
        options.key_types = hostkeys.key_types(names, tuple(options.key_types))
        options.kex = kex_order(tuple(options.kex))
        try:
            transport.start_client(timeout=wait)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            detail = str(exc) or type(exc).__name__
            if detail.startswith("Error reading SSH protocol banner"):  # paramiko's words (+ errno, if any)
                if time.monotonic() - started < wait / 2:
                    raise _ClosedEarly(
                        "unreachable", f"{_where(ep)}: SSH handshake failed: closed before the banner"
                    ) from None
                detail = silent
            raise CollectError("unreachable", f"{_where(ep)}: SSH handshake failed: {detail}") from None
        # start_client returns quietly when its own timeout passes first.
        if not transport.is_active() or not transport.initial_kex_done:
            if time.monotonic() - started < wait / 2:
                raise _ClosedEarly(
                    "unreachable", f"{_where(ep)}: SSH handshake failed: closed before the banner"
                )
            raise CollectError("unreachable", f"{_where(ep)}: SSH handshake failed: {silent}")
        try:
            hostkeys.verify(names, transport.get_remote_server_key(), _where(ep))
        except hostkeys.HostKeyError as exc:
            raise CollectError("unreachable", str(exc)) from None
        return transport
    except BaseException:
        transport.close()
        raise


def _authenticate(transport: Any, ep: Endpoint, clock: _Clock) -> None:
    """Log in with public keys only; raise CollectError("unreachable") when none is accepted."""
    tried: list[str] = []
    for label, key in sshconfig.identities(ep):
        if key is None:
            tried.append(label)
            continue
        if clock.expired():
            break
        try:
            more = transport.auth_publickey(ep.user, key)
        except paramiko.BadAuthenticationType as exc:
            allowed = ", ".join(exc.allowed_types) or "none"
            raise CollectError(
                "unreachable",
                f"{ep.user}@{_where(ep)}: server does not accept public keys (allowed: {allowed})",
            ) from None
        except paramiko.AuthenticationException:
            tried.append(label)
            continue
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise CollectError(
                "unreachable", f"{ep.user}@{_where(ep)}: authentication broke off: {exc}"
            ) from None
        if transport.is_authenticated():
            return
        raise CollectError(
            "unreachable",
            f"{ep.user}@{_where(ep)}: {label} accepted but the server also asks for "
            f"{', '.join(more)}; kijun logs in with keys only",
        )
    offered = "; ".join(tried) or "no key found (identity_file, ssh-agent, ~/.ssh/id_*)"
    raise CollectError("unreachable", f"{ep.user}@{_where(ep)}: authentication failed (tried: {offered})")


def _login(route: list[Endpoint], clock: _Clock, opened: list[Any]) -> Any:
    """Connect and log in to every hop in turn, each over the previous one; return the last transport."""
    transport: Any = None
    for ep in route:
        with clock.phase("connect"):
            for attempt in (1, 2):
                sock = _tcp(ep, clock) if transport is None else _channel(ep, transport, clock)
                try:
                    hop = _handshake(ep, sock, clock)
                    break
                except _ClosedEarly:
                    sock.close()
                    if attempt == 2 or clock.left(CONNECT_TIMEOUT) < 2.0:
                        raise
                    time.sleep(1.0)  # MaxStartups drops at random: one more try after a pause
                except BaseException:
                    sock.close()
                    raise
            transport = hop
            opened.append(transport)
        with clock.phase("auth"):
            _authenticate(transport, ep, clock)
    return transport


def _drain(channel: Any, clock: _Clock) -> tuple[bytes, bytes]:
    """Read stdout to EOF (stderr alongside, so a chatty host cannot stall the window) before the deadline."""
    out: list[bytes] = []
    err: list[bytes] = []
    size = 0
    while True:
        while channel.recv_stderr_ready():
            err.append(channel.recv_stderr(_CHUNK))
        if clock.expired():
            raise CollectError("error", f"collection timed out after {clock.timeout:g}s (whole-host timeout)")
        channel.settimeout(clock.left(0.25))
        try:
            data = channel.recv(_CHUNK)
        except TimeoutError:
            continue
        if not data:
            break
        out.append(data)
        size += len(data)
        if size > MAX_OUTPUT:
            raise CollectError("error", f"collector output exceeds {MAX_OUTPUT} bytes")
    while channel.recv_stderr_ready():
        err.append(channel.recv_stderr(_CHUNK))
    return b"".join(out), b"".join(err)


def _exec(channel: Any, command: str, script: bytes, clock: _Clock) -> None:
    """Send the exec request and the script at once, then wait for the request's answer.

    paramiko's ``exec_command`` waits for the answer before the script can be sent: one round trip
    more per host than the OpenSSH client, which sends stdin right behind the request. The server
    reads the data in order, after the request; a refused request closes the channel (an error).
    """
    if not (hasattr(channel, "_event_pending") and hasattr(channel, "event")):  # another paramiko
        channel.exec_command(command)
        channel.sendall(script)
        channel.shutdown_write()
        return
    m = paramiko.Message()
    m.add_byte(paramiko.common.cMSG_CHANNEL_REQUEST)
    m.add_int(channel.remote_chanid)
    m.add_string("exec")
    m.add_boolean(True)
    m.add_string(command)
    channel._event_pending()
    channel.transport._send_user_message(m)
    channel.sendall(script)
    channel.shutdown_write()
    if not channel.event.wait(clock.left()):
        raise TimeoutError
    if not channel.event_ready:
        raise paramiko.SSHException("the server refused to run the collector")


def _run(transport: Any, command: str, script: bytes, clock: _Clock, become: bool) -> bytes:
    """Run the collector in one session; return its stdout only when it exited 0."""
    try:
        with clock.phase("exec"):
            channel = transport.open_session(timeout=clock.left())
            channel.settimeout(clock.left())
            _exec(channel, command, script, clock)
        with clock.phase("transfer"):
            out, err = _drain(channel, clock)
            if not channel.status_event.wait(clock.left()):
                raise CollectError("error", f"no exit status within {clock.timeout:g}s (whole-host timeout)")
            status = channel.recv_exit_status()
    except TimeoutError:
        raise CollectError(
            "error", f"collection timed out after {clock.timeout:g}s (whole-host timeout)"
        ) from None
    except (paramiko.SSHException, OSError, EOFError) as exc:
        raise CollectError(
            "error", f"connection dropped during collection: {exc or type(exc).__name__}"
        ) from None
    tail = err.decode("utf-8", errors="replace").strip()[-500:]
    if status == -1:
        raise CollectError(
            "error", "connection dropped during collection (no exit status)" + (f": {tail}" if tail else "")
        )
    if status != 0:
        if become and "sudo" in tail and "password" in tail:
            raise CollectError(
                "error",
                f"sudo -n needs a password ({tail}); allow the collector NOPASSWD sudo "
                "for sh, or collect without become",
            )
        raise CollectError("error", f"collector exited with {status}" + (f": {tail}" if tail else ""))
    return out


@dataclass(frozen=True)
class Reply:
    """What one command run over SSH gave: its stdout, the target's host key, the phase times (seconds)."""

    out: bytes
    host_key: str
    times: dict[str, float]


def shell_command(host: Host, target: Endpoint) -> str:
    """Return the command that reads a script from stdin: through ``sudo -n`` when the host asks to become root."""
    return "sudo -n sh -s" if host.become and target.user != "root" else "sh -s"


def exec_once(
    route: list[Endpoint],
    command: str,
    stdin: bytes,
    timeout: float,
    become: bool = False,
    what: str = "transport",
) -> Reply:
    """Log in along a route (jump hosts first), run one command with ``stdin``, close every hop.

    Raise CollectError("unreachable"|"error") on any failure, an unforeseen paramiko one included
    (``ssh {what} failed: ...``): it is this host's error, never the scan's end.

    >>> exec_once(sshconfig.route(host, None), "show config", b"", 30.0).out  # doctest: +SKIP
    """
    clock = _Clock(timeout)
    opened: list[Any] = []
    try:
        transport = _login(route, clock, opened)
        host_key = hostkeys.fingerprint(transport.get_remote_server_key())
        out = _run(transport, command, stdin, clock, become)
    except CollectError:
        raise
    except Exception as exc:
        raise CollectError("error", f"ssh {what} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        for each in reversed(opened):
            each.close()
    return Reply(out, host_key, clock.times)


def collect(host: Host, plan: Plan, timeout: float, jump_host: Host | None = None) -> RawFacts:
    """Collect raw facts from a host over SSH; raise CollectError("unreachable"|"error") on any failure.

    ``jump_host`` is the inventory host that ``host.jump`` names, resolved by the caller; without it
    ``host.jump`` is read as a ProxyJump value (``[user@]host[:port]``, looked up in ~/.ssh/config).

    >>> collect(inventory.host("web01"), plan_for(["sshd"]), 60.0)  # doctest: +SKIP
    """
    route = sshconfig.route(host, jump_host)
    target = route[-1]
    nonce = new_nonce()
    script = build_script(plan, nonce, MAX_BYTES, probe_timeout_for(timeout)).encode("utf-8")
    command = shell_command(host, target)
    started = datetime.now().astimezone().isoformat(timespec="seconds")
    reply = exec_once(route, command, script, timeout, host.become)
    collector = {
        "name": "kijun-ssh",
        "version": __version__,
        "address": hostkeys.host_id(target.address, target.port),
        "user": target.user,
        "command": command,
        "host_key": reply.host_key,
        **(
            {"via": ",".join(hostkeys.host_id(ep.address, ep.port) for ep in route[:-1])}
            if len(route) > 1
            else {}
        ),
        **{
            f"{name}_s": f"{reply.times.get(name, 0.0):.3f}"
            for name in ("connect", "auth", "exec", "transfer")
        },
    }
    return parse_output(reply.out, nonce, host.name, started, collector)
