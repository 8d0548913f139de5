"""Conditions compiled once: a check's condition tree turned into nested plain functions.

The interpreter (``scanner.conditions.evaluate``) reads the parsed YAML again on every call: which
key is the operator, the dotted path, the parameter references, the readable ``expected``. A
compiled node has all of that worked out once per condition, so a host pays only for reading its
facts and deciding. Its outcomes are the interpreter's, field for field: the verdict logic is the
same functions (``combined``, ``quantified``) and tests/unit/test_compiled.py holds the two
together over every check of every pack. Anything unusual is left to the interpreter.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from scanner.brief import brief
from scanner.conditions import address, describe, evaluate, operator_of, resolve
from scanner.leaves import MISSING_STATUS, Reader, Steps, by_params, has_param, reader, tester
from scanner.operators import COMBINATORS, MISSING, OPERATORS, PRESENCE, QUANTIFIERS, ConditionError
from scanner.policy import Check
from scanner.results import Status
from scanner.settle import Outcome, combined, quantified
from scanner.verdicts import reads

# (facts, params, if_missing, item) -> the outcome ``evaluate`` would give
Node = Callable[[dict[str, Any], Mapping[str, Any], str, Any], Outcome]
_PROGRAMS: dict[int, Job] = {}
PASS, FAIL, ERROR = Status.PASS, Status.FAIL, Status.ERROR


class Job(NamedTuple):
    """What the engine needs of a check on every host, worked out once per check object."""

    check_id: str
    title_ja: str
    title_en: str
    subjects: frozenset[str]
    if_missing: str
    when: Node | None
    condition: Node
    program: tuple[Node | None, Node]  # (when, condition), as ``program`` gives them
    reads: tuple[Steps, ...] | None  # the fact paths both read (``scanner.verdicts``; None: no key)


def job(check: Check) -> Job:
    """Return a check compiled (precondition, condition) with the fields its results carry, once."""
    key = id(check)
    found = _PROGRAMS.get(key)
    if found is None:
        when = compile_condition(check.when) if check.when is not None else None
        condition = compile_condition(check.condition)
        found = _PROGRAMS[key] = Job(
            check.id,
            check.title_ja,
            check.title_en,
            check.subjects,
            check.if_missing,
            when,
            condition,
            (when, condition),
            reads(check.when, check.condition),
        )
        weakref.finalize(check, _PROGRAMS.pop, key, None)
    return found


def program(check: Check) -> tuple[Node | None, Node]:
    """Return a check's (precondition, condition) compiled, once per check object."""
    return job(check).program


def compile_condition(cond: Any) -> Node:
    """Return a function giving the outcome ``evaluate(cond, ...)`` gives, for any facts and params."""
    op = operator_of(cond) if isinstance(cond, dict) else None
    if op in COMBINATORS and isinstance(cond[op], list) and all(isinstance(c, dict) for c in cond[op]):
        return _combinator(op, cond)
    if op is not None and op not in COMBINATORS:
        leaf = _leaf(op, cond)
        if leaf is not None:
            return leaf
    return lambda facts, params, if_missing, item: evaluate(cond, facts, params, if_missing, item)


def _combinator(op: str, cond: dict[str, Any]) -> Node:
    children = [compile_condition(c) for c in cond[op]]
    own = "if_missing" in cond
    mode: Any = cond.get("if_missing")
    varies = has_param(cond[op])
    fixed: list[str] = []  # without parameters the readable form is the same every time: kept once

    def node(facts: dict[str, Any], params: Mapping[str, Any], if_missing: str, item: Any) -> Outcome:
        chosen = mode if own else if_missing
        outs = [c(facts, params, chosen, item) for c in children]
        if fixed:
            return combined(op, outs, fixed[0])
        expected = f"{op}(" + "; ".join(str(o.expected) for o in outs) + ")"
        if not varies:
            fixed.append(expected)
        return combined(op, outs, expected)

    return node


