"""Compiled conditions and per-kind plans give exactly what the interpreter and the per-control loop give.

The interpreter (``scanner.conditions.evaluate``) is the oracle. Every check of every profile's pack
is evaluated both ways on the example ward's facts (every host, all subjects parsed) and on seeded
random variations of them (values replaced by other types, deleted, set to None; list items
changed; parameters changed), and every field of the outcome, or the exception, must agree.
``evaluate_host`` along a plan must give the findings the old control-by-control loop gives.
"""

from __future__ import annotations

import copy
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from scanner import facts as factsmod
from scanner.collect import CollectError
from scanner.compiled import compile_condition, program
from scanner.conditions import Outcome, evaluate
from scanner.engine import check_origin, combine, control_finding, evaluate_host, facts_read
from scanner.facts import Facts
from scanner.inventory import Host, Inventory, load
from scanner.operators import MISSING
from scanner.policy import Check, Pack, load_pack
from scanner.results import CheckResult, Finding, Status
from scanner.run import fetch
from scanner.selection import subjects_for

from .test_conditions import FACTS, ROWS

REPO = Path(__file__).resolve().parents[2]
PROFILES = sorted(p.stem for p in (REPO / "policies" / "profiles").glob("*.yaml"))
POOL: list[Any] = [None, "", "x", "no", "yes", "0777", "0600", "9.2p1", 0, 1, 5, 99999, -1, 2.5, True]
POOL += [False, [], ["a"], [None], [{}], [{"name": "n", "uid": 0}], {}, {"a": 1}, {"name": "root"}]


@pytest.fixture(scope="module")
def ward() -> tuple[Inventory, dict[str, Facts]]:
    inventory = load(REPO / "inventories" / "example-ward")
    pack = load_pack(inventory.profile)
    out: dict[str, Facts] = {}
    for host in inventory.hosts:
        got, _ = fetch(host, pack, inventory, 10.0)
        if not isinstance(got, CollectError):
            out[host.name] = factsmod.build(got, factsmod.Context(host, inventory), None)
    assert len(out) >= 30
    return inventory, out


@pytest.fixture(scope="module", params=PROFILES)
def pack(request: pytest.FixtureRequest) -> Pack:
    return load_pack(str(request.param))


def shape(got: Outcome | BaseException) -> tuple[Any, ...]:
    if isinstance(got, BaseException):
        return (type(got).__name__, str(got))
    return (got.status, repr(got.observed), repr(got.expected), got.message, sorted(got.subjects), got.where)


def both(
    cond: Any, facts: dict[str, Any], params: dict[str, Any], if_missing: str
) -> Outcome | BaseException:
    """Evaluate both ways; fail on any difference; return the interpreter's answer."""
    try:
        want: Outcome | BaseException = evaluate(cond, facts, params, if_missing)
    except Exception as exc:
        want = exc
    try:
        got: Outcome | BaseException = compile_condition(cond)(facts, params, if_missing, MISSING)
    except Exception as exc:
        got = exc
    assert shape(got) == shape(want), cond
    if isinstance(want, Outcome) and isinstance(got, Outcome):
        assert got.decided == want.decided, cond
    return want


def params_of(pack: Pack, check: Check, host: Host) -> list[dict[str, Any]]:
    """Return the parameter values each control citing this check gives the host."""
    return [
        {n: s["value"] for n, s in pack.params_for(c, host.zone, host.role).items()}
        for c in pack.controls.values()
        if check.id in c.checks
    ] or [{}]


def test_every_check_on_the_ward_facts(pack: Pack, ward: tuple[Inventory, dict[str, Facts]]) -> None:
    inventory, facts = ward
    seen: Counter[Any] = Counter()
    for host in inventory.hosts:
        if host.name not in facts:
            continue
        for check in pack.checks.values():
            for params in params_of(pack, check, host):
                if check.when is not None:
                    both(check.when, facts[host.name].tree, params, "error")
                out = both(check.condition, facts[host.name].tree, params, check.if_missing)
                seen[out.status if isinstance(out, Outcome) else "raised"] += 1
    assert {Status.PASS, Status.FAIL, Status.ERROR} <= set(seen), seen


def shake(node: Any, rng: random.Random, depth: int = 0) -> Any:
    """Return a randomly changed copy of a fact value (its type, its items, its keys)."""
    roll = rng.random()
    if roll < 0.3 or depth > 3:
        return rng.choice(POOL)
    if isinstance(node, dict) and node:
        out = dict(node)
        key = rng.choice(sorted(out, key=str))
        if rng.random() < 0.3:
            del out[key]
        else:
            out[key] = shake(out[key], rng, depth + 1)
        return out
    if isinstance(node, list) and node:
        out_list = list(node)
        spot = rng.randrange(len(out_list))
        out_list[spot] = shake(out_list[spot], rng, depth + 1)
        if rng.random() < 0.2:
            out_list.append(rng.choice(POOL))
        return out_list
    return rng.choice(POOL)


