"""Own the scanner host's time-sync state for the run envelope (chrony first, then systemd).

Evidence timestamps are only as good as the clock that wrote them, so every run records whether
the scanner's own clock was synchronised, to what and how far off. Nothing here ever claims
"synchronized" on doubt: a tool that is missing, fails or prints something unexpected gives
``unknown`` with the reason.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from typing import Any

Runner = Callable[[list[str]], tuple[int, str, str]]

CHRONYC = ["chronyc", "-n", "tracking"]
TIMEDATECTL = ["timedatectl", "show"]
_LOCAL_REFERENCE = "7F7F0101"  # chronyd serving its own clock (`local stratum N`), no upstream


def parse_chronyc(text: str) -> dict[str, Any]:
    """Parse ``chronyc -n tracking``; raise ValueError on output it does not recognise.

    >>> parse_chronyc(open("chronyc-tracking.txt").read())["state"]  # doctest: +SKIP
    'synchronized'
    """
    fields = {
        k.strip(): v.strip() for k, sep, v in (line.partition(":") for line in text.splitlines()) if sep
    }
    reference = re.fullmatch(r"([0-9A-Fa-f]{8}) \((.*)\)", fields.get("Reference ID", ""))
    offset = re.fullmatch(r"(\d+(?:\.\d+)?) seconds (fast|slow) of NTP time", fields.get("System time", ""))
    leap = fields.get("Leap status", "")
    if reference is None or offset is None or not leap or not fields.get("Stratum", "").isdigit():
        raise ValueError("chronyc tracking: unexpected output")
    ref_id, source = reference.group(1).upper(), reference.group(2)
    seconds = float(offset.group(1)) * (1 if offset.group(2) == "fast" else -1)
    out: dict[str, Any] = {
        "tool": " ".join(CHRONYC),
        "source": source or ref_id,
        "stratum": int(fields["Stratum"]),
        "offset_seconds": seconds,
        "leap_status": leap,
    }
    if leap == "Not synchronised" or ref_id == "00000000":
        return {"state": "unsynchronized", **out, "reason": "chronyd has no selected source"}
    if ref_id == _LOCAL_REFERENCE:
        return {
            "state": "unsynchronized",
            **out,
            "reason": "chronyd follows its own local clock, no upstream source",
        }
    return {"state": "synchronized", **out, "reason": ""}


def parse_timedatectl(text: str) -> dict[str, Any]:
    """Parse ``timedatectl show``; raise ValueError when NTPSynchronized is absent."""
    values = dict(line.partition("=")[::2] for line in text.splitlines() if "=" in line)
    flag = values.get("NTPSynchronized")
    if flag not in ("yes", "no"):
        raise ValueError("timedatectl show: no NTPSynchronized")
    tool = " ".join(TIMEDATECTL)
    if flag == "yes":
        return {
            "state": "synchronized",
            "tool": tool,
            "source": "",
            "reason": "offset not reported by timedatectl",
        }
    return {"state": "unsynchronized", "tool": tool, "source": "", "reason": "NTPSynchronized=no"}


def _run(cmd: list[str]) -> tuple[int, str, str]:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=5, check=False)
    except FileNotFoundError:
        return 127, "", f"{cmd[0]}: not installed"
    except subprocess.TimeoutExpired:
        return 124, "", f"{cmd[0]}: no answer within 5 s"
    return done.returncode, done.stdout, done.stderr


def _first_line(rc: int, stdout: str, stderr: str) -> str:
    text = (stderr.strip() or stdout.strip() or f"exit {rc}").splitlines()[0]
    return f"rc {rc}: {text}"


def state(run: Runner = _run) -> dict[str, Any]:
    """Return the scanner host's time-sync state: chrony if it answers, else timedatectl, else unknown."""
    reasons: list[str] = []
    for cmd, parse in ((CHRONYC, parse_chronyc), (TIMEDATECTL, parse_timedatectl)):
        rc, stdout, stderr = run(cmd)
        if rc != 0:
            reasons.append(f"{' '.join(cmd)}: {_first_line(rc, stdout, stderr)}")
            continue
        try:
            return parse(stdout)
        except ValueError as exc:
            reasons.append(str(exc))
    return {"state": "unknown", "tool": "", "source": "", "reason": "; ".join(reasons)}
