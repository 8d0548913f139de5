"""Host key verification for the ssh transport: known_hosts lookup, refusal of unknown or changed keys, TOFU.

Keys are read from ``~/.ssh/known_hosts``, ``/etc/ssh/ssh_known_hosts`` and the file named by
``KIJUN_KNOWN_HOSTS``. Plain and hashed (``|1|``) host names and ``@revoked`` lines are understood;
wildcard patterns and ``@cert-authority`` lines are not (such hosts count as unknown).
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko

from scanner import safeio
from scanner.errors import LoadError

# The CLI sets this for --trust-on-first-use; KIJUN_TOFU=1 does the same from the environment.
trust_on_first_use = False

# paramiko names the key "ssh-rsa" but negotiates it as one of these signature algorithms.
_ALGORITHMS = {"ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256")}


class HostKeyError(Exception):
    """The server's key is unknown, changed or revoked; the connection must not go on."""


@dataclass(frozen=True)
class _Entry:
    names: tuple[str, ...]
    key_type: str
    blob: bytes
    revoked: bool


_lock = threading.Lock()
_cache: dict[str, tuple[tuple[int, int], list[_Entry]]] = {}  # path -> ((mtime, size), its parsed entries)


def tofu_enabled() -> bool:
    """Tell whether unknown keys are recorded instead of refused."""
    return trust_on_first_use or os.environ.get("KIJUN_TOFU", "") == "1"


def known_hosts_files() -> list[Path]:
    """Return the known_hosts files to read, in order."""
    files = [Path(os.path.expanduser("~/.ssh/known_hosts")), Path("/etc/ssh/ssh_known_hosts")]
    extra = os.environ.get("KIJUN_KNOWN_HOSTS", "")
    return [Path(extra), *files] if extra else files


def record_file() -> Path:
    """Return the file that trust-on-first-use appends to."""
    extra = os.environ.get("KIJUN_KNOWN_HOSTS", "")
    return Path(extra) if extra else Path(os.path.expanduser("~/.ssh/known_hosts"))


def host_id(address: str, port: int) -> str:
    """Return the known_hosts name of an address, as OpenSSH writes it.

    >>> host_id("10.0.0.5", 2222)
    '[10.0.0.5]:2222'
    """
    return address if port == 22 else f"[{address}]:{port}"


def fingerprint(key: Any) -> str:
    """Return the OpenSSH SHA256 fingerprint of a key."""
    digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode("ascii").rstrip("=")
    return f"{key.get_name()} SHA256:{digest}"


def _parse(path: Path) -> list[_Entry]:
    entries: list[_Entry] = []
    # Regular files only, bounded (a FIFO must not hang the scan); an unreadable file lists no key.
    for line in safeio.read_bytes(path).decode("utf-8", "replace").splitlines():
        line = line.strip()
        revoked = line.startswith("@revoked ")
        if revoked:
            line = line.removeprefix("@revoked ").strip()
        if not line or line.startswith(("#", "@")):
            continue
        try:
            entry = paramiko.hostkeys.HostKeyEntry.from_line(line)
        except Exception:  # one bad line must not hide the others, as with OpenSSH
            continue
        if entry is not None and entry.key is not None:
            entries.append(_Entry(tuple(entry.hostnames), entry.key.get_name(), entry.key.asbytes(), revoked))
    return entries


def _entries() -> list[_Entry]:
    """Return all entries of the known_hosts files, parsing each file once per change."""
    out: list[_Entry] = []
    for path in known_hosts_files():
        try:
            st = path.stat()
        except OSError:
            continue
        stamp = (st.st_mtime_ns, st.st_size)
        with _lock:
            hit = _cache.get(str(path))
        if hit is not None and hit[0] == stamp:
            cached = hit[1]
        else:
            try:
                cached = _parse(path)
            except LoadError:  # fails closed: a key it would have listed is unknown, so refused
                continue
            with _lock:
                _cache[str(path)] = (stamp, cached)
        out.extend(cached)
    return out


def _matches(entry: _Entry, names: list[str]) -> bool:
    for pattern in entry.names:
        for name in names:
            if pattern == name:
                return True
            if pattern.startswith("|1|") and paramiko.HostKeys.hash_host(name, pattern) == pattern:
                return True
    return False


def key_types(names: list[str], offered: tuple[str, ...]) -> tuple[str, ...]:
    """Return ``offered`` with the algorithms of keys already known for these names first.

    Negotiating a known key type means a host with several keys is checked against the one we have.
    """
    known = [e.key_type for e in _entries() if not e.revoked and _matches(e, names)]
    first = [a for t in known for a in _ALGORITHMS.get(t, (t,)) if a in offered]
    return tuple(dict.fromkeys([*first, *offered]))


def verify(names: list[str], key: Any, label: str) -> str:
    """Check a server key against known_hosts; return "known" or "recorded", raise HostKeyError otherwise."""
    blob, key_type = key.asbytes(), key.get_name()
    matching = [e for e in _entries() if _matches(e, names)]
    if any(e.revoked and e.blob == blob for e in matching):
        raise HostKeyError(
            f"host key for {label} ({fingerprint(key)}) is marked @revoked in known_hosts; refusing"
        )
    valid = [e for e in matching if not e.revoked]
    if any(e.blob == blob for e in valid):
        return "known"
    if any(e.key_type == key_type for e in valid):
        raise HostKeyError(
            f"host key for {label} has CHANGED (server offered {fingerprint(key)}, known_hosts holds another "
            f"{key_type} key); refusing. If the change is expected, remove the old entry from known_hosts"
        )
    if not tofu_enabled():
        raise HostKeyError(
            f"host key for {label} is not known; verify it and add it to known_hosts, or run with "
            f"--trust-on-first-use (server offered {fingerprint(key)})"
        )
    record(names[0], key)
    return "recorded"


def record(name: str, key: Any) -> None:
    """Append a key to the trust-on-first-use file (locked, so parallel collections do not interleave)."""
    path = record_file()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    line = f"{name} {key.get_name()} {key.get_base64()}\n"
    with _lock:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, line.encode("ascii"))
        finally:
            os.close(fd)
