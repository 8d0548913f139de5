"""One row per operator, plus combinators, quantifiers and missing facts."""

from __future__ import annotations

from typing import Any

import pytest

from scanner.conditions import ALL_OPERATORS, evaluate
from scanner.results import Status

P, F, E, NA = Status.PASS, Status.FAIL, Status.ERROR, Status.NOT_APPLICABLE
FACTS: dict[str, Any] = {
    "s": {
        "word": "no",
        "num": 5,
        "text": "PermitRootLogin no",
        "list": ["a", "b"],
        "mode": "0640",
        "version": "9.2p1",
        "none": None,
        "users": [{"name": "alice", "uid": 1000}, {"name": "bob", "uid": 0}],
        "paths": {"/var/log/auth.log": {"days": 30}},
    }
}

ROWS = [
    ("equals", "s.word", "no", P),
    ("equals", "s.word", "yes", F),
    ("not_equals", "s.word", "yes", P),
    ("not_equals", "s.word", "no", F),
    ("in", "s.word", ["no", "off"], P),
    ("in", "s.word", ["yes"], F),
    ("not_in", "s.word", ["yes"], P),
    ("not_in", "s.word", ["no"], F),
    ("contains", "s.list", "a", P),
    ("contains", "s.list", "z", F),
    ("contains", "s.text", "Root", P),
    ("not_contains", "s.list", "z", P),
    ("not_contains", "s.list", "a", F),
    ("contains_all", "s.list", ["a", "b"], P),
    ("contains_all", "s.list", ["a", "z"], F),
    ("contains_all", "s.list", "a", E),
    ("matches", "s.text", r"^Permit\w+ no$", P),
    ("matches", "s.text", "yes", F),
    ("matches", "s.text", "(", E),
    ("not_matches", "s.text", "yes", P),
    ("not_matches", "s.text", "no", F),
    ("lt", "s.num", 6, P),
    ("lt", "s.num", 5, F),
    ("le", "s.num", 5, P),
    ("le", "s.num", 4, F),
    ("gt", "s.num", 4, P),
    ("gt", "s.num", 5, F),
    ("ge", "s.num", 5, P),
    ("ge", "s.num", 6, F),
    ("ge", "s.word", 1, E),
    ("ge", "s.none", 1, E),
    ("version_ge", "s.version", "9.0", P),
    ("version_ge", "s.version", "9.3", F),
    ("version_lt", "s.version", "10", P),
    ("version_lt", "s.version", "9.2", F),
    ("mode_at_most", "s.mode", "0644", P),
    ("mode_at_most", "s.mode", "0600", F),
    ("mode_at_most", "s.word", "0600", E),
    ("empty", "s.list", False, P),
    ("empty", "s.list", True, F),
    ("length_le", "s.list", 2, P),
    ("length_le", "s.list", 1, F),
    ("length_ge", "s.list", 2, P),
    ("length_ge", "s.list", 3, F),
    ("exists", "s.word", True, P),
    ("exists", "s.nothing", True, F),
    ("exists", "s.none", True, F),
    ("absent", "s.nothing", True, P),
    ("absent", "s.word", True, F),
]


@pytest.mark.parametrize(
    ("op", "fact", "arg", "status"), ROWS, ids=[f"{r[0]}-{i}" for i, r in enumerate(ROWS)]
)
def test_operator(op: str, fact: str, arg: Any, status: Status) -> None:
    assert evaluate({"fact": fact, op: arg}, FACTS, {}).status is status


def test_every_operator_has_a_row() -> None:
    tested = {r[0] for r in ROWS} | {"every", "some"}
    assert tested == ALL_OPERATORS


def test_missing_fact_is_an_error_by_default_never_pass() -> None:
    out = evaluate({"fact": "s.nothing", "equals": "no"}, FACTS, {})
    assert out.status is E
    assert "missing" in out.message


@pytest.mark.parametrize(("mode", "status"), [("fail", F), ("not_applicable", NA), ("error", E)])
def test_if_missing(mode: str, status: Status) -> None:
    assert evaluate({"fact": "nope.x", "equals": 1, "if_missing": mode}, FACTS, {}).status is status


def test_param_is_resolved() -> None:
    cond = {"fact": "s.num", "le": {"param": "limit"}}
    assert evaluate(cond, FACTS, {"limit": 5}).status is P
    assert evaluate(cond, FACTS, {"limit": 4}).status is F


def test_target_takes_a_key_with_dots_literally() -> None:
    cond = {"fact": "s.paths", "target": "/var/log/auth.log", "field": "days", "ge": 30}
    assert evaluate(cond, FACTS, {}).status is P


def test_every_names_the_failing_items() -> None:
    out = evaluate({"fact": "s.users", "every": {"field": "uid", "ge": 1000}}, FACTS, {})
    assert out.status is F
    assert out.observed == ["bob"]


def test_some() -> None:
    assert evaluate({"fact": "s.users", "some": {"field": "uid", "equals": 0}}, FACTS, {}).status is P
    assert evaluate({"fact": "s.users", "some": {"field": "uid", "equals": 7}}, FACTS, {}).status is F


@pytest.mark.parametrize(
    ("op", "children", "status"),
    [
        ("all", [P, P], P),
        ("all", [P, F], F),
        ("all", [P, E], E),
        ("all", [F, E], F),
        ("all", [NA, P], P),
        ("any", [F, P], P),
        ("any", [F, F], F),
        ("any", [F, E], E),
        ("any", [E, P], P),
        ("none", [F, F], P),
        ("none", [F, P], F),
        ("none", [F, E], E),
        ("all", [NA, NA], NA),
    ],
)
def test_combinators(op: str, children: list[Status], status: Status) -> None:
    leaf = {
        P: {"fact": "s.word", "equals": "no"},
        F: {"fact": "s.word", "equals": "yes"},
        E: {"fact": "s.gone", "equals": "x"},
        NA: {"fact": "s.gone", "equals": "x", "if_missing": "not_applicable"},
    }
    assert evaluate({op: [leaf[c] for c in children]}, FACTS, {}).status is status