def shaken(tree: dict[str, Any], path: str, rng: random.Random) -> dict[str, Any]:
    """Return a copy of the tree with the value at one dotted path (or one of its parents) changed."""
    steps = path.split(".")
    steps = steps[: rng.randint(1, len(steps))]
    out = dict(tree)
    node = out
    for step in steps[:-1]:
        if not isinstance(node.get(step), dict):
            return out
        node[step] = dict(node[step])
        node = node[step]
    if steps[-1] in node and rng.random() < 0.15:
        del node[steps[-1]]
    else:
        node[steps[-1]] = shake(copy.deepcopy(node.get(steps[-1])), rng)
    return out


def test_every_check_on_shaken_facts(pack: Pack, ward: tuple[Inventory, dict[str, Facts]]) -> None:
    inventory, facts = ward
    rng = random.Random(12)
    hosts = [h for h in inventory.hosts if h.name in facts][::5]
    seen: Counter[Any] = Counter()
    for check in pack.checks.values():
        paths = facts_read(check.condition) + facts_read(check.when)
        for host in hosts:
            for params in params_of(pack, check, host):
                for _ in range(6):
                    tree = shaken(facts[host.name].tree, rng.choice(paths), rng) if paths else {}
                    if params and rng.random() < 0.2:
                        params = {**params, rng.choice(sorted(params)): rng.choice(POOL)}
                    if check.when is not None:
                        both(check.when, tree, params, "error")
                    out = both(check.condition, tree, params, check.if_missing)
                    seen[out.status if isinstance(out, Outcome) else "raised"] += 1
    assert {Status.PASS, Status.FAIL, Status.ERROR, Status.NOT_APPLICABLE} <= set(seen), seen


@pytest.mark.parametrize(("op", "fact", "arg", "status"), ROWS)
def test_operator_rows_both_ways(op: str, fact: str, arg: Any, status: Status) -> None:
    for if_missing in ("error", "fail", "not_applicable"):
        assert shape(both({"fact": fact, op: arg}, FACTS, {}, if_missing))[0] is status
        both({"fact": "s.none", op: arg}, FACTS, {}, if_missing)
        both({"fact": "s.gone", op: arg}, FACTS, {}, if_missing)
        both({"fact": "s.users", "every": {"field": "name", op: arg}}, FACTS, {}, if_missing)
        both({"fact": "s.users", "some": {"any": [{"field": "uid", op: arg}]}}, FACTS, {}, if_missing)


# Shapes the packs may not use today: own if_missing on combinators and leaves, quantifiers reading
# their own fact again, targets, list indexes, parameters inside quantifiers and lists.
HANDMADE: list[dict[str, Any]] = [
    {"all": [{"fact": "s.gone", "equals": 1}, {"fact": "s.num", "ge": 1}], "if_missing": "fail"},
    {
        "any": [{"fact": "s.gone", "equals": 1}, {"fact": "s.nope", "equals": 1}],
        "if_missing": "not_applicable",
    },
    {"none": [{"fact": "s.gone", "equals": 1, "if_missing": "fail"}, {"fact": "s.word", "equals": "no"}]},
    {
        "all": [
            {"any": [{"fact": "s.gone", "exists": True}], "if_missing": "fail"},
            {"fact": "x.y", "absent": True},
        ]
    },
    {"fact": "s.users", "every": {"fact": "s.users", "length_ge": 1}},
    {
        "fact": "s.users",
        "some": {"all": [{"field": "uid", "ge": {"param": "uid"}}, {"fact": "s.num", "le": 9}]},
    },
    {"fact": "s.users", "every": {"field": "name", "in": [{"param": "name"}, "bob"]}, "if_missing": "fail"},
    {"fact": "s.gone", "every": {"field": "name", "equals": "x"}, "if_missing": "not_applicable"},
    {"fact": "s.word", "some": {"equals": "n"}},
    {"fact": "s.users", "field": "0.name", "equals": {"param": "name"}},
    {"fact": "s.users.1.uid", "lt": {"param": "uid"}},
    {"fact": "s.users.7.uid", "lt": 1, "if_missing": "fail"},
    {"fact": "s.paths", "target": "/var/log/auth.log", "field": "days", "ge": {"param": "uid"}},
    {"fact": "s.paths", "target": "/nowhere", "exists": {"param": "flag"}},
    {"fact": "s.list", "empty": {"param": "flag"}},
    {"fact": "s.text", "matches": {"param": "name"}},
    {"fact": "s.text", "not_matches": "(unclosed"},
    {"fact": "s.num", "length_le": "x"},
    {"fact": "s", "field": "users", "every": {"field": "uid", "not_in": [0]}},
    {"fact": "s.users", "every": {"target": "name", "equals": "alice"}},
    {
        "fact": "s.users",
        "every": {
            "any": [{"field": "gone", "le": 1, "if_missing": "not_applicable"}, {"field": "x", "ge": 0}]
        },
    },
    {
        "fact": "s.users",
        "some": {"all": [{"field": "gone", "equals": 1, "if_missing": "fail"}], "if_missing": "error"},
    },
    {
        "fact": "s.users",
        "every": {"none": [{"field": "gone", "equals": 1}, {"field": "uid", "lt": 0}], "if_missing": "fail"},
    },
]


