"""Verdicts kept by content (scanner/verdicts.py) give what judging afresh gives, host after host.

The oracle is the interpreter's control-by-control loop (``old_evaluate_host`` in test_compiled).
Hosts are judged in an order where the same facts come back (clones) between changed ones, so
kept verdicts are both found and missed; a parser error never takes a clean clone's verdict.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from pathlib import Path

import pytest

from scanner import facts as factsmod
from scanner import verdicts
from scanner.collect import CollectError
from scanner.engine import evaluate_host
from scanner.facts import Facts
from scanner.inventory import Host, load
from scanner.leaves import steps_of
from scanner.policy import Pack, load_pack
from scanner.results import Status
from scanner.run import fetch

from .test_compiled import old_evaluate_host, shaken

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ward() -> tuple[Pack, list[tuple[Host, Facts]]]:
    inventory = load(REPO / "inventories" / "example-ward")
    pack = load_pack(inventory.profile)
    out = []
    for host in inventory.hosts:
        got, _ = fetch(host, pack, inventory, 10.0)
        if not isinstance(got, CollectError):
            out.append((host, factsmod.build(got, factsmod.Context(host, inventory), None)))
    return pack, out


def clone(host: Host, n: int) -> Host:
    return Host(name=f"{host.name}-{n}", zone=host.zone, role=host.role, os=host.os, owner=host.owner)


def test_clones_and_changed_hosts_judged_as_afresh(
    ward: tuple[Pack, list[tuple[Host, Facts]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    pack, hosts = ward
    found = []
    real = verdicts.recall

    def counting(*args: object) -> object:
        key, verdict = real(*args)  # type: ignore[arg-type]
        found.append(verdict is not None)
        return key, verdict

    monkeypatch.setattr(verdicts, "recall", counting)
    rng = random.Random(5)
    for host, facts in hosts:
        variants = [facts]
        for _ in range(3):
            subject = rng.choice(sorted(facts.tree))
            variants.append(
                Facts(shaken(facts.tree, subject, rng), facts.errors, facts.evidence, facts.origins)
            )
        for n, variant in enumerate(variants + variants[::-1]):  # each comes back, as clones do
            twin = clone(host, n)
            new = [f.to_json() for f in evaluate_host(pack, twin, variant, "")]
            assert new == [f.to_json() for f in old_evaluate_host(pack, twin, variant, "")], twin
    assert any(found) and not all(found)


def test_a_parser_error_never_takes_a_clean_clones_verdict(
    ward: tuple[Pack, list[tuple[Host, Facts]]],
) -> None:
    pack, hosts = ward
    for host, facts in hosts[:8]:
        evaluate_host(pack, host, facts, "")  # its verdicts kept
        for subject in sorted(facts.tree):
            broken = Facts(facts.tree, {subject: "parse error"}, facts.evidence, facts.origins)
            new = evaluate_host(pack, clone(host, 1), broken, "")
            assert [f.to_json() for f in new] == [
                f.to_json() for f in old_evaluate_host(pack, clone(host, 1), broken, "")
            ]
            for finding in new:
                for check in finding.checks:
                    if check.status is Status.PASS:
                        assert check.check_id not in {
                            c.id for c in pack.checks.values() if subject in c.subjects
                        }


def test_a_small_budget_forgets_and_stays_right(
    ward: tuple[Pack, list[tuple[Host, Facts]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    pack, hosts = ward
    monkeypatch.setattr(verdicts, "BUDGET", 2000)
    monkeypatch.setattr(verdicts, "_USED", [0])
    monkeypatch.setattr(verdicts, "_KEPT", {})
    for _ in range(2):
        for host, facts in hosts:
            new = [f.to_json() for f in evaluate_host(pack, host, facts, "")]
            assert new == [f.to_json() for f in old_evaluate_host(pack, host, facts, "")]
            assert 0 < verdicts._USED[0] <= 2000 and len(verdicts._KEPT) < 20


def test_equal_but_differently_typed_values_have_different_keys() -> None:
    paths = (steps_of("a.b"), steps_of("a.c"))
    assert None not in paths
    keys = [
        verdicts.content(paths, tree)  # type: ignore[arg-type]
        for tree in (
            {"a": {"b": 1}},
            {"a": {"b": True}},
            {"a": {"b": 1.0}},
            {"a": {"b": "1"}},
            {"a": {"b": None}},
            {"a": {}},
            {"a": {"b": 1, "c": None}},
            {"a": {"b": [1]}},
            {"a": {"b": (1,)}},
        )
    ]
    assert len(set(keys)) == len(keys)
    assert verdicts.content(paths, {"a": {"b": 1}}) == verdicts.content(paths, {"a": {"b": 1}})  # type: ignore[arg-type]
    whole = (steps_of("a"),)
    assert verdicts.content(whole, {"a": OrderedDict(b=1)}) is None  # type: ignore[arg-type]
    assert verdicts.content(whole, {"a": {"b": 1}}) != verdicts.content(whole, {"a": {"b": 1, "c": 0}})  # type: ignore[arg-type]


def test_a_fact_that_is_not_a_plain_path_is_never_keyed() -> None:
    assert verdicts.reads({"fact": "a.b", "equals": 1}, None) == (steps_of("a.b"),)
    assert verdicts.reads({"all": [{"fact": "a", "equals": 1}, {"fact": 5, "equals": 1}]}) is None
    assert verdicts.reads({"fact": "a.\u0661", "equals": 1}) is None
