"""Read-only collection of a device's configuration over SSH: the one show command per vendor, never config mode.

kijun does not open an interactive session on a network device yet: this module builds the exact
command line (one SSH session, one exec request, the vendor's show command) and checks that a
command is read-only, so that the account given to kijun can be restricted to it. The output is
stored as the probe item ``probe:netdev-show`` (scanner/netdev/device.py reads it like the file).
"""

from __future__ import annotations

import shlex

SHOW = {
    "fortios": "show full-configuration",
    "cisco-ios": "show running-config",
    "cisco-asa": "show running-config",
    "yamaha-rtx": "show config",
}
# Words that would change a device; none may appear in what kijun sends.
_WRITES = (
    "configure",
    "config",
    "conf",
    "write",
    "copy",
    "delete",
    "erase",
    "reload",
    "set",
    "unset",
    "edit",
    "save",
    "administrator",
)


def show_command(vendor: str) -> str:
    """Return the read-only show command of a vendor.

    >>> show_command("yamaha-rtx")
    'show config'
    """
    if vendor not in SHOW:
        raise ValueError(f"vendor {vendor!r} is not one of {', '.join(SHOW)}")
    return SHOW[vendor]


def read_only(command: str) -> bool:
    """Tell whether a command only shows (starts with ``show`` and carries no write word or chaining)."""
    words = command.split()
    if not words or words[0] != "show" or any(c in command for c in (";", "|", "&", "\n", "`", "$")):
        return False
    return not any(w in _WRITES for w in words[1:2])


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
