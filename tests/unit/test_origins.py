"""Provenance: a parser's "_origins" become Facts.origins, each check carries the line that decided."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

import scanner
from scanner import facts as facts_pkg
from scanner.engine import check_origin, evaluate_host, facts_read
from scanner.facts import Context, Facts, Subject, build
from scanner.inventory import Host, Inventory
from scanner.policy import Pack, load_pack
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
