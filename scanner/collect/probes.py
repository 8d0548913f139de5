"""Named probes: the only commands the collector runs on a host (never shell from YAML or inventory).

Each command is read-only. They run with ``LC_ALL=C`` under ``sh``; a missing tool gives rc 127,
which parsers read as "not collected" for that probe's facts.
"""

from __future__ import annotations

# The shadow reduction runs on the host: hashes never leave it, only their state.
_SHADOW = (
    'awk -F: \'{p=$2; s="set"; '
    'if (p=="") s="empty"; '
    'else if (p=="*" || p=="!" || p=="!*" || p=="!!" || p=="*LK*") s="nopassword"; '
    'else if (substr(p,1,1)=="!") s="locked"; '
    'print $1":"s":"$3":"$4":"$5":"$6":"$7":"$8}\' /etc/shadow'
)

PROBES: dict[str, str] = {
    "sshd-T": "sshd -T",
    "shadow-state": _SHADOW,
    "lastlog": "lastlog",
    "systemctl-units": "systemctl list-units --type=service --all --no-legend --plain --no-pager",
    "systemctl-unit-files": "systemctl list-unit-files --type=service,timer --no-legend --no-pager",
    "systemctl-timers": "systemctl list-timers --all --no-legend --no-pager",
    "chronyc-tracking": "chronyc -n tracking",
    "chronyc-sources": "chronyc -n sources",
    "timedatectl": "timedatectl show",
    "timesync-status": "timedatectl show-timesync --all",
    "ip-addr": "ip -j addr show",
    "ip-route": "ip -j route show table all",
    "ss-listen": "ss -H -tuln",
    "nft-ruleset": "nft list ruleset",
    "iptables-save": "iptables-save",
    "auditctl-rules": "auditctl -l",
    "auditctl-status": "auditctl -s",
    "apt-upgradable": "apt-get -s -o Debug::NoLocking=1 dist-upgrade",
}
