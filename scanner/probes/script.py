"""Build the one POSIX sh probe script a vantage runs, and split its framed output into sections.

The script is fixed text; only validated data goes in (IP addresses, CIDRs and port numbers,
checked by ``ipaddress`` and ``int``, then quoted), never shell taken from YAML or an inventory.
It runs nmap when the vantage has it: one run over all targets and ports (the matrix), one ping
sweep of the zone (INV-01). Without nmap it falls back to a TCP connect per target and port:

- ``nc -z -v -n -w`` when nc is present (OpenBSD, traditional or ncat): connected = open, "refused"
  = closed (a reset came back), "timed out"/"unreachable" = filtered, anything else = unknown.
  It cannot sweep (INV-01 is an error from such a vantage) and waits up to ``-w`` per closed path.
- else ``python3``: the same classes from ``connect()`` errors, and a sweep that counts an address
  as up when any of tcp/22, 80, 443, 445 connects or resets.

Neither fallback sees UDP, ICMP, or an answer from a firewall that resets on behalf of a host (such
a reset reads as "closed": a path, which is the cautious reading).
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from scanner.collect.probes import CONNECT_ONE
from scanner.probes.nmapargs import Runs as Runs
from scanner.probes.nmapargs import Timing as Timing
from scanner.probes.nmapargs import full_args as full_args
from scanner.probes.nmapargs import matrix_args as matrix_args
from scanner.probes.nmapargs import nmap_runs, sweep_args

_NONCE = re.compile(r"[0-9a-f]{16,64}")

# The fallback connect prober (no single quote inside: it is passed as one sh word).
PYTHON = (
    """\
import errno, ipaddress, socket, sys
from concurrent.futures import ThreadPoolExecutor
mode, wait, arg = sys.argv[1], float(sys.argv[2]), sys.argv[3]
"""
    + CONNECT_ONE
    + """\
if mode == "matrix":
    jobs = [(a, int(p)) for a in sys.argv[4:] for p in arg.split(",")]
else:
    addrs = [str(h) for n in sys.argv[4:] for h in ipaddress.ip_network(n).hosts()]
    if len(addrs) > int(arg):
        print("too-many", len(addrs))
        sys.exit(3)
    jobs = [(a, p) for a in addrs for p in (22, 80, 443, 445)]
up = {}
with ThreadPoolExecutor(64) as pool:
    for a, p, (state, why) in pool.map(one, jobs):
        if mode == "matrix":
            print("tcp", a, p, state, why)
        elif state in ("open", "closed") and a not in up:
            up[a] = why
            print("up", a, why)
