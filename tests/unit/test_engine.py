"""Control status from check results: applicability, platforms, unreachable hosts, parser errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.engine import evaluate_host
from scanner.facts import Facts
from scanner.inventory import Host
from scanner.policy import Pack, load_pack
from scanner.results import Status

from .conftest import CONTROLS, make


@pytest.fixture
def mini(tmp_path: Path) -> Pack:
    controls = CONTROLS.replace(
        "    checks: [sshd-root-login-disabled]",
        "    applies: {roles: [server]}\n    checks: [sshd-root-login-disabled]",
    )
    return load_pack("base", *make(tmp_path, controls=controls))


SERVER = Host(name="srv", zone="mynumber", role="server")


def status(findings: list, control: str) -> Status:  # type: ignore[type-arg]
    return next(f.status for f in findings if f.control_id == control)


def test_pass_and_fail(mini: Pack) -> None:
    facts = Facts(tree={"sshd": {"permitrootlogin": "no"}, "login_defs": {"pass_max_days": 180}})
    findings = evaluate_host(mini, SERVER, facts)
    assert status(findings, "ACC-04") is Status.PASS
    assert status(findings, "ACC-07") is Status.FAIL
    acc07 = next(f for f in findings if f.control_id == "ACC-07")
    assert acc07.checks[0].observed == 180
    assert acc07.params == {"max_age_days": {"value": 90, "source": "NCH 第3条(1)ア"}}


def test_missing_fact_is_error_not_pass(mini: Pack) -> None:
    findings = evaluate_host(mini, SERVER, Facts(tree={"sshd": {}}))
    assert status(findings, "ACC-04") is Status.ERROR
    assert status(findings, "ACC-07") is Status.ERROR


def test_parser_error_makes_the_check_an_error(mini: Pack) -> None:
    facts = Facts(
        tree={"login_defs": {"pass_max_days": 90}}, errors={"sshd": "parser sshd failed: ValueError: x"}
    )
    findings = evaluate_host(mini, SERVER, facts)
    assert status(findings, "ACC-04") is Status.ERROR
    assert "parser sshd failed" in next(f.message for f in findings if f.control_id == "ACC-04")


def test_unreachable_host_is_never_pass(mini: Pack) -> None:
    findings = evaluate_host(mini, SERVER, None, "connection refused")
    assert {f.status for f in findings} == {Status.UNREACHABLE}
    assert all("connection refused" in f.message for f in findings)


def test_out_of_scope_control_is_not_applicable(mini: Pack) -> None:
    terminal = Host(name="t", zone="mynumber", role="terminal")
    findings = evaluate_host(mini, terminal, Facts(tree={"login_defs": {"pass_max_days": 90}}))
    assert status(findings, "ACC-04") is Status.NOT_APPLICABLE
    assert status(findings, "ACC-07") is Status.PASS


def test_no_check_for_the_platform_asks_for_attestation(mini: Pack) -> None:
    windows = Host(name="w", zone="mynumber", role="server", os="windows")
    findings = evaluate_host(mini, windows, Facts())
    assert status(findings, "ACC-04") is Status.MANUAL
    assert "windows" in next(f.message for f in findings if f.control_id == "ACC-04")


def test_organization_level_controls_are_assessed_once_not_per_host(tmp_path: Path) -> None:
    from scanner.engine import evaluate_organization

    controls = CONTROLS + (
        "  - id: AUD-01\n    level: organization\n    title: {ja: 自己点検が実施されている, en: Self-inspection is done}\n"
        "    severity: low\n    manual: true\n    attestation: {ja: 記録を確認, en: Check the record}\n"
    )
    pack = load_pack("base", *make(tmp_path, controls=controls))
    assert all(f.control_id != "AUD-01" for f in evaluate_host(pack, SERVER, Facts()))
    org = evaluate_organization(pack)
    assert [(f.control_id, f.status) for f in org] == [("AUD-01", Status.MANUAL)]
