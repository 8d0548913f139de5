"""How all/any/none and every/some settle on one outcome from the outcomes of their parts.

The interpreter (``scanner.conditions``) and the compiled conditions (``scanner.compiled``,
``scanner.brief``) share these, so they cannot come to different verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scanner.results import Status


@dataclass(slots=True)
class Outcome:
    """The result of evaluating a condition tree."""

    status: Status
    observed: Any = None
    expected: Any = None
    message: str = ""
    subjects: set[str] = field(default_factory=set)
    where: str = ""  # the fact address of a leaf, so compound observations read as {address: value}
    decided: list[str] = field(default_factory=list)  # fact paths that decided the status, in order


def quantified(
    op: str,
    value: list[Any],
    statuses: list[Status],
    messages: list[str],
    decideds: list[list[str]] | None,
    expected: str,
    subjects: set[str],
) -> Outcome:
    """Return the outcome of every/some over a list from each item's status, message and decided paths.

    ``decideds`` None: no item outcome read a fact of its own.
    """
    failing = [_name(e) for e, s in zip(value, statuses, strict=True) if s is Status.FAIL]
    errors = [m for s, m in zip(statuses, messages, strict=True) if s is Status.ERROR]
    if op == "every":
        if failing:
            out = Outcome(
                Status.FAIL, failing, expected, f"{len(failing)} of {len(value)} items fail", subjects
            )
        elif errors:
            out = Outcome(Status.ERROR, None, expected, errors[0], subjects)
        else:
            out = Outcome(Status.PASS, f"{len(value)} items", expected, "", subjects)
    elif Status.PASS in statuses:
        passing = [_name(e) for e, s in zip(value, statuses, strict=True) if s is Status.PASS]
        out = Outcome(Status.PASS, passing, expected, "", subjects)
    elif errors:
        out = Outcome(Status.ERROR, None, expected, errors[0], subjects)
    else:
        out = Outcome(Status.FAIL, [], expected, "no item matches", subjects)
    if decideds is not None:
        chosen = (d for s, d in zip(statuses, decideds, strict=True) if s is out.status)
        out.decided = list(dict.fromkeys(p for d in chosen for p in d))
    return out


def _decided(outs: list[Outcome]) -> list[str]:
    """Return the fact paths the deciding outcomes read, each once, in order."""
    return list(dict.fromkeys(p for o in outs for p in o.decided))


def _name(element: Any) -> Any:
    """Name a list element in observed values (its ``name`` when it has one)."""
    if isinstance(element, dict):
        for key in ("name", "path", "id", "address"):
            if key in element:
                return element[key]
    return element


def combined(op: str, outs: list[Outcome], expected: str) -> Outcome:
    """Return the outcome of all/any/none from its branches' outcomes (``expected`` written out)."""
    subjects = set().union(*(o.subjects for o in outs)) if outs else set()
    observed: dict[str, Any] = {}
    for o in outs:
        if o.where:
            observed[o.where] = o.observed
        elif isinstance(o.observed, dict):
            observed.update(o.observed)
    live = [o for o in outs if o.status is not Status.NOT_APPLICABLE]
    if not live:
        return Outcome(Status.NOT_APPLICABLE, observed, expected, "no condition applies", subjects)
    status, key = settle(op, [o.status for o in live])
    # Only the branches that decided the outcome explain it (a passing any() needs no "missing" note).
    decisive = [o for o in live if o.status is key]
    message = "; ".join(o.message for o in decisive if o.message)
    # A passing none() is decided by every branch it weighed.
    return Outcome(status, observed, expected, message, subjects, decided=_decided(decisive or live))


# all/any/none: (a branch status that decides it, the status it then gives), in precedence order,
# then the status and the deciding branch status when none of those is there
_SETTLE: dict[str, tuple[tuple[tuple[Status, Status], ...], tuple[Status, Status | None]]] = {
    "all": (((Status.FAIL, Status.FAIL), (Status.ERROR, Status.ERROR)), (Status.PASS, Status.PASS)),
    "any": (((Status.PASS, Status.PASS), (Status.ERROR, Status.ERROR)), (Status.FAIL, Status.FAIL)),
    "none": (((Status.PASS, Status.FAIL), (Status.ERROR, Status.ERROR)), (Status.PASS, None)),
}


def settle(op: str, statuses: list[Status]) -> tuple[Status, Status | None]:
    """Return the status of all/any/none over its applicable branches' statuses, and which decide it.

    A passing none() has no deciding branch (None): every branch it weighed decided it.
    """
    rules, otherwise = _SETTLE.get(op, _SETTLE["none"])
    for seen, status in rules:
        if seen in statuses:
            return status, seen
    return otherwise