"""
)

_SCRIPT = r"""#!/bin/sh
# kijun zone probe (generated): it connects only to the addresses below and writes no file.
# One function, parsed whole before it runs: `sh -s` reads the script from stdin, which it closes.
main() {
exec 6>&1 </dev/null
LC_ALL=C; export LC_ALL
PATH="$PATH:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"; export PATH
K='==KIJUN-PROBE:@NONCE@:'
T=@TARGETS@
P=@PORTS@
S=@SWEEP@
W=@WAIT@
kj_has() { command -v "$1" >/dev/null 2>&1; }
kj_begin() { printf '%sBEGIN %s\n' "$K" "$1"; }
kj_end() { printf '\n%sSTDERR\n%s\n%sRC %s\n' "$K" "$1" "$K" "$2"; }
printf '%sSTART 1\n%sEUID %s\n' "$K" "$K" "$(id -u 2>/dev/null)"
if kj_has nmap; then
  printf '%sTOOL nmap\n' "$K"
  kj_begin nmap-version; kj_e=$(nmap -V 2>&1 1>&6); kj_end "$kj_e" $?
  if [ "$(id -u 2>/dev/null)" = 0 ]; then
@ROOTRUNS@
  else
@USERRUNS@
  fi
  if [ -n "$S" ]; then
    kj_begin nmap-zone-sweep; kj_e=$(nmap @SWEEPARGS@ $S 2>&1 1>&6); kj_end "$kj_e" $?
  fi
elif kj_has nc; then
  printf '%sTOOL nc\n' "$K"
  if [ -n "$T" ]; then
    kj_begin tcp-connect-matrix
    for kj_a in $T; do
      for kj_p in $P; do
        ( kj_o=$(nc -z -v -n -w "$W" "$kj_a" "$kj_p" 2>&1); kj_r=$?
          printf 'nc %s %s %s %s\n' "$kj_a" "$kj_p" "$kj_r" "$(printf '%s' "$kj_o" | tr -d '\r' | tr '\n' ' ' | cut -c1-200)" ) &
      done
      wait
    done
    kj_end "" 0
  fi
  if [ -n "$S" ]; then kj_begin sweep-unsupported; kj_end "nc cannot sweep" 0; fi
elif kj_has python3; then
  printf '%sTOOL python3\n' "$K"
  KJ_PY='@PYTHON@'
  if [ -n "$T" ]; then
    kj_begin tcp-connect-matrix; kj_e=$(python3 -c "$KJ_PY" matrix "$W" @PORTLIST@ $T 2>&1 1>&6); kj_end "$kj_e" $?
  fi
  if [ -n "$S" ]; then
    kj_begin tcp-connect-sweep; kj_e=$(python3 -c "$KJ_PY" sweep "$W" @CAP@ $S 2>&1 1>&6); kj_end "$kj_e" $?
  fi
else
  printf '%sTOOL none\n' "$K"
fi
printf '%sDONE\n' "$K"
}
main
"""


def _ips(values: Sequence[str], networks: bool = False) -> list[str]:
    out = []
    for value in values:
        parsed = ipaddress.ip_network(value, strict=False) if networks else ipaddress.ip_address(value)
        out.append(str(parsed))
    return out


def new_nonce() -> str:
    return secrets.token_hex(16)


def _lines(runs: list[tuple[str, list[str], list[str]]], note: str = "") -> str:
    out = [
        f'    kj_begin {name}; kj_e=$(nmap {shlex.join(args)} {shlex.join(group)} 2>&1 1>&6); kj_end "$kj_e" $?'
        for name, args, group in runs
    ]
    if note:
        out.append(f"    kj_begin not-root; printf '%s\\n' {shlex.quote(note)}; kj_end '' 0")
    return "\n".join(out) or "    :"


def build(
    targets: Sequence[str],
    ports: Sequence[int],
    sweep: Sequence[str],
    timing: Timing,
    nonce: str,
    runs: Runs | None = None,
) -> tuple[str, dict[str, str]]:
    """Return the probe script and the command line of each section (for the evidence).

    >>> build(["10.0.0.5"], [22], [], Timing(), new_nonce())[1]["nmap-zone-matrix"][:13]  # doctest: +SKIP
    'nmap -n -Pn -'
    """
    if not _NONCE.fullmatch(nonce):
        raise ValueError("bad nonce")
    runs = runs or Runs()
    addresses, cidrs = _ips(targets), _ips(sweep, networks=True)
    port_list = sorted({int(p) for p in ports})
    udp = sorted({int(p) for p in runs.udp})
    if any(not 0 < p < 65536 for p in [*port_list, *udp, *runs.sports]):
        raise ValueError(f"bad port in {port_list} {udp} {list(runs.sports)}")
    runs = Runs(udp, _ips(runs.deep), sorted({int(p) for p in runs.sports}), runs.full)
    as_root = nmap_runs(addresses, port_list, timing, runs, True)
    as_user = nmap_runs(addresses, port_list, timing, runs, False)
    skipped = [w for w, on in (("UDP", udp), ("source-port", runs.sports and runs.deep)) if on]
    note = f"not root: {' and '.join(skipped)} probes not run (they need raw sockets)" if skipped else ""
    sweeping = sweep_args(timing)
    wait = str(int(timing.connect_timeout_s))
    script = (
        _SCRIPT.replace("@NONCE@", nonce)
        .replace("@TARGETS@", shlex.quote(" ".join(addresses)))
        .replace("@PORTS@", shlex.quote(" ".join(str(p) for p in port_list)))
        .replace("@PORTLIST@", shlex.quote(",".join(str(p) for p in port_list)))
        .replace("@SWEEP@", shlex.quote(" ".join(cidrs)))
        .replace("@WAIT@", wait)
        .replace("@CAP@", str(int(timing.sweep_max_addresses)))
        .replace("@ROOTRUNS@", _lines(as_root) if port_list else "    :")
        .replace("@USERRUNS@", _lines(as_user, note) if port_list else "    :")
        .replace("@SWEEPARGS@", shlex.join(sweeping))
        .replace("@PYTHON@", PYTHON)
    )
    commands = {
        "nmap-version": "nmap -V",
        **{name: shlex.join(["nmap", *args, *group]) for name, args, group in [*as_root, *as_user]},
        "nmap-zone-sweep": shlex.join(["nmap", *sweeping, *cidrs]),
        "tcp-connect-matrix": f"nc -z -v -n -w {wait} <address> <port> | python3 connect() timeout {wait}s: "
        + f"{len(addresses)} addresses x ports {','.join(str(p) for p in port_list)}",
        "tcp-connect-sweep": f"python3 connect() to tcp/22,80,443,445 of {' '.join(cidrs)}",
        "sweep-unsupported": "nc cannot sweep",
        "not-root": "(a note: the probe did not run as root)",
    }
    return script, commands


@dataclass(frozen=True)
class Section:
    """One framed section of the probe output."""

    name: str
    stdout: str
    stderr: str
    rc: int | None  # None when the output ended inside the section


@dataclass(frozen=True)
class Output:
    """What a vantage's probe script printed."""

    tool: str
    euid: str
    sections: dict[str, Section]
    complete: bool


def parse(data: bytes, nonce: str) -> Output:
    """Split framed output into sections; text before START (a login banner) is ignored."""
    mark = f"==KIJUN-PROBE:{nonce}:"
    lines = data.decode("utf-8", errors="replace").split("\n")
    tool = euid = ""
    sections: dict[str, Section] = {}
    started = complete = False
    name = ""
    out: list[str] = []
    err: list[str] = []
    part = ""
    for line in lines:
        if not line.startswith(mark):
            if part == "out":
                out.append(line)
            elif part == "err":
                err.append(line)
            continue
        word, _, rest = line[len(mark) :].partition(" ")
        if word == "START":
            started = True
        elif not started:
            continue
        elif word == "EUID":
            euid = rest.strip()
        elif word == "TOOL":
            tool = rest.strip()
        elif word == "BEGIN":
            name, part, out, err = rest.strip(), "out", [], []
        elif word == "STDERR":
            part = "err"
        elif word == "RC" and name:
            rc = int(rest) if rest.strip().lstrip("-").isdigit() else None
            # kj_end's newlines before STDERR and RC are the separators the split consumed.
            sections[name] = Section(name, "\n".join(out), "\n".join(err), rc)
            name, part = "", ""
        elif word == "DONE":
            complete = True
    if name:
        sections[name] = Section(name, "\n".join(out), "\n".join(err), None)
    return Output(tool, euid, sections, complete and started)
