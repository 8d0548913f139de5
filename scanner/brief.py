"""Brief outcomes: a condition inside every/some judged to its status and message only.

Every/some reads of each item's outcome only its status, its message and the fact paths that
decided it, and an item condition that names no ``fact`` of its own decides by none. For such a
condition (the usual ``field`` tests over a list of accounts, rules, paths) this builds a function
giving (status, message) without the readable ``expected``, the observed values or the subjects
that a full outcome carries: the same verdict logic (``settle``) at a fraction of the cost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from scanner.conditions import address, operator_of, resolve
from scanner.leaves import MISSING_STATUS, has_param, reader, tester
from scanner.operators import COMBINATORS, MISSING, OPERATORS, PRESENCE, ConditionError
from scanner.results import Status
from scanner.settle import settle

# (facts, params, if_missing, item) -> (status, message), as ``evaluate`` would give them
Brief = Callable[[dict[str, Any], Mapping[str, Any], str, Any], tuple[Status, str]]


def _names_a_fact(cond: Any) -> bool:
    if isinstance(cond, dict):
        return "fact" in cond or any(_names_a_fact(v) for v in cond.values())
    if isinstance(cond, list):
        return any(_names_a_fact(v) for v in cond)
    return False


def brief(cond: Any) -> Brief | None:
    """Return the brief form of an item condition (None: it needs full outcomes)."""
    if _names_a_fact(cond):
        return None
    return _brief(cond)


def _brief(cond: Any) -> Brief | None:
    op = operator_of(cond) if isinstance(cond, dict) else None
    if op in COMBINATORS:
        if not isinstance(cond[op], list) or not all(isinstance(c, dict) for c in cond[op]):
            return None
        children = [_brief(c) for c in cond[op]]
        if any(c is None for c in children):
            return None
        return _combinator(op, cond, [c for c in children if c is not None])
    if op in PRESENCE or op in OPERATORS:
        return _leaf(op, cond)
    return None  # every/some inside an item, or no operator: full outcomes


def _combinator(op: str, cond: dict[str, Any], children: list[Brief]) -> Brief:
    own = "if_missing" in cond
    mode: Any = cond.get("if_missing")

    def node(
        facts: dict[str, Any], params: Mapping[str, Any], if_missing: str, item: Any
    ) -> tuple[Status, str]:
        chosen = mode if own else if_missing
        answers = [c(facts, params, chosen, item) for c in children]
        live: list[Status] = [s for s, _ in answers if s is not Status.NOT_APPLICABLE]
        if not live:
            return Status.NOT_APPLICABLE, "no condition applies"
        status, key = settle(op, live)
        return status, "; ".join(m for s, m in answers if s is key and m)

    return node


def _leaf(op: str, cond: dict[str, Any]) -> Brief | None:
    read = reader(cond)
    if read is None:
        return None
    raw = cond[op]
    varies = has_param(raw)
    own = "if_missing" in cond
    mode: Any = cond.get("if_missing")
    gone = f"fact {address(cond)} is missing"
    if op in PRESENCE:
        exists = op == "exists"

        def presence(
            facts: dict[str, Any], params: Mapping[str, Any], if_missing: str, item: Any
        ) -> tuple[Status, str]:
            wanted = bool(resolve(raw, params))
            value = read(facts, item)
            present = value is not MISSING and value is not None
            return (Status.PASS if (present if exists else not present) == wanted else Status.FAIL), ""

        return presence
    test = tester(op, raw)

    def node(
        facts: dict[str, Any], params: Mapping[str, Any], if_missing: str, item: Any
    ) -> tuple[Status, str]:
        value = read(facts, item)
        if value is MISSING:
            if varies:
                resolve(raw, params)  # a parameter it cannot resolve raises, as in the interpreter
            return MISSING_STATUS.get(mode if own else if_missing, Status.ERROR), gone
        try:
            return (Status.PASS if test(value, params) else Status.FAIL), ""
        except ConditionError as exc:
            return Status.ERROR, str(exc)

    return node