@pytest.mark.parametrize("cond", HANDMADE)
def test_handmade_conditions_both_ways(cond: dict[str, Any]) -> None:
    rng = random.Random(3)
    for params in ({"uid": 5, "name": "alice", "flag": True}, {"uid": "x", "name": "(", "flag": 0}):
        for if_missing in ("error", "fail", "not_applicable"):
            both(cond, FACTS, params, if_missing)
            for _ in range(30):
                both(
                    cond,
                    shaken(FACTS, rng.choice(["s", "s.users", "s.paths", "s.list", "s.num"]), rng),
                    params,
                    if_missing,
                )


def test_dict_subclasses_and_list_indexes_read_as_the_interpreter_reads_them() -> None:
    """A plain dict is read with one lookup; any other mapping or a list goes the interpreter's way."""

    class Odd(dict[str, Any]):
        pass

    tree = {"s": Odd(users=[{"name": "alice"}, Odd(name="bob")], n=Odd({"0": 1}), word="no")}
    paths = ("s.users.0.name", "s.users.1.name", "s.users.2.name", "s.n.0", "s.word.0", "s.gone.x")
    got = [both({"fact": path, "equals": "bob"}, tree, {}, "fail").status for path in paths]
    assert got == [Status.FAIL, Status.PASS, Status.FAIL, Status.FAIL, Status.FAIL, Status.FAIL]
    assert [both({"fact": path, "equals": 1}, tree, {}, "error").status for path in paths[3:]] == [
        Status.PASS,
        Status.ERROR,
        Status.ERROR,
    ]


def test_a_differing_compiled_condition_is_caught() -> None:
    """The comparison is not vacuous: a condition compiled from a different operator differs."""
    wrong = compile_condition({"fact": "s.word", "not_equals": "no"})
    right = evaluate({"fact": "s.word", "equals": "no"}, FACTS, {})
    assert shape(wrong(FACTS, {}, "error", MISSING)) != shape(right)


def test_a_check_is_compiled_once() -> None:
    check = next(iter(load_pack().checks.values()))
    assert program(check) is program(check)


def old_run_check(check: Check, facts: Facts, params: dict[str, Any]) -> CheckResult:
    """The engine's run_check before conditions were compiled (interpreted, no shared evidence)."""
    evidence = tuple(sorted({i for s in check.subjects for i in facts.evidence.get(s, [])}))
    broken = sorted(s for s in check.subjects if s in facts.errors)
    if broken:
        message = "; ".join(facts.errors[s] for s in broken)
        return CheckResult(
            check.id, Status.ERROR, check.title_ja, check.title_en, message=message, evidence=evidence
        )
    t = (check.id,)
    if check.when is not None:
        gate = evaluate(check.when, facts.tree, params, "error")
        if gate.status is not Status.PASS:
            status = Status.ERROR if gate.status is Status.ERROR else Status.NOT_APPLICABLE
            message = gate.message if status is Status.ERROR else "precondition not met"
            args = (gate.observed, gate.expected, message, evidence)
            return CheckResult(*t, status, check.title_ja, check.title_en, *args)
    out = evaluate(check.condition, facts.tree, params, check.if_missing)
    origin = check_origin(check.condition, facts, out.decided)
    args = (out.observed, out.expected, out.message, evidence)
    return CheckResult(*t, out.status, check.title_ja, check.title_en, *args, origin=origin)


