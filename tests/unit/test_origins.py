"""Provenance: a parser's "_origins" become Facts.origins, each check carries the line that decided."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

import scanner
from scanner import facts as facts_pkg
from scanner.engine import check_origin, evaluate_host, facts_read, run_check
from scanner.facts import Context, Facts, Subject, build
from scanner.inventory import Host, Inventory
from scanner.policy import Check, Pack, load_pack
from scanner.rawfacts import RawFacts
from scanner.report.console import _finding_details
from scanner.results import CheckResult, Status

from .conftest import make

VENDOR = {"file": "/etc/ssh/sshd_config.d/50-vendor.conf", "line": 2}
SCHEMA = json.loads((Path(scanner.__file__).parent / "schemas" / "results.schema.json").read_text("utf-8"))


def test_build_moves_origins_out_of_the_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    def parse(raw: RawFacts, ctx: Context) -> dict[str, object]:
        return {
            "permitrootlogin": "yes",
            "second": {"factor": False},
            "_origins": {"permitrootlogin": VENDOR, "second.factor": {"file": "/etc/pam.d/sshd", "line": 4}},
        }

    monkeypatch.setitem(facts_pkg.SUBJECTS, "fake", Subject(name="fake", parse=parse))
    ctx = Context(Host(name="h", zone="mynumber", role="server"), Inventory.__new__(Inventory))
    facts = build(RawFacts(host="h", collected_at="2026-01-01T00:00:00+09:00", collector={}), ctx, ["fake"])
    assert "_origins" not in facts.tree["fake"]
    assert facts.origins["fake.permitrootlogin"] == VENDOR
    assert facts.origins["fake.second.factor"]["line"] == 4


def test_origin_is_exact_else_longest_prefix() -> None:
    facts = Facts(origins={"sshd.permitrootlogin": VENDOR, "pam": {"file": "/etc/pam.d/sshd", "line": 1}})
    assert facts.origin_of("sshd.permitrootlogin") == VENDOR
    assert facts.origin_of("pam.sshd.second_factor") == {"file": "/etc/pam.d/sshd", "line": 1}
    assert facts.origin_of("sshd.passwordauthentication") is None


def test_facts_read_walks_all_any_none() -> None:
    cond = {"all": [{"fact": "a.b", "equals": 1}, {"any": [{"fact": "c", "equals": 2}]}]}
    assert facts_read(cond) == ["a.b", "c"]
    assert check_origin(cond, Facts(origins={"c": VENDOR})) == VENDOR


PAM = {"file": "/etc/pam.d/sshd", "line": 7}


def _check(condition: dict[str, object]) -> Check:
    return Check("t", "t", "t", condition, None, "any", "error", frozenset({"sshd"}), frozenset(), "f", 1)


@pytest.mark.parametrize(
    ("root", "password", "status", "origin"),
    [
        ("no", "yes", Status.FAIL, PAM),  # the second fact fails: its line decided, not the first one read
        ("yes", "no", Status.FAIL, VENDOR),
        ("yes", "yes", Status.FAIL, VENDOR),  # both fail: the first failing one
        ("no", "no", Status.PASS, VENDOR),  # all pass: every fact decided, the first with a line
    ],
)
def test_origin_is_the_fact_that_decided(root: str, password: str, status: Status, origin: object) -> None:
    check = _check(
        {
            "all": [
                {"fact": "sshd.permitrootlogin", "equals": "no"},
                {"fact": "sshd.passwordauthentication", "equals": "no"},
            ]
        }
    )
    facts = Facts(
        tree={"sshd": {"permitrootlogin": root, "passwordauthentication": password}},
        origins={"sshd.permitrootlogin": VENDOR, "sshd.passwordauthentication": PAM},
    )
    result = run_check(check, facts, {})
    assert (result.status, result.origin) == (status, origin)


def test_origin_of_a_passing_any_is_the_branch_that_passed() -> None:
    check = _check(
        {
            "any": [
                {"fact": "sshd.permitrootlogin", "equals": "no"},
                {"fact": "sshd.passwordauthentication", "equals": "no"},
            ]
        }
    )
    facts = Facts(
        tree={"sshd": {"permitrootlogin": "yes", "passwordauthentication": "no"}},
        origins={"sshd.permitrootlogin": VENDOR, "sshd.passwordauthentication": PAM},
    )
    assert run_check(check, facts, {}).origin == PAM


def test_origin_of_a_failing_every_is_its_list_and_unknown_when_the_failing_fact_has_none() -> None:
    every = {"fact": "users.list", "every": {"field": "locked", "equals": True}}
    facts = Facts(tree={"users": {"list": [{"name": "a", "locked": False}]}}, origins={"users": PAM})
    assert run_check(_check(every), facts, {}).origin == PAM
    both = {"all": [{"fact": "sshd.permitrootlogin", "equals": "no"}, {"fact": "x.y", "equals": 1}]}
    facts = Facts(tree={"sshd": {"permitrootlogin": "no"}, "x": {"y": 2}}, origins={"sshd": VENDOR})
    result = run_check(_check(both), facts, {})
    assert (result.status, result.origin) == (Status.FAIL, None)  # x.y failed and has no known line


@pytest.fixture
def mini(tmp_path: Path) -> Pack:
    return load_pack("base", *make(tmp_path))


def test_failing_check_carries_origin_to_json_and_console(mini: Pack) -> None:
    facts = Facts(
        tree={"sshd": {"permitrootlogin": "yes"}, "login_defs": {"pass_max_days": 90}},
        origins={"sshd.permitrootlogin": VENDOR},
    )
    findings = evaluate_host(mini, Host(name="srv", zone="mynumber", role="server"), facts)
    acc04 = next(f for f in findings if f.control_id == "ACC-04")
    assert acc04.status is Status.FAIL
    result = acc04.checks[0]
    assert result.origin == VENDOR
    data = result.to_json()
    assert data["origin"] == VENDOR
    jsonschema.validate(data, {"$defs": SCHEMA["$defs"], "$ref": "#/$defs/check"})
    assert CheckResult.from_json(data) == result
    text = "\n".join(_finding_details(acc04))
    assert "set in /etc/ssh/sshd_config.d/50-vendor.conf:2" in text
    assert "/etc/ssh/sshd_config.d/50-vendor.conf:2 で設定" in text
    acc07 = next(f for f in findings if f.control_id == "ACC-07")
    assert acc07.checks[0].origin is None and acc07.checks[0].to_json()["origin"] is None
