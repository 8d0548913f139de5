"""Read-only collection of a device's configuration over SSH: one session, one exec of the show command.

No shell, no pager, no config mode: the vendor's show command is the whole exec request, so the
account given to kijun can be limited to it (a read-only profile, a forced command). Host keys and
authentication are the SSH transport's (scanner/collect/ssh.py: known_hosts, keys, jump hosts).
The output is the probe item ``probe:netdev-show``, read like the exported file.
"""

from __future__ import annotations

import hashlib
import shlex
from datetime import datetime

from scanner import __version__
from scanner.collect import Plan, hostkeys, sshconfig
from scanner.collect import ssh as transport
from scanner.inventory import Host
from scanner.netdev.device import SHOW_ITEM, vendor
from scanner.rawfacts import Item, RawFacts

SHOW = {
    "fortios": "show full-configuration",
    "cisco-ios": "show running-config",
    "cisco-asa": "show running-config",
    "yamaha-rtx": "show config",
}


def show_command(vendor: str) -> str:
    """Return the read-only show command of a vendor.

    >>> show_command("yamaha-rtx")
    'show config'
    """
    if vendor not in SHOW:
        raise ValueError(f"vendor {vendor!r} is not one of {', '.join(SHOW)}")
    return SHOW[vendor]


def read_only(command: str) -> bool:
    """Tell whether a command only shows: it starts with ``show`` and chains nothing (no ; | & or newline)."""
    words = command.split()
    return (
        bool(words)
        and words[0] == "show"
        and not any(c in command for c in (";", "|", "&", "\n", "`", "$", ">"))
    )


def argv(vendor: str, address: str, user: str, port: int = 22, known_hosts: str = "") -> list[str]:
    """Return the OpenSSH command line that runs the show command once, batch mode, host key checked.

    >>> argv("cisco-ios", "10.90.0.2", "kijun-ro")[-1]
    'show running-config'
    """
    command = show_command(vendor)
    if not read_only(command):  # pragma: no cover - SHOW holds only show commands
        raise ValueError(f"not a read-only command: {command!r}")
    out = ["ssh", "-T", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-p", str(port)]
    if known_hosts:
        out += ["-o", f"UserKnownHostsFile={shlex.quote(known_hosts)}"]
    return [*out, "-l", user, "--", address, command]


def collect(host: Host, plan: Plan, timeout: float, jump_host: Host | None = None) -> RawFacts:
    """Read a device's configuration with its show command over SSH (the plan is not used: one item)."""
    del plan
    command = show_command(vendor(host))
    route = sshconfig.route(host, jump_host)
    started = datetime.now().astimezone().isoformat(timespec="seconds")
    reply = transport.exec_once(route, command, b"", timeout)
    out = reply.out
    item = Item(
        id=SHOW_ITEM,
        kind="probe",
        cmd=command,
        rc=0,
        data=out,
        size=len(out),
        sha256=hashlib.sha256(out).hexdigest(),
    )
    collector = {
        "name": "kijun-netdev-ssh",
        "version": __version__,
        "address": hostkeys.host_id(route[-1].address, route[-1].port),
        "user": route[-1].user,
        "command": command,
        "host_key": reply.host_key,
    }
    return RawFacts(host=host.name, collected_at=started, collector=collector, items={SHOW_ITEM: item})
