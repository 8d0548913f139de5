"""Bad input stops before any host is touched, with file:line and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.errors import LoadError
from scanner.inventory import load as load_inventory
from scanner.policy import load_pack
from scanner.waivers import load_waivers

from .conftest import CHECKS, CONTROLS, make


def error(tmp: Path, **files: str) -> LoadError:
    checks, policies = make(tmp, **files)
    with pytest.raises(LoadError) as info:
        load_pack("base", checks, policies)
    return info.value


def test_minimal_pack_loads(tmp_path: Path) -> None:
    checks, policies = make(tmp_path)
    pack = load_pack("base", checks, policies)
    assert set(pack.controls) == {"ACC-04", "ACC-07"}


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    err = error(tmp_path, checks=CHECKS.replace('equals: "no"', 'equals: "no'))
    assert err.path.endswith("sshd.yaml")
    assert err.line is not None and err.line >= 5


def test_unknown_operator(tmp_path: Path) -> None:
    err = error(tmp_path, checks=CHECKS.replace('equals: "no"', 'equal: "no"'))
    assert "unknown operator 'equal'" in err.message
    assert err.line == 5


def test_control_naming_a_missing_check(tmp_path: Path) -> None:
    err = error(tmp_path, controls=CONTROLS.replace("[sshd-root-login-disabled]", "[sshd-root-login-off]"))
    assert "unknown check 'sshd-root-login-off'" in err.message
    assert err.line == 7


def test_parameter_without_default(tmp_path: Path) -> None:
    err = error(
        tmp_path,
        controls=CONTROLS.replace("{default: 90, source: NCH 第3条(1)ア}", "{source: NCH 第3条(1)ア}"),
    )
    assert "default" in err.message
    assert err.line == 13


def test_parameter_without_source(tmp_path: Path) -> None:
    err = error(tmp_path, controls=CONTROLS.replace("{default: 90, source: NCH 第3条(1)ア}", "{default: 90}"))
    assert "source" in err.message


def test_check_using_an_undefined_parameter(tmp_path: Path) -> None:
    err = error(tmp_path, controls=CONTROLS.replace("max_age_days: {default", "max_days: {default"))
    assert "max_age_days" in err.message


def test_duplicate_check_id(tmp_path: Path) -> None:
    err = error(tmp_path, checks=CHECKS.replace("login-defs-max-age-limited", "sshd-root-login-disabled"))
    assert "duplicate check id" in err.message
    assert err.line == 6


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    err = error(
        tmp_path, checks=CHECKS.replace('    equals: "no"\n', '    equals: "no"\n    equals: "yes"\n')
    )
    assert "duplicate key" in err.message


def test_unknown_fact_subject(tmp_path: Path) -> None:
    err = error(tmp_path, checks=CHECKS.replace("fact: sshd.permitrootlogin", "fact: ssh.permitrootlogin"))
    assert "unknown fact subject 'ssh'" in err.message


INVENTORY = """\
zones:
  mynumber: {label_ja: マイナンバー利用事務系, cidrs: [10.10.0.0/16]}
hosts:
  - {name: a, zone: mynumber, role: server, transport: snapshot}
  - {name: b, zone: lgwan, role: server, transport: snapshot}
"""


def test_host_in_an_undeclared_zone(tmp_path: Path) -> None:
    (tmp_path / "inventory.yaml").write_text(INVENTORY, "utf-8")
    with pytest.raises(LoadError) as info:
        load_inventory(tmp_path)
    assert "zone 'lgwan' is not declared" in info.value.message
    assert info.value.line == 5


def test_duplicate_host(tmp_path: Path) -> None:
    (tmp_path / "inventory.yaml").write_text(
        INVENTORY.replace("name: b, zone: lgwan", "name: a, zone: mynumber"), "utf-8"
    )
    with pytest.raises(LoadError) as info:
        load_inventory(tmp_path)
    assert "duplicate host name 'a'" in info.value.message


def test_credentials_are_refused_in_an_inventory(tmp_path: Path) -> None:
    (tmp_path / "inventory.yaml").write_text(
        INVENTORY.replace("transport: snapshot}\n  - {name: b", "password: x}\n  - {name: b"), "utf-8"
    )
    with pytest.raises(LoadError) as info:
        load_inventory(tmp_path)
    assert "password" in info.value.message


WAIVER = """\
id: EXC-2026-001
control: ACC-04
hosts: [a]
justification: 業務システムの制約
approved_by: {name: 山田太郎, role: 統括情報セキュリティ責任者}
approved_on: 2026-04-01
expires: 2027-03-31
"""


def test_waiver_without_expiry(tmp_path: Path) -> None:
    checks, policies = make(tmp_path)
    pack = load_pack("base", checks, policies)
    folder = tmp_path / "waivers"
    folder.mkdir()
    (folder / "w.yaml").write_text(WAIVER.replace("expires: 2027-03-31\n", ""), "utf-8")
    with pytest.raises(LoadError) as info:
        load_waivers(folder, pack)
    assert "expires" in info.value.message
    assert info.value.path.endswith("w.yaml")


def test_cli_exits_2_on_bad_inventory_before_any_host(tmp_path: Path) -> None:
    (tmp_path / "inventory.yaml").write_text(INVENTORY, "utf-8")
    result = CliRunner().invoke(main, ["scan", str(tmp_path), "--out", str(tmp_path / "reports")])
    assert result.exit_code == 2
    assert f"{tmp_path / 'inventory.yaml'}:5:" in result.output
    assert not (tmp_path / "reports").exists()


def test_credentials_in_host_vars_are_refused(tmp_path: Path) -> None:
    text = INVENTORY.replace(
        "transport: snapshot}\n  - {name: b", "vars: {db_password: hunter2}}\n  - {name: b"
    )
    (tmp_path / "inventory.yaml").write_text(text, "utf-8")
    with pytest.raises(LoadError) as info:
        load_inventory(tmp_path)
    assert "credential" in info.value.message
    assert info.value.line == 4