def old_evaluate_host(pack: Pack, host: Host, facts: Facts | None, reason: str) -> list[Finding]:
    """The engine's evaluate_host before plans: every control worked out for every host."""
    out: list[Finding] = []
    for control in (c for c in pack.controls.values() if c.level != "organization"):
        checks = [pack.checks[c] for c in control.checks if pack.checks[c].platform in (host.os, "any")]
        if not control.applies.matches(host):
            out.append(
                control_finding(
                    control, host, pack, Status.NOT_APPLICABLE, message="outside the control's scope"
                )
            )
        elif control.manual:
            out.append(control_finding(control, host, pack, Status.MANUAL, message="attestation required"))
        elif not checks:
            why = f"no machine check for os {host.os}: attestation required"
            out.append(control_finding(control, host, pack, Status.MANUAL, message=why))
        elif facts is None:
            out.append(
                control_finding(
                    control, host, pack, Status.UNREACHABLE, message=reason or "host not assessed"
                )
            )
        else:
            values = {n: s["value"] for n, s in pack.params_for(control, host.zone, host.role).items()}
            results = [old_run_check(check, facts, values) for check in checks]
            status = combine(results)
            message = "; ".join(r.message for r in results if r.status is status and r.message)
            out.append(control_finding(control, host, pack, status, checks=tuple(results), message=message))
    return out


def old_subjects_for(pack: Pack, host: Host) -> set[str]:
    out: set[str] = set()
    for control in pack.controls.values():
        if control.level == "host" and control.applies.matches(host):
            for cid in control.checks:
                if pack.checks[cid].platform in (host.os, "any"):
                    out |= pack.checks[cid].subjects
    return out | ({"netdev"} if host.os == "network" else set())


def kinds(pack: Pack, inventory: Inventory) -> list[Host]:
    """Return hosts of every kind the controls tell apart (and some they do not)."""
    applies = [c.applies for c in pack.controls.values()]
    zones = sorted({z for a in applies for z in a.zones} | set(inventory.zones) | {"elsewhere"})
    roles = sorted({r for a in applies for r in a.roles} | {h.role for h in inventory.hosts} | {"other"})
    classes = sorted({c for a in applies for c in a.classification} | {"", "x"})
    labels = [{}] + [{k: v} for a in applies for k, v in a.labels.items()] + [{"team": "x"}]
    out = []
    for n, (zone, role) in enumerate((z, r) for z in zones for r in roles):
        for os in ("linux", "windows", "network", "other"):
            out.append(
                Host(
                    name=f"h{n}-{os}",
                    zone=zone,
                    role=role,
                    os=os,
                    classification=classes[n % len(classes)],
                    labels=labels[n % len(labels)],
                )
            )
    return out


def test_plans_give_what_each_control_gives(pack: Pack, ward: tuple[Inventory, dict[str, Facts]]) -> None:
    inventory, _ = ward
    hosts = kinds(pack, inventory)
    for host in hosts:
        assert subjects_for(pack, host) == old_subjects_for(pack, host), host
        new = [f.to_json() for f in evaluate_host(pack, host, None, "refused")]
        assert new == [f.to_json() for f in old_evaluate_host(pack, host, None, "refused")], host
    twin = Host(name="twin", zone=hosts[0].zone, role=hosts[0].role, os=hosts[0].os, owner="someone")
    for mine, theirs in zip(
        evaluate_host(pack, hosts[0], None, ""), evaluate_host(pack, twin, None, ""), strict=True
    ):
        assert (mine.host, theirs.host, theirs.owner) == (hosts[0].name, "twin", "someone")
        assert mine.params == theirs.params and (mine.params is not theirs.params or not mine.params)
    statuses = {f.status for h in hosts for f in evaluate_host(pack, h, None, "")}
    assert {Status.NOT_APPLICABLE, Status.MANUAL, Status.UNREACHABLE} <= statuses


def test_ward_hosts_judged_as_before(pack: Pack, ward: tuple[Inventory, dict[str, Facts]]) -> None:
    inventory, facts = ward
    rng = random.Random(7)
    for host in (h for h in inventory.hosts if h.name in facts):
        fact = facts[host.name]
        assert subjects_for(pack, host) == old_subjects_for(pack, host), host
        built = evaluate_host(pack, host, fact, "")
        assert [f.to_json() for f in built] == [f.to_json() for f in old_evaluate_host(pack, host, fact, "")]
        # built without the frozen __init__, yet the same records: fields, order, equality, repr
        assert built == old_evaluate_host(pack, host, fact, ""), host
        assert [repr(f) for f in built] == [repr(f) for f in old_evaluate_host(pack, host, fact, "")]
        subject = rng.choice(sorted(fact.tree))
        broken = Facts(
            shaken(fact.tree, subject, rng), {**fact.errors, subject: "parse error"}, fact.evidence, {}
        )
        new = [f.to_json() for f in evaluate_host(pack, host, broken, "")]
        assert new == [f.to_json() for f in old_evaluate_host(pack, host, broken, "")], host
