"""Resolve where and as whom the ssh transport connects: inventory fields merged with ``~/.ssh/config``.

As on the ``ssh`` command line, inventory values win and ``~/.ssh/config`` fills the rest:
``HostName``, ``User``, ``Port`` (when the inventory keeps the default 22), ``IdentityFile``,
``IdentitiesOnly`` and ``ProxyJump``. The config is looked up by the host's address (its name when
it has no address), as ``ssh <address>`` would. Keys are offered as ``ssh`` does: identity files,
then ssh-agent (unless IdentitiesOnly), then ``~/.ssh/id_*`` when no identity file is configured.
"""

from __future__ import annotations

import getpass
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko

from scanner.collect import hostkeys
from scanner.collect.plan import CollectError
from scanner.facts.sshd_syntax import host_port
from scanner.inventory import Host

DEFAULT_KEYS = ("~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa")


@dataclass(frozen=True)
class Endpoint:
    """One SSH server to log in to: a target host or a jump host."""

    label: str  # for messages: the inventory name or the ProxyJump word
    address: str
    port: int
    user: str
    identity_files: tuple[str, ...] = ()
    identities_only: bool = False
    proxy_jump: str = ""  # from ~/.ssh/config; "" when none applies


def config_path() -> Path:
    """Return the path of the user's ssh client config."""
    return Path(os.path.expanduser("~/.ssh/config"))


def _options(target: str) -> dict[str, Any]:
    path = config_path()
    if not path.is_file():
        return {"hostname": target}
    try:
        config = paramiko.SSHConfig.from_path(str(path))
        options: dict[str, Any] = dict(config.lookup(target))
    except Exception as exc:  # paramiko raises several types for a bad config file
        raise CollectError("error", f"{path}: cannot read ssh config: {exc}") from exc
    return options


def _user(options: dict[str, Any], explicit: str) -> str:
    if explicit:
        return explicit
    configured = options.get("user")
    return str(configured) if configured else getpass.getuser()


def _identities(options: dict[str, Any], explicit: str) -> tuple[str, ...]:
    files = ([explicit] if explicit else []) + [str(f) for f in options.get("identityfile", [])]
    return tuple(dict.fromkeys(os.path.expanduser(f) for f in files))


def for_host(host: Host) -> Endpoint:
    """Return the endpoint of an inventory host."""
    target = host.address or host.name
    options = _options(target)
    port = host.port if host.port != 22 else int(options.get("port", 22))
    jump = str(options.get("proxyjump", ""))
    return Endpoint(
        label=host.name,
        address=str(options.get("hostname", target)),
        port=port,
        user=_user(options, host.user),
        identity_files=_identities(options, host.identity_file),
        identities_only=str(options.get("identitiesonly", "no")).lower() == "yes",
        proxy_jump="" if jump.lower() == "none" else jump,
    )


def for_spec(spec: str) -> Endpoint:
    """Return the endpoint of one ProxyJump word: ``[user@]host[:port]`` or ``ssh://[user@]host[:port]``.

    >>> for_spec("ops@[fd00::1]:2222").port
    2222
    """
    rest = spec.removeprefix("ssh://")
    user, _, hostport = rest.rpartition("@")
    host, port = host_port(hostport)
    if not host or (port and not port.isdigit()):
        raise CollectError("error", f"bad jump host {spec!r} (expected [user@]host[:port])")
    options = _options(host)
    return Endpoint(
        label=host,
        address=str(options.get("hostname", host)),
        port=int(port) if port else int(options.get("port", 22)),
        user=_user(options, user),
        identity_files=_identities(options, ""),
        identities_only=str(options.get("identitiesonly", "no")).lower() == "yes",
    )


def identities(ep: Endpoint) -> Iterator[tuple[str, Any]]:
    """Yield (label, key or None) to offer: identity files, then the agent, then the default key files."""
    for name in ep.identity_files:
        yield _key_file(name)
    if not ep.identities_only:
        try:
            agent = paramiko.Agent()
        except paramiko.SSHException:
            agent = None  # no usable agent: keys from files only
        if agent is not None:
            try:
                for key in agent.get_keys():
                    yield f"agent key {hostkeys.fingerprint(key)}", key
            finally:
                agent.close()
    if not ep.identity_files:
        for name in DEFAULT_KEYS:
            if os.path.exists(os.path.expanduser(name)):
                yield _key_file(name)


# Loaded private keys by file and version (inode, size, change times). paramiko loads a key file
# twice and cryptography checks an RSA key each time: ≈ 370 ms of CPU for RSA-3072 on the project's
# machine, which every host of a scan paid again. A changed or replaced file is loaded anew; the
# keys stay in this process only. One lock: the scan's collecting threads start at once, and one
# of them loads while the others wait for its key.
_KEYS: dict[tuple[str, int, int, int, int], Any] = {}
_LOADING = threading.Lock()


def _key_file(name: str) -> tuple[str, Any]:
    """Load a private key file; the key is None (with the reason in the label) when it cannot be used."""
    path = os.path.expanduser(name)
    try:
        seen = os.stat(path)
        version = (path, seen.st_ino, seen.st_size, seen.st_mtime_ns, seen.st_ctime_ns)
        with _LOADING:
            if version not in _KEYS:
                _KEYS[version] = paramiko.PKey.from_path(path)
            return path, _KEYS[version]
    except paramiko.PasswordRequiredException:
        return f"{path} (encrypted: load it into ssh-agent)", None
    except TypeError as exc:  # paramiko 4+ passes cryptography's "Key is password-protected" on
        if "password" in str(exc).lower():
            return f"{path} (encrypted: load it into ssh-agent)", None
        return f"{path} (unusable: {exc})", None
    except (OSError, paramiko.SSHException, ValueError) as exc:
        return f"{path} (unusable: {exc})", None


def route(host: Host, jump_host: Host | None = None) -> list[Endpoint]:
    """Return the hops to log in to, in order, ending with the host itself.

    The jump is, first match wins: ``jump_host`` (the inventory host named by ``host.jump``, resolved
    by the caller), ``host.jump`` read as a ProxyJump value, or ProxyJump from ``~/.ssh/config``.
    A comma-separated ProxyJump is a chain of hops.
    """
    target = for_host(host)
    if jump_host is not None:
        hops = [for_host(jump_host)]
    else:
        spec = host.jump or target.proxy_jump
        hops = [for_spec(word.strip()) for word in spec.split(",") if word.strip()]
    return [*hops, target]
