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
# since a password may hold "@") is removed on the host. A host without the file starts no process.
_RESTIC_ENV = r"""f=/etc/kijun/restic.env
if [ ! -e "$f" ] || [ -z "$(find "$f" -prune -type f -user 0 ! -perm -020 ! -perm -002 2>/dev/null)" ]; then
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

# The egress probe (opt-in, scanner/probes/egress.py plans it): from the collected host itself, one
# TCP connect per (address, port) pair the scanner chose, a short timeout, no payload. Its text is
# fixed; only validated addresses and port numbers go in, each quoted. Lines: "tcp <addr> <port>
# <state> <reason>" (python3) or "nc <addr> <port> <rc> <message>" (nc), as the zone probe's fallback.
EGRESS = "egress-connect"
# The name is known (the framing accepts its record); the command that runs is generated per host.
PROBES[EGRESS] = "echo 'kijun: egress-connect runs only with targets from the scanner' >&2; exit 64"
# One TCP connect, classified (shared with the zone probe's python3 fallback, scanner/probes/script.py);
# no single quote inside: it travels as one sh word.
CONNECT_ONE = """\
def one(job):
    a, p = job[0], int(job[1])
    s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(wait)
    try:
        s.connect((a, p))
        r = ("open", "syn-ack")
    except socket.timeout:
        r = ("filtered", "no-response")
    except ConnectionRefusedError:
        r = ("closed", "conn-refused")
    except OSError as e:
        blocked = (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM)
        r = ("filtered" if e.errno in blocked else "unknown", errno.errorcode.get(e.errno or 0, "error"))
    finally:
        s.close()
    return a, p, r
"""
_EGRESS_PY = (
    """\
import errno, socket, sys
from concurrent.futures import ThreadPoolExecutor
wait, args = float(sys.argv[1]), sys.argv[2:]
"""
    + CONNECT_ONE
    + """\
with ThreadPoolExecutor(32) as pool:
    for a, p, (state, why) in pool.map(one, list(zip(args[0::2], args[1::2]))):
        print("tcp", a, p, state, why)
"""
)


def egress_command(pairs: list[tuple[str, int]], timeout_s: int) -> str:
    """Return the egress probe's command for validated (address, port) pairs (python3, else nc).

    >>> egress_command([("10.0.30.20", 8080)], 1).startswith("if command -v python3")
    True
    """
    import ipaddress
    import shlex

    words = []
    for address, port in pairs:
        if not 0 < int(port) < 65536:
            raise ValueError(f"bad port {port!r}")
        words += [str(ipaddress.ip_address(address)), str(int(port))]
    args = " ".join(shlex.quote(w) for w in words)
    wait = str(max(1, int(timeout_s)))
    return (
        f"if command -v python3 >/dev/null 2>&1; then python3 -c {shlex.quote(_EGRESS_PY)} {wait} {args}; "
        f"elif command -v nc >/dev/null 2>&1; then set -- {args}; while [ $# -gt 1 ]; do "
        f'o=$(nc -z -v -n -w {wait} "$1" "$2" 2>&1); r=$?; '
        'printf \'nc %s %s %s %s\\n\' "$1" "$2" "$r" "$(printf \'%s\' "$o" | tr \'\\n\' \' \' | cut -c1-200)"; '
        "shift 2; done; else echo 'kijun: neither python3 nor nc' >&2; exit 127; fi"
    )
