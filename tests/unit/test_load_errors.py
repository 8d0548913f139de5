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


PARAM = "{default: 90, source: NCH 第3条(1)ア}"
LOGIN = "login-defs-max-age-limited"
NO = '    equals: "no"\n'
BAD_PACKS = {  # case: (file, old text, new text, what the error says, its line or None)
    "operator": ("checks", 'equals: "no"', 'equal: "no"', "unknown operator 'equal'", 5),
    "check": ("controls", "[sshd-root-login-disabled]", "[sshd-root-login-off]", "unknown check 'sshd-root-login-off'", 7),
    "no-default": ("controls", PARAM, "{source: NCH 第3条(1)ア}", "default", 13),
    "no-source": ("controls", PARAM, "{default: 90}", "source", None),
    "param": ("controls", "max_age_days: {default", "max_days: {default", "max_age_days", None),
    "check-id": ("checks", LOGIN, "sshd-root-login-disabled", "duplicate check id", 6),
    "yaml-key": ("checks", NO, NO + '    equals: "yes"\n', "duplicate key", None),
    "subject": ("checks", "fact: sshd.permitrootlogin", "fact: ssh.permitrootlogin", "unknown fact subject 'ssh'", None),
}  # fmt: skip


@pytest.mark.parametrize(("file", "old", "new", "says", "line"), BAD_PACKS.values(), ids=BAD_PACKS.keys())
def test_a_bad_pack_says_what_and_where(
    tmp_path: Path, file: str, old: str, new: str, says: str, line: int | None
) -> None:
    text = {"checks": CHECKS, "controls": CONTROLS}[file]
    assert old in text  # the case changes what it means to
    err = error(tmp_path, **{file: text.replace(old, new)})
    assert says in err.message
    if line is not None:
        assert err.line == line


INVENTORY = """\
zones:
  mynumber: {label_ja: マイナンバー利用事務系, cidrs: [10.10.0.0/16]}
hosts:
  - {name: a, zone: mynumber, role: server, transport: snapshot}
  - {name: b, zone: lgwan, role: server, transport: snapshot}
"""


def inventory_error(tmp: Path, text: str) -> LoadError:
    (tmp / "inventory.yaml").write_text(text, "utf-8")
    with pytest.raises(LoadError) as info:
        load_inventory(tmp)
    return info.value


def test_host_in_an_undeclared_zone(tmp_path: Path) -> None:
    err = inventory_error(tmp_path, INVENTORY)
    assert "zone 'lgwan' is not declared" in err.message
    assert err.line == 5


def test_duplicate_host(tmp_path: Path) -> None:
    err = inventory_error(tmp_path, INVENTORY.replace("name: b, zone: lgwan", "name: a, zone: mynumber"))
    assert "duplicate host name 'a'" in err.message


def test_credentials_are_refused_in_an_inventory(tmp_path: Path) -> None:
    text = INVENTORY.replace("transport: snapshot}\n  - {name: b", "password: x}\n  - {name: b")
    assert "password" in inventory_error(tmp_path, text).message


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
    err = inventory_error(tmp_path, text)
    assert "credential" in err.message
    assert err.line == 4
