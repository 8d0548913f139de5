"""例外措置: a waiver hides a failure only while it is in force, and says why when it is not."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from scanner.engine import evaluate_host
from scanner.facts import Facts
from scanner.inventory import Host
from scanner.policy import Pack, load_pack
from scanner.results import Status
from scanner.waivers import apply, fiscal_year_end, load_waivers, summary

from .conftest import CONTROLS, make

HOST = Host(name="srv-01", zone="mynumber", role="server")
FAILING = Facts(tree={"sshd": {"permitrootlogin": "yes"}, "login_defs": {"pass_max_days": 90}})
WAIVER = """\
id: EXC-2026-001
control: ACC-04
hosts: [srv-*]
justification: 保守ベンダーの作業手順がrootログインを前提としているため
compensating_controls: [ACC-07]
requested_by: 税務課長
approved_by: {name: 山田太郎, role: 統括情報セキュリティ責任者}
approved_on: 2026-04-01
expires: 2027-03-31
"""


def setup(tmp_path: Path, waiver: str = WAIVER, controls: str = CONTROLS) -> tuple[Pack, Path]:
    checks, policies = make(tmp_path, controls=controls)
    (policies / "profiles" / "base.yaml").write_text(
        "municipality: {name_ja: 試験区, name_en: Test}\nroles: {waiver_approver: 統括情報セキュリティ責任者}\n",
        "utf-8",
    )
    folder = tmp_path / "waivers"
    folder.mkdir()
    (folder / "exc.yaml").write_text(waiver, "utf-8")
    return load_pack("base", checks, policies), folder


def outcome(tmp_path: Path, today: date, facts: Facts = FAILING, **kw: str) -> tuple[Status, str]:
    pack, folder = setup(tmp_path, **kw)
    waivers = load_waivers(folder, pack)
    findings = apply(evaluate_host(pack, HOST, facts), {HOST.name: HOST}, waivers, pack, today)
    acc04 = next(f for f in findings if f.control_id == "ACC-04")
    return acc04.status, acc04.waiver.reason if acc04.waiver else ""


def test_a_valid_waiver_waives_the_failure(tmp_path: Path) -> None:
    assert outcome(tmp_path, date(2026, 11, 20)) == (Status.WAIVED, "")


def test_an_expired_waiver_lapses(tmp_path: Path) -> None:
    status, reason = outcome(tmp_path, date(2027, 4, 1))
    assert status is Status.FAIL
    assert "lapsed on 2027-03-31" in reason


def test_expiry_beyond_the_fiscal_year_does_not_apply(tmp_path: Path) -> None:
    status, reason = outcome(tmp_path, date(2026, 11, 20), waiver=WAIVER.replace("2027-03-31", "2027-06-30"))
    assert status is Status.FAIL
    assert "fiscal year end 2027-03-31" in reason


def test_the_approver_must_hold_the_profile_role(tmp_path: Path) -> None:
    status, reason = outcome(
        tmp_path,
        date(2026, 11, 20),
        waiver=WAIVER.replace("role: 統括情報セキュリティ責任者", "role: 税務課長"),
    )
    assert status is Status.FAIL
    assert "税務課長" in reason


def test_compensating_controls_must_pass(tmp_path: Path) -> None:
    facts = Facts(tree={"sshd": {"permitrootlogin": "yes"}, "login_defs": {"pass_max_days": 365}})
    status, reason = outcome(tmp_path, date(2026, 11, 20), facts=facts)
    assert status is Status.FAIL
    assert "compensating control ACC-07 is fail" in reason


def test_a_non_waivable_control_rejects_waivers(tmp_path: Path) -> None:
    controls = CONTROLS.replace("    severity: high\n", "    severity: high\n    waivable: false\n")
    status, reason = outcome(tmp_path, date(2026, 11, 20), controls=controls)
    assert status is Status.FAIL
    assert "cannot be waived" in reason


def test_summary_lists_in_force_lapsed_and_unused(tmp_path: Path) -> None:
    pack, folder = setup(tmp_path)
    waivers = load_waivers(folder, pack)
    passing = Facts(tree={"sshd": {"permitrootlogin": "no"}, "login_defs": {"pass_max_days": 90}})
    findings = apply(evaluate_host(pack, HOST, passing), {HOST.name: HOST}, waivers, pack, date(2026, 11, 20))
    assert [w["id"] for w in summary(waivers, findings)["unused"]] == ["EXC-2026-001"]


@pytest.mark.parametrize(
    ("day", "end"),
    [
        (date(2026, 4, 1), date(2027, 3, 31)),
        (date(2027, 3, 31), date(2027, 3, 31)),
        (date(2026, 1, 5), date(2026, 3, 31)),
    ],
)
def test_fiscal_year_end(day: date, end: date) -> None:
    assert fiscal_year_end(day) == end
