"""A condition leaf bound once: the value it reads and the test it applies, as plain functions.

``scanner.compiled`` (full outcomes) and ``scanner.brief`` (status and message of list items)
build their leaves from these.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from scanner.conditions import resolve
from scanner.operators import MISSING, OPERATORS, ConditionError, length, number
from scanner.results import Status

Steps = tuple[tuple[str, int | None], ...]
Reader = Callable[[dict[str, Any], Any], Any]  # (facts, item) -> the value, or MISSING
Test = Callable[[Any, Mapping[str, Any]], bool]  # (value, params) -> the operator's answer
MISSING_STATUS = {"fail": Status.FAIL, "not_applicable": Status.NOT_APPLICABLE}


def has_param(value: Any) -> bool:
    """Return whether a parameter reference lies anywhere in a value (so it varies by host)."""
    if isinstance(value, dict):
        return set(value) == {"param"} or any(has_param(v) for v in value.values())
    if isinstance(value, list):
        return any(has_param(v) for v in value)
    return False


def steps_of(path: str) -> Steps | None:
    steps: list[tuple[str, int | None]] = []
    for step in path.split("."):
        if step.isdigit() and not step.isascii():
            return None  # a digit int() may not read: the interpreter's business
        steps.append((step, int(step) if step.isdigit() else None))
    return tuple(steps)


def walk(node: Any, steps: Steps) -> Any:
    """``lookup`` with the path split once."""
    for step, index in steps:
        if type(node) is dict:  # the usual case first: one lookup (a dict is never a list)
            node = node.get(step, MISSING)
            if node is MISSING:
                return MISSING
        elif isinstance(node, dict) and step in node:
            node = node[step]
        elif index is not None and isinstance(node, list) and index < len(node):
            node = node[index]
        else:
            return MISSING
    return node


def reader(cond: dict[str, Any]) -> Reader | None:
    """Return a function (facts, item) -> the value ``_value`` reads (None: leave it to the interpreter)."""
    has_fact = "fact" in cond
    path = steps_of(str(cond["fact"])) if has_fact else ()
    fields = steps_of(str(cond["field"])) if "field" in cond else ()
    if path is None or fields is None:
        return None
    target = str(cond["target"]) if "target" in cond else None
    if has_fact and target is None and not fields:
        return lambda facts, item: walk(facts, path)  # a plain fact path: the usual leaf

    def read(facts: dict[str, Any], item: Any) -> Any:
        if has_fact:
            node = walk(facts, path)
        elif item is MISSING:
            raise KeyError("fact")  # as the interpreter does: a bare item condition outside every/some
        else:
            node = item
        if target is not None and node is not MISSING:
            node = node.get(target, MISSING) if isinstance(node, dict) else MISSING
        if fields and node is not MISSING:
            node = walk(node, fields)
        return node

    return read


def tester(op: str, raw: Any) -> Test:
    """Return (value, params) -> the operator's answer, its constant argument bound once."""
    fn = OPERATORS[op][0]
    if has_param(raw):
        arg_for = by_params(raw, lambda params: resolve(raw, params))
        return lambda value, params: fn(value, arg_for(params))
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
        compare = COMPARE[op.removeprefix("length_")]
        return lambda value, params: compare(measure(value), limit)
    return lambda value, params: fn(value, arg)


COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}


_SCALARS = (str, int, float, bool, type(None))
_UNSET = object()


def _param_names(value: Any) -> set[Any]:
    if isinstance(value, dict):
        own = {value["param"]} if set(value) == {"param"} else set()
        return own.union(*(_param_names(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_param_names(v) for v in value))
    return set()


def by_params(raw: Any, make: Callable[[Mapping[str, Any]], Any]) -> Callable[[Mapping[str, Any]], Any]:
    """Return ``make`` remembered by the values of the parameters ``raw`` refers to (plain values only).

    Hosts of one kind share their parameters, so a readable form or a resolved argument is worked
    out once per kind: once per read-only mapping (the plans' ``MappingProxyType``), else once per
    plain values (a list value, or anything else, is worked out afresh each time).
    """
    names = _param_names(raw)
    if not all(isinstance(n, str) for n in names):
        return make
    if not names:  # the same every time: worked out on first use
        once: list[Any] = []

        def constant(params: Mapping[str, Any]) -> Any:
            if not once:
                once.append(make(params))
            return once[0]

        return constant
    order = sorted(names)
    memo: dict[tuple[Any, ...], Any] = {}
    fixed: dict[int, tuple[Mapping[str, Any], Any]] = {}  # id -> (a read-only mapping, its answer)

    def by_values(params: Mapping[str, Any]) -> Any:
        try:
            values = [params[n] for n in order]
        except (KeyError, TypeError):
            return make(params)  # raises as the interpreter does
        if not all(type(v) in _SCALARS for v in values):
            return make(params)
        key = tuple((type(v), v) for v in values)
        found = memo.get(key, _UNSET)
        if found is _UNSET:
            if len(memo) >= 256:
                memo.clear()
            found = memo[key] = make(params)
        return found

    def get(params: Mapping[str, Any]) -> Any:
        if type(params) is not MappingProxyType:
            return by_values(params)
        hit = fixed.get(id(params))  # a plan's parameters cannot change: their answer neither
        if hit is not None and hit[0] is params:
            return hit[1]
        found = by_values(params)
        if len(fixed) >= 1024:
            fixed.clear()
        fixed[id(params)] = (params, found)
        return found

    return get
