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

# restic: the backup job's settings live on the host in /etc/kijun/restic.env, a root-owned file only
# root can write, of NAME=value lines (systemd EnvironmentFile syntax: no shell ever reads it). The
# variables go to restic in a clean environment; only restic's JSON comes back, never the password.
# The repository probe prints the location alone; a password in a URL (all of it, up to the last "@",
# since a password may hold "@") is removed on the host.
_RESTIC_ENV = r"""f=/etc/kijun/restic.env
if [ -z "$(find "$f" -prune -type f -user 0 ! -perm -020 ! -perm -002 2>/dev/null)" ]; then
  echo "kijun: $f is missing or is not a root-owned file that only root can write" >&2; exit 3
fi
[ -r "$f" ] || { echo "kijun: cannot read $f (collect as root)" >&2; exit 3; }
set --; h=$(uname -n); r=; rf=
while read -r l || [ -n "$l" ]; do
  k=${l%%=*}; v=${l#*=}
  [ "$k" != "$l" ] || continue
  case "$k" in ''|[0-9]*|*[!A-Za-z0-9_]*) continue;; esac
  case "$v" in \"*\") v=${v#\"}; v=${v%\"};; \'*\') v=${v#\'}; v=${v%\'};; esac
  case "$k" in RESTIC_HOST) h=$v;; RESTIC_REPOSITORY) r=$v;; RESTIC_REPOSITORY_FILE) rf=$v;; esac
  set -- "$@" "$k=$v"
done <"$f"
"""
_RESTIC_SNAPSHOTS = (
    _RESTIC_ENV
    + 'exec env -i PATH="$PATH" LC_ALL=C "$@" restic snapshots --json --no-lock --no-cache --host "$h"\n'
)
_RESTIC_REPOSITORY = (
    _RESTIC_ENV
    + """if [ -z "$r" ] && [ -n "$rf" ]; then read -r r <"$rf"; fi
[ -n "$r" ] || { echo "kijun: no RESTIC_REPOSITORY in $f" >&2; exit 4; }
printf '%s\\n' "$r" | sed -e 's#\\(://[^/@:]*\\):.*@#\\1@#'
"""
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
    "restic-snapshots": _RESTIC_SNAPSHOTS,
    "restic-repository": _RESTIC_REPOSITORY,
}
