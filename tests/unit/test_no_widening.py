"""Waivers and inventories cannot widen themselves (issue 9.5)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from scanner.errors import LoadError
from scanner.inventories import load
from scanner.policy import load_pack
from scanner.results import Status
from scanner.waivers import load_waivers, summary

from .conftest import make, one_host_error
from .test_waivers import HOST, WAIVER, outcome, setup


def test_a_waiver_approved_in_the_future_is_not_yet_in_force(tmp_path: Path) -> None:
    future = WAIVER.replace("approved_on: 2026-04-01", "approved_on: 2026-12-01")
    status, reason = outcome(tmp_path, date(2026, 11, 20), waiver=future)
    assert status is Status.FAIL and "not yet in force" in reason and "2026-12-01" in reason
    (tmp_path / "s").mkdir()
    pack, folder = setup(tmp_path / "s", waiver=future)
    entry = summary(load_waivers(folder, pack), [], date(2026, 11, 20))["not_applied"][0]
    assert "not yet in force" in entry["reason"]
    (tmp_path / "later").mkdir()
    assert outcome(tmp_path / "later", date(2026, 12, 1), waiver=future)[0] is Status.WAIVED


@pytest.mark.parametrize(
    ("hosts", "line", "message"),
    [
        ("hosts: {}", 3, "empty selector would waive every host"),
        ("hosts: {zones: []}", 3, "hosts.zones: empty"),
        ("hosts: {labels: {}}", 3, "hosts.labels: empty"),
        ("hosts:\n  zones: [mynumbr]", 4, "'mynumbr' is not a zone of the inventory"),
        ('hosts: [""]', 3, "an empty host name"),
    ],
)
def test_selectors_that_would_widen(tmp_path: Path, hosts: str, line: int, message: str) -> None:
    pack, folder = setup(tmp_path, waiver=WAIVER.replace("hosts: [srv-*]", hosts))
    with pytest.raises(LoadError) as info:
        load_waivers(folder, pack, zones={"mynumber", "lgwan"})
    assert info.value.line == line and message in info.value.message


def test_an_approver_must_be_named(tmp_path: Path) -> None:
    checks, policies = make(tmp_path)
    profile = policies / "profiles" / "base.yaml"
    for value in ("[]", '""', "[課長, '']"):
        profile.write_text(
            f"municipality: {{name_ja: 試験区, name_en: Test}}\nroles:\n  waiver_approver: {value}\n", "utf-8"
        )
        with pytest.raises(LoadError) as info:
            load_pack("base", checks, policies)
        assert info.value.line == 3 and "must name one or more role titles" in info.value.message


def test_without_an_approver_no_waiver_applies(tmp_path: Path) -> None:
    pack, folder = setup(tmp_path)
    object.__setattr__(pack.profile, "roles", {})
    from scanner.engine import evaluate_host
    from scanner.waivers import apply

    from .test_waivers import FAILING

    finding = next(
        f
        for f in apply(
            evaluate_host(pack, HOST, FAILING),
            {HOST.name: HOST},
            load_waivers(folder, pack),
            pack,
            date(2026, 11, 20),
        )
        if f.control_id == "ACC-04"
    )
    assert (
        finding.status is Status.FAIL
        and finding.waiver
        and "names no waiver approver" in finding.waiver.reason
    )


def _register(tmp: Path, header: str, row: str) -> Path:
    path = tmp / "daicho.csv"
    path.write_text(f"{header}\n{row}\n", "utf-8")
    return path


@pytest.mark.parametrize(
    "header", ["管理者パスワード", "Admin Password", "初期PW", "api_token", "root_passwd"]
)
def test_a_register_column_that_holds_credentials(tmp_path: Path, header: str) -> None:
    with pytest.raises(LoadError) as info:
        load(_register(tmp_path, f"ホスト名,ゾーン,役割,{header}", "web01,lgwan,server,hunter2"))
    assert info.value.line == 1 and "looks like a credential" in info.value.message
    assert "hunter2" not in str(info.value)


def test_a_column_about_passwords_is_fine(tmp_path: Path) -> None:
    inv = load(_register(tmp_path, "ホスト名,ゾーン,役割,パスワード有効期限", "web01,lgwan,server,90日"))
    assert inv.hosts[0].vars["register"] == {"パスワード有効期限": "90日"}


@pytest.mark.parametrize(
    "cell",
    [
        "password=hunter2",
        "PW: hunter2",
        "パスワード：hunter2",
        "https://bk:hunter2@backup/",
        "$6$saltsalt$hashhunter2",
    ],
)
def test_a_register_value_that_holds_credentials(tmp_path: Path, cell: str) -> None:
    with pytest.raises(LoadError) as info:
        load(_register(tmp_path, "ホスト名,ゾーン,役割,備考", f"web01,lgwan,server,{cell}"))
    assert info.value.line == 2 and "備考: the value looks like a credential" in info.value.message
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    "vars_",
    [
        "{db: {admin: {password: hunter2}}}",
        "{accounts: [{name: a, passwd: hunter2}]}",
        "{backup: {repository: 'rest:https://bk:hunter2@host/'}}",
        "{notes: [ok, 'password = hunter2']}",
        "{ssh_private_key: x}",
    ],
)
def test_credentials_nested_anywhere_in_vars(tmp_path: Path, vars_: str) -> None:
    err = one_host_error(tmp_path, f"    vars: {vars_}")
    assert err.line == 6 and "looks like a credential" in err.message
    assert "hunter2" not in str(err)


@pytest.mark.parametrize(
    ("column", "cell", "message"),
    [
        ("ゾーン", "マイナンバ利用事務系", "is not a kijun zone"),
        ("ゾーン", "基幹系", "map the register's word in"),
        ("役割", "複合機", "unknown role '複合機'"),
    ],
)
def test_unknown_zones_and_roles_are_errors(tmp_path: Path, column: str, cell: str, message: str) -> None:
    cells = {"ゾーン": "lgwan", "役割": "server", column: cell}
    with pytest.raises(LoadError) as info:
        load(_register(tmp_path, "ホスト名,ゾーン,役割", f"web01,{cells['ゾーン']},{cells['役割']}"))
    assert info.value.line == 2 and message in info.value.message


def test_a_waiver_for_an_undeclared_zone_is_caught_by_lint(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from scanner.cli import main

    ward = Path(__file__).resolve().parents[2] / "inventories" / "example-ward"
    folder = tmp_path / "waivers"
    folder.mkdir()
    (folder / "w.yaml").write_text(
        WAIVER.replace("hosts: [srv-*]", "hosts: {zones: [マイナンバ利用事務系]}").replace(
            "統括情報セキュリティ責任者", "最高情報セキュリティ責任者"
        ),
        "utf-8",
    )
    result = CliRunner().invoke(main, ["lint", str(ward), "--waivers", str(folder)])
    assert result.exit_code == 2 and "w.yaml:3: hosts.zones" in result.output, result.output
