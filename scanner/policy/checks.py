"""Load checks/**/*.yaml into Check records, validating each condition tree against the operator table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scanner.conditions import ADDRESS_KEYS, ALL_OPERATORS, COMBINATORS, IF_MISSING, QUANTIFIERS
from scanner.errors import LoadError
from scanner.facts import SUBJECTS
from scanner.policy.model import Check
from scanner.yamlsrc import Node, key_line, load_yaml, validate

CHECK_META = frozenset({"id", "title", "platform", "when", "description", "rationale", "if_missing"})


def ja_en(node: dict[str, Any] | None) -> tuple[str, str]:
    """Return the ``ja`` and ``en`` texts of a bilingual mapping ("" where absent)."""
    node = node or {}
    return str(node.get("ja", "")), str(node.get("en", ""))


def check_condition(
    cond: Any, file: str, line: int, subjects: set[str], params: set[str], relative: bool = False
) -> None:
    """Validate a condition tree, collecting the subjects and params it uses."""
    if not isinstance(cond, dict):
        raise LoadError(file, line, f"a condition must be a mapping, got {type(cond).__name__}")
    line = getattr(cond, "line", 0) or line
    unknown = [k for k in cond if k not in ADDRESS_KEYS | ALL_OPERATORS | COMBINATORS]
    if unknown:
        where = cond.line_of(unknown[0]) if isinstance(cond, Node) else line
        raise LoadError(
            file,
            where,
            f"unknown operator {unknown[0]!r} (known: {', '.join(sorted(ALL_OPERATORS | COMBINATORS))})",
        )
    ops = [k for k in cond if k in ALL_OPERATORS | COMBINATORS]
    if len(ops) != 1:
        raise LoadError(file, line, f"a condition needs exactly one operator, found {ops or 'none'}")
    op = ops[0]
    if cond.get("if_missing", "error") not in IF_MISSING:
        raise LoadError(
            file, key_line(cond, "if_missing"), f"if_missing must be one of {', '.join(IF_MISSING)}"
        )
    if op in COMBINATORS:
        items = cond[op]
        if not isinstance(items, list) or not items:
            raise LoadError(file, key_line(cond, op), f"{op} needs a non-empty list of conditions")
        for i, sub in enumerate(items):
            check_condition(sub, file, key_line(items, i), subjects, params, relative)
        return
    if "fact" in cond:
        subject = str(cond["fact"]).split(".")[0]
        if subject not in SUBJECTS:
            raise LoadError(
                file,
                key_line(cond, "fact"),
                f"unknown fact subject {subject!r} (known: {', '.join(sorted(SUBJECTS))})",
            )
        subjects.add(subject)
    elif not relative:
        raise LoadError(file, line, "a condition needs 'fact' (outside every/some)")
    arg = cond[op]
    if op in QUANTIFIERS:
        check_condition(arg, file, key_line(cond, op), subjects, params, relative=True)
        return
    _collect_params(arg, params, file, key_line(cond, op))


def _collect_params(value: Any, params: set[str], file: str, line: int) -> None:
    if isinstance(value, dict):
        if set(value) == {"param"} and isinstance(value["param"], str):
            params.add(value["param"])
        else:
            raise LoadError(
                file, line, f"an operator value may be a scalar, a list or {{param: name}}, got {dict(value)}"
            )
    elif isinstance(value, list):
        for v in value:
            _collect_params(v, params, file, line)


def _without(node: Node, keys: frozenset[str]) -> Node:
    """Return a copy of a mapping without some keys, keeping its line numbers."""
    out = Node({k: v for k, v in node.items() if k not in keys})
    out.line = node.line
    out.key_lines = {k: v for k, v in node.key_lines.items() if k not in keys}
    return out


def load_checks(root: Path) -> dict[str, Check]:
    """Load every checks/**/*.yaml file."""
    checks: dict[str, Check] = {}
    for path in sorted(root.rglob("*.yaml")):
        doc = load_yaml(path)
        validate(doc, "check", path)
        for i, entry in enumerate(doc["checks"]):
            line = key_line(doc["checks"], i)
            if entry["id"] in checks:
                first = checks[entry["id"]]
                raise LoadError(
                    str(path),
                    line,
                    f"duplicate check id {entry['id']!r} (first in {first.file}:{first.line})",
                )
            cond = _without(entry, CHECK_META)
            subjects: set[str] = set()
            params: set[str] = set()
            check_condition(cond, str(path), line, subjects, params)
            when = entry.get("when")
            if when is not None:
                check_condition(when, str(path), key_line(entry, "when"), subjects, params)
            ja, en = ja_en(entry["title"])
            checks[entry["id"]] = Check(
                id=entry["id"],
                title_ja=ja,
                title_en=en,
                condition=cond,
                when=when,
                platform=str(entry.get("platform", "linux")),
                if_missing=str(entry.get("if_missing", "error")),
                subjects=frozenset(subjects),
                params_used=frozenset(params),
                file=str(path),
                line=line,
            )
    return checks
