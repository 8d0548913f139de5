"""The closed operator table of conditions: each operator a function (value, argument) -> bool.

Adding an operator is one function and one row in ``OPERATORS``; ``scanner.conditions`` evaluates
a condition tree with them and ``scanner.compiled`` binds them to a check's constants once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

MISSING = object()


class ConditionError(Exception):
    """The condition cannot be evaluated on this value (wrong type, bad pattern)."""


def number(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        raise ConditionError(f"{value!r} is not a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConditionError(f"{value!r} is not a number") from None


def _version(value: Any) -> tuple[int | str, ...]:
    parts = re.split(r"[.\-+~:_]", str(value))
    return tuple(int(p) if p.isdigit() else p for p in parts if p)


def _vcmp(a: Any, b: Any) -> int:
    va, vb = _version(a), _version(b)
    for x, y in zip(va, vb, strict=False):
        if x == y:
            continue
        if isinstance(x, int) and isinstance(y, int):
            return -1 if x < y else 1
        return -1 if str(x) < str(y) else 1
    return (len(va) > len(vb)) - (len(va) < len(vb))


def _mode(value: Any) -> int:
    try:
        return int(str(value), 8)
    except ValueError:
        raise ConditionError(f"{value!r} is not an octal mode") from None


def _contains(value: Any, arg: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return str(arg) in value
    if isinstance(value, dict | list | tuple | set):
        return arg in value
    raise ConditionError(f"cannot look inside {type(value).__name__}")


def _contains_all(value: Any, arg: Any) -> bool:
    if not isinstance(arg, list):
        raise ConditionError("contains_all needs a list")
    return all(_contains(value, a) for a in arg)


def _matches(value: Any, arg: Any) -> bool:
    if value is None:
        return False
    try:
        return re.search(str(arg), str(value)) is not None
    except re.error as exc:
        raise ConditionError(f"bad pattern {arg!r}: {exc}") from None


def length(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str | list | tuple | dict | set):
        return len(value)
    raise ConditionError(f"{type(value).__name__} has no length")


# name -> (function(value, argument) -> bool, readable form)
OPERATORS: dict[str, tuple[Callable[[Any, Any], bool], str]] = {
    "equals": (lambda v, a: v == a, "=="),
    "not_equals": (lambda v, a: v != a, "!="),
    "in": (lambda v, a: v in a, "in"),
    "not_in": (lambda v, a: v not in a, "not in"),
    "contains": (_contains, "contains"),
    "not_contains": (lambda v, a: not _contains(v, a), "does not contain"),
    "contains_all": (_contains_all, "contains all of"),
    "matches": (_matches, "matches"),
    "not_matches": (lambda v, a: not _matches(v, a), "does not match"),
    "lt": (lambda v, a: number(v) < number(a), "<"),
    "le": (lambda v, a: number(v) <= number(a), "<="),
    "gt": (lambda v, a: number(v) > number(a), ">"),
    "ge": (lambda v, a: number(v) >= number(a), ">="),
    "version_ge": (lambda v, a: _vcmp(v, a) >= 0, "version >="),
    "version_lt": (lambda v, a: _vcmp(v, a) < 0, "version <"),
    "mode_at_most": (lambda v, a: _mode(v) & ~_mode(a) == 0, "mode at most"),
    "empty": (lambda v, a: (length(v) == 0) == bool(a), "is empty =="),
    "length_le": (lambda v, a: length(v) <= number(a), "length <="),
    "length_ge": (lambda v, a: length(v) >= number(a), "length >="),
}
# Operators whose meaning is about presence: a missing fact is an answer, not a gap.
PRESENCE = {"exists", "absent"}
QUANTIFIERS = {"every", "some"}
COMBINATORS = {"all", "any", "none"}
ALL_OPERATORS = set(OPERATORS) | PRESENCE | QUANTIFIERS
IF_MISSING = ("error", "fail", "not_applicable")
ADDRESS_KEYS = {"fact", "target", "field", "if_missing", "description"}