def _leaf(op: str, cond: dict[str, Any]) -> Node | None:
    read = reader(cond)
    if read is None:
        return None
    fact = str(cond["fact"]) if "fact" in cond else ""
    own_fact = [fact] if "fact" in cond else []
    subject = fact.split(".")[0]
    where = address(cond) or "item"
    raw = cond[op]
    own = "if_missing" in cond
    mode: Any = cond.get("if_missing")
    gone = f"fact {address(cond)} is missing"

    def missing(if_missing: str, expected: str) -> Outcome:
        status = MISSING_STATUS.get(mode if own else if_missing, Status.ERROR)
        return Outcome(status, None, expected, gone, {subject} if subject else set(), where, list(own_fact))

    if op in PRESENCE:
        return _presence(op, raw, read, own_fact, subject, where)
    if op in QUANTIFIERS:
        if not isinstance(raw, dict) or set(raw) == {"param"}:
            return None
        return _quantifier(op, raw, read, own_fact, subject, where, missing)
    symbol = OPERATORS[op][1]
    test = tester(op, raw)
    expected_for = by_params(raw, lambda params: f"{where} {symbol} {resolve(raw, params)!r}")
    fixed = None if has_param(raw) else f"{where} {symbol} {resolve(raw, {})!r}"  # the usual: no params

    def node(facts: dict[str, Any], params: Mapping[str, Any], if_missing: str, item: Any) -> Outcome:
        expected = expected_for(params) if fixed is None else fixed
        value = read(facts, item)
        if value is MISSING:
            return missing(if_missing, expected)
        subjects = {subject} if subject else set()
        try:
            ok = test(value, params)
        except ConditionError as exc:
            return Outcome(ERROR, value, expected, str(exc), subjects, where, list(own_fact))
        return Outcome(PASS if ok else FAIL, value, expected, "", subjects, where, list(own_fact))

    return node


def _presence(
    op: str,
    raw: Any,
    read: Reader,
    own_fact: list[str],
    subject: str,
    where: str,
) -> Node:
    def node(facts: dict[str, Any], params: Mapping[str, Any], if_missing: str, item: Any) -> Outcome:
        wanted = bool(resolve(raw, params))
        value = read(facts, item)
        present = value is not MISSING and value is not None
        ok = present == wanted if op == "exists" else (not present) == wanted
        expected = f"{where} {'exists' if (op == 'exists') == wanted else 'is absent'}"
        observed = None if value is MISSING else value
        status = Status.PASS if ok else Status.FAIL
        return Outcome(status, observed, expected, "", {subject} if subject else set(), where, list(own_fact))

    return node


def _quantifier(
    op: str,
    sub: dict[str, Any],
    read: Reader,
    own_fact: list[str],
    subject: str,
    where: str,
    missing: Callable[[str, str], Outcome],
) -> Node:
    each = compile_condition(sub)
    short = brief(sub)  # status and message suffice for an item that reads no fact of its own
    expected_for = by_params(sub, lambda params: f"{op} item of {where}: {describe(sub, params)}")

    def node(facts: dict[str, Any], params: Mapping[str, Any], if_missing: str, item: Any) -> Outcome:
        expected = expected_for(params)  # first, as the interpreter does
        if (value := read(facts, item)) is MISSING:
            return missing(if_missing, expected)
        subjects = {subject} if subject else set()
        if not isinstance(value, list):
            out = Outcome(Status.ERROR, value, expected, "every/some needs a list", subjects)
        elif short is not None:
            answers = [short(facts, params, if_missing, element) for element in value]
            statuses = [a[0] for a in answers]
            out = quantified(op, value, statuses, [a[1] for a in answers], None, expected, subjects)
        else:
            outs = [each(facts, params, if_missing, element) for element in value]
            statuses = [o.status for o in outs]
            messages = [o.message for o in outs]
            out = quantified(op, value, statuses, messages, [o.decided for o in outs], expected, subjects)
        out.where = where
        out.decided = own_fact + [p for p in out.decided if p not in own_fact]
        return out

    return node
