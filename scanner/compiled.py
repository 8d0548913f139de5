"""Conditions compiled once: a check's condition tree turned into nested plain functions.

The interpreter (``scanner.conditions.evaluate``) reads the parsed YAML again on every call: which
key is the operator, the dotted path, the parameter references, the readable ``expected``. A
compiled node has all of that worked out once per condition, so a host pays only for reading its
facts and deciding. Its outcomes are the interpreter's, field for field: the verdict logic is the
same functions (``combined``, ``quantified``) and tests/unit/test_compiled.py holds the two
together over every check of every pack. Anything unusual is left to the interpreter.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from typing import Any

from scanner.conditions import (
    Outcome,
    address,
    combined,
    describe,
    evaluate,
    operator_of,
    quantified,
    resolve,
)
from scanner.operators import (
    COMBINATORS,
    MISSING,
    OPERATORS,
    PRESENCE,
    QUANTIFIERS,
    ConditionError,
    length,
    number,
)
from scanner.policy import Check
from scanner.results import Status

# (facts, params, if_missing, item) -> the outcome ``evaluate`` would give
Node = Callable[[dict[str, Any], dict[str, Any], str, Any], Outcome]
Steps = tuple[tuple[str, int | None], ...]
_MISSING_STATUS = {"fail": Status.FAIL, "not_applicable": Status.NOT_APPLICABLE}
_PROGRAMS: dict[int, tuple[Node | None, Node]] = {}


def program(check: Check) -> tuple[Node | None, Node]:
    """Return a check's (precondition, condition) compiled, once per check object."""
    key = id(check)
    found = _PROGRAMS.get(key)
    if found is None:
        when = compile_condition(check.when) if check.when is not None else None
        found = _PROGRAMS[key] = (when, compile_condition(check.condition))
        weakref.finalize(check, _PROGRAMS.pop, key, None)
    return found


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


def _has_param(value: Any) -> bool:
    """Return whether a parameter reference lies anywhere in a value (so it varies by host)."""
    if isinstance(value, dict):
        return set(value) == {"param"} or any(_has_param(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_param(v) for v in value)
    return False


def _combinator(op: str, cond: dict[str, Any]) -> Node:
    children = [compile_condition(c) for c in cond[op]]
    own = "if_missing" in cond
    mode = cond.get("if_missing")
    varies = _has_param(cond[op])
    fixed: list[str] = []  # without parameters the readable form is the same every time: kept once

    def node(facts: dict[str, Any], params: dict[str, Any], if_missing: str, item: Any) -> Outcome:
        chosen = mode if own else if_missing
        outs = [c(facts, params, chosen, item) for c in children]
        if fixed:
            return combined(op, outs, fixed[0])
        expected = f"{op}(" + "; ".join(str(o.expected) for o in outs) + ")"
        if not varies:
            fixed.append(expected)
        return combined(op, outs, expected)

    return node


def _steps(path: str) -> Steps | None:
    steps: list[tuple[str, int | None]] = []
    for step in path.split("."):
        if step.isdigit() and not step.isascii():
            return None  # a digit int() may not read: the interpreter's business
        steps.append((step, int(step) if step.isdigit() else None))
    return tuple(steps)


def _walk(node: Any, steps: Steps) -> Any:
    """``lookup`` with the path split once."""
    for step, index in steps:
        if isinstance(node, dict) and step in node:
            node = node[step]
        elif index is not None and isinstance(node, list) and index < len(node):
            node = node[index]
        else:
            return MISSING
    return node


def _reader(cond: dict[str, Any]) -> Callable[[dict[str, Any], Any], Any] | None:
    """Return a function (facts, item) -> the value ``_value`` reads (None: leave it to the interpreter)."""
    has_fact = "fact" in cond
    path = _steps(str(cond["fact"])) if has_fact else ()
    fields = _steps(str(cond["field"])) if "field" in cond else ()
    if path is None or fields is None:
        return None
    target = str(cond["target"]) if "target" in cond else None

    def read(facts: dict[str, Any], item: Any) -> Any:
        if has_fact:
            node = _walk(facts, path)
        elif item is MISSING:
            raise KeyError("fact")  # as the interpreter does: a bare item condition outside every/some
        else:
            node = item
        if target is not None and node is not MISSING:
            node = node.get(target, MISSING) if isinstance(node, dict) else MISSING
        if fields and node is not MISSING:
            node = _walk(node, fields)
        return node

    return read


def _test(op: str, raw: Any) -> Callable[[Any, dict[str, Any]], bool]:
    """Return (value, params) -> the operator's answer, its constant argument bound once."""
    fn = OPERATORS[op][0]
    if _has_param(raw):
        return lambda value, params: fn(value, resolve(raw, params))
    arg = resolve(raw, {})
    if op in ("matches", "not_matches"):
        try:
            pattern = re.compile(str(arg))
        except re.error:
            return lambda value, params: fn(value, arg)
        if op == "matches":
            return lambda value, params: value is not None and pattern.search(str(value)) is not None
        return lambda value, params: value is None or pattern.search(str(value)) is None
    if op in ("lt", "le", "gt", "ge", "length_le", "length_ge"):
        try:
            limit = number(arg)
        except ConditionError:
            return lambda value, params: fn(value, arg)
        measure = length if op.startswith("length") else number
        compare = _COMPARE[op.removeprefix("length_")]
        return lambda value, params: compare(measure(value), limit)
    return lambda value, params: fn(value, arg)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}


