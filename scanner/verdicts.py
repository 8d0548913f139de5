"""Verdicts remembered by content: hosts cloned from one image are judged once per configuration.

A check's verdict on a host (status, observed, expected, message and the fact paths that decided
it) is a pure function of its compiled conditions, the parameters of the host's kind and the values
at the fact paths its conditions name. Terminals cloned from one image share their sshd_config, PAM
stacks, sudoers, services and packages: the same values at those paths, so the same verdicts. This
keeps verdicts keyed by (a check on a kind of host, the values it reads written by ``marshal``):
equal bytes are equal values of the same exact types, so a kept verdict is the one the check would
give. Anything marshal cannot write (only JSON values can be) is judged afresh; parser errors,
evidence and origins are the host's own and never kept here. The kept keys have a byte budget.
"""

from __future__ import annotations

import marshal
from itertools import count
from typing import Any

from scanner.leaves import Steps, steps_of, walk
from scanner.operators import MISSING
from scanner.results import Status

# status, observed, expected, message, decided (the fact paths, for the origin; None: no origin)
Verdict = tuple[Status, Any, Any, str, "list[str] | None"]

SERIALS = count()  # one per check of a plan's step: (check, parameters of the kind), never reused
BUDGET = 8 << 20  # bytes of kept keys; past it, all are forgotten and kept afresh
_KEPT: dict[tuple[int, bytes], Verdict] = {}
_USED = [0]
_TALLY: dict[int, list[int]] = {}  # serial -> [keys made, keys found, calls skipped]


def reads(*conditions: Any) -> tuple[Steps, ...] | None:
    """Return every fact path the conditions name, split (None: one that is not a plain path)."""
    paths: dict[str, None] = {}
    if not all(_paths(c, paths) for c in conditions):
        return None
    found = [steps_of(p) for p in paths]
    return None if any(f is None for f in found) else tuple(f for f in found if f is not None)


def _paths(cond: Any, into: dict[str, None]) -> bool:
    if isinstance(cond, dict):
        if "fact" in cond:
            if not isinstance(cond["fact"], str):
                return False  # read as str(fact) by the interpreter: not worth a key
            into[cond["fact"]] = None
        return all(_paths(v, into) for v in cond.values())
    if isinstance(cond, list):
        return all(_paths(v, into) for v in cond)
    return True


def content(paths: tuple[Steps, ...], tree: dict[str, Any]) -> bytes | None:
    """Return the values at the paths as bytes (a missing one as ``()``); None: not plain JSON values."""
    values = []
    for path in paths:
        value = walk(tree, path)
        values.append(() if value is MISSING else (value,))
    try:
        return marshal.dumps(values, 2)  # version 2: no back-references, so equal values, equal bytes
    except ValueError:
        return None


def recall(
    serial: int, paths: tuple[Steps, ...], tree: dict[str, Any]
) -> tuple[bytes | None, Verdict | None]:
    """Return (the key of what this check reads on this tree, the verdict kept for it).

    A check whose keys rarely come back (it reads what differs host by host: login ages, clocks)
    stops being keyed for a while: its keys would cost more than they save.
    """
    tally = _TALLY.get(serial)
    if tally is None:
        tally = _TALLY[serial] = [0, 0, 0]  # keys made, keys found, calls skipped
    elif tally[0] >= 64 and tally[1] * 4 < tally[0]:
        tally[2] += 1
        if tally[2] >= 4096:
            tally[:] = [0, 0, 0]  # try again: the hosts judged now may be clones of one another
        return None, None
    key = content(paths, tree)
    if key is None:
        return None, None
    tally[0] += 1
    found = _KEPT.get((serial, key))
    if found is not None:
        tally[1] += 1
    return key, found


def keep(serial: int, key: bytes, verdict: Verdict) -> None:
    """Keep a verdict under its key, within the budget."""
    size = len(key) + 100
    if size > BUDGET // 16:
        return  # one host's long list would crowd out the rest
    if _USED[0] + size > BUDGET:
        _KEPT.clear()
        _USED[0] = 0
    _KEPT[(serial, key)] = verdict
    _USED[0] += size
