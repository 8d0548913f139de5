"""All/any/none over the operator table: evaluate one declarative condition over facts.

A condition is a mapping with ``fact`` (+ optional ``target``, ``field``) and exactly one
operator key, or exactly one of ``all``/``any``/``none`` holding a list of conditions. ``every``
and ``some`` apply a sub-condition (whose ``field`` is relative to each item) to a list.
The operators are in ``scanner.operators``. This interpreter is the reference: the scan runs
each check compiled once (``scanner.compiled``), and the tests hold the two to the same outcomes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scanner.operators import (
    ADDRESS_KEYS,
    ALL_OPERATORS,
    COMBINATORS,
    IF_MISSING,
    MISSING,
    OPERATORS,
    PRESENCE,
    QUANTIFIERS,
    ConditionError,
)
from scanner.results import Status
from scanner.settle import Outcome, combined, quantified

__all__ = [
    "ADDRESS_KEYS",
    "ALL_OPERATORS",
    "COMBINATORS",
    "IF_MISSING",
    "MISSING",
    "OPERATORS",
    "PRESENCE",
    "QUANTIFIERS",
    "ConditionError",
    "Outcome",
    "combined",
    "evaluate",
    "quantified",
]


def operator_of(cond: dict[str, Any]) -> str | None:
    """Return the single operator or combinator key of a condition (None when there is none)."""
    keys = [k for k in cond if k in ALL_OPERATORS or k in COMBINATORS]
    return keys[0] if len(keys) == 1 else None


def lookup(tree: Any, path: str) -> Any:
    """Follow a dotted path through dicts (and list indexes); MISSING when any step is absent."""
    node = tree
    for step in path.split("."):
        if isinstance(node, dict) and step in node:
            node = node[step]
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return MISSING
    return node


def address(cond: dict[str, Any]) -> str:
    parts = [str(cond.get("fact", ""))]
    if "target" in cond:
        parts.append(f"[{cond['target']}]")
    if "field" in cond:
        parts.append(f".{cond['field']}")
    return "".join(parts)


def resolve(value: Any, params: Mapping[str, Any]) -> Any:
    """Replace ``{param: name}`` with the parameter's value (validated at load, so always present)."""
    if isinstance(value, dict) and set(value) == {"param"}:
        return params[value["param"]]
    if isinstance(value, list):
        return [resolve(v, params) for v in value]
    return value


def _value(cond: dict[str, Any], facts: dict[str, Any], item: Any) -> Any:
    node = item if item is not MISSING and "fact" not in cond else lookup(facts, str(cond["fact"]))
    if "target" in cond and node is not MISSING:
        node = node.get(str(cond["target"]), MISSING) if isinstance(node, dict) else MISSING
    if "field" in cond and node is not MISSING:
        node = lookup(node, str(cond["field"]))
    return node


def _missing(cond: dict[str, Any], if_missing: str, expected: str) -> Outcome:
    mode = cond.get("if_missing", if_missing)
    status = {"fail": Status.FAIL, "not_applicable": Status.NOT_APPLICABLE}.get(mode, Status.ERROR)
    return Outcome(status, None, expected, f"fact {address(cond)} is missing")


def evaluate(
    cond: dict[str, Any],
    facts: dict[str, Any],
    params: Mapping[str, Any],
    if_missing: str = "error",
    item: Any = MISSING,
) -> Outcome:
    """Evaluate a condition; ``item`` is the list element when inside every/some.

    >>> evaluate({"fact": "sshd.permitrootlogin", "equals": "no"}, {"sshd": {"permitrootlogin": "no"}}, {}).status
    <Status.PASS: 'pass'>
    """
    op = operator_of(cond)
    if op in COMBINATORS:
        return _combine(op, cond[op], facts, params, cond.get("if_missing", if_missing), item)
    assert op is not None, f"condition without operator: {cond}"
    out = _leaf(op, cond, facts, params, if_missing, item)
    own = [str(cond["fact"])] if "fact" in cond else []
    out.decided = own + [p for p in out.decided if p not in own]
    return out


def _leaf(
    op: str,
    cond: dict[str, Any],
    facts: dict[str, Any],
    params: Mapping[str, Any],
    if_missing: str,
    item: Any,
) -> Outcome:
    subject = str(cond["fact"]).split(".")[0] if "fact" in cond else ""
    subjects = {subject} if subject else set()
    where = address(cond) or "item"
    arg = resolve(cond[op], params)
    value = _value(cond, facts, item)
    if op in PRESENCE:
        present = value is not MISSING and value is not None
        ok = present == bool(arg) if op == "exists" else (not present) == bool(arg)
        expected = f"{where} {'exists' if (op == 'exists') == bool(arg) else 'is absent'}"
        observed = None if value is MISSING else value
        return Outcome(Status.PASS if ok else Status.FAIL, observed, expected, "", subjects, where)
    if op in QUANTIFIERS:
        expected = f"{op} item of {where}: {describe(arg, params)}"
        if value is MISSING:
            out = _missing(cond, if_missing, expected)
            out.subjects, out.where = subjects, where
            return out
        out = _quantify(op, value, arg, facts, params, if_missing, expected, subjects)
        out.where = where
        return out
    fn, symbol = OPERATORS[op]
    expected = f"{where} {symbol} {arg!r}"
    if value is MISSING:
        out = _missing(cond, if_missing, expected)
        out.subjects, out.where = subjects, where
        return out
    try:
        ok = fn(value, arg)
    except ConditionError as exc:
        return Outcome(Status.ERROR, value, expected, str(exc), subjects, where)
    return Outcome(Status.PASS if ok else Status.FAIL, value, expected, "", subjects, where)


def describe(cond: Any, params: Mapping[str, Any]) -> str:
    if not isinstance(cond, dict):
        return repr(cond)
    op = operator_of(cond)
    if op in COMBINATORS:
        return f"{op}(" + "; ".join(describe(c, params) for c in cond[op]) + ")"
    if op in QUANTIFIERS:
        return f"{op} item of {address(cond) or 'item'}: {describe(cond[op], params)}"
    return f"{address(cond) or 'item'} {op} {resolve(cond.get(op), params)!r}"


def _quantify(
    op: str,
    value: Any,
    sub: dict[str, Any],
    facts: dict[str, Any],
    params: Mapping[str, Any],
    if_missing: str,
    expected: str,
    subjects: set[str],
) -> Outcome:
    if not isinstance(value, list):
        return Outcome(Status.ERROR, value, expected, "every/some needs a list", subjects)
    outs = [evaluate(sub, facts, params, if_missing, element) for element in value]
    statuses = [o.status for o in outs]
    return quantified(
        op, value, statuses, [o.message for o in outs], [o.decided for o in outs], expected, subjects
    )


def _combine(
    op: str,
    conds: list[dict[str, Any]],
    facts: dict[str, Any],
    params: Mapping[str, Any],
    if_missing: str,
    item: Any,
) -> Outcome:
    outs = [evaluate(c, facts, params, if_missing, item) for c in conds]
    return combined(op, outs, f"{op}(" + "; ".join(str(o.expected) for o in outs) + ")")