def _leaf(op: str, cond: dict[str, Any]) -> Node | None:
    read = _reader(cond)
    if read is None:
        return None
    fact = str(cond["fact"]) if "fact" in cond else ""
    own_fact = [fact] if "fact" in cond else []
    subject = fact.split(".")[0]
    where = address(cond) or "item"
    raw = cond[op]
    varies = _has_param(raw)
    own = "if_missing" in cond
    mode = cond.get("if_missing")
    gone = f"fact {address(cond)} is missing"

    def missing(if_missing: str, expected: str) -> Outcome:
        status = _MISSING_STATUS.get(mode if own else if_missing, Status.ERROR)
        return Outcome(status, None, expected, gone, {subject} if subject else set(), where, list(own_fact))

    if op in PRESENCE:
        return _presence(op, raw, read, own_fact, subject, where)
    if op in QUANTIFIERS:
        if not isinstance(raw, dict) or set(raw) == {"param"}:
            return None
        return _quantifier(op, raw, read, own_fact, subject, where, missing)
    symbol = OPERATORS[op][1]
    test = _test(op, raw)
    fixed = None if varies else f"{where} {symbol} {resolve(raw, {})!r}"

    def node(facts: dict[str, Any], params: dict[str, Any], if_missing: str, item: Any) -> Outcome:
        expected = fixed if fixed is not None else f"{where} {symbol} {resolve(raw, params)!r}"
        value = read(facts, item)
        if value is MISSING:
            return missing(if_missing, expected)
        subjects = {subject} if subject else set()
        try:
            ok = test(value, params)
        except ConditionError as exc:
            return Outcome(Status.ERROR, value, expected, str(exc), subjects, where, list(own_fact))
        return Outcome(
            Status.PASS if ok else Status.FAIL, value, expected, "", subjects, where, list(own_fact)
        )

    return node


def _presence(
    op: str,
    raw: Any,
    read: Callable[[dict[str, Any], Any], Any],
    own_fact: list[str],
    subject: str,
    where: str,
) -> Node:
    def node(facts: dict[str, Any], params: dict[str, Any], if_missing: str, item: Any) -> Outcome:
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
    read: Callable[[dict[str, Any], Any], Any],
    own_fact: list[str],
    subject: str,
    where: str,
    missing: Callable[[str, str], Outcome],
) -> Node:
    each = compile_condition(sub)
    fixed = None if _has_param(sub) else f"{op} item of {where}: {describe(sub, {})}"

    def node(facts: dict[str, Any], params: dict[str, Any], if_missing: str, item: Any) -> Outcome:
        expected = fixed if fixed is not None else f"{op} item of {where}: {describe(sub, params)}"
        value = read(facts, item)
        if value is MISSING:
            return missing(if_missing, expected)
        subjects = {subject} if subject else set()
        if not isinstance(value, list):
            out = Outcome(Status.ERROR, value, expected, "every/some needs a list", subjects)
        else:
            results = [(element, each(facts, params, if_missing, element)) for element in value]
            out = quantified(op, value, results, expected, subjects)
        out.where = where
        out.decided = own_fact + [p for p in out.decided if p not in own_fact]
        return out

    return node
