"""Tests of declared facts (subject 'declared') and the asset-register CSV loader that declares them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from scanner.errors import LoadError
from scanner.facts import Context
from scanner.facts.declared import parse
from scanner.inventories import load
from scanner.inventory import Host, local_host
from scanner.inventory_csv import load_csv, method
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "windows"
REGISTER = OUT / "kaku-tanmatsu-daicho.csv"
INV = local_host()


def declared(vars_: dict[str, Any]) -> dict[str, Any]:
    host = Host(name="mn-term-w01", zone="mynumber", role="terminal", os="windows", vars=vars_)
    return parse(build_raw(), Context(host, INV))


def test_nothing_declared() -> None:
    assert declared({}) == {}


def test_example_ward_declaration() -> None:
    # inventories/example-ward declares methods and categories for its My Number terminals.
    found = declared({"auth": {"methods": ["face", "ic_card"], "factors": ["inherence", "possession"]}})
    assert found == {
        "auth_methods": ["face", "ic_card"],
        "auth_factors": ["possession", "inherence"],
        "source": "inventory",
    }


def test_japanese_methods_and_register_source() -> None:
    found = declared(
        {
            "auth": {
                "methods": ["指静脈", "ＩＣカード", "パスワード"],
                "source": "asset register",
                "reference": "a.csv:4",
            }
        }
    )
    assert found["auth_methods"] == ["finger_vein", "ic_card", "password"]
    assert found["auth_factors"] == ["knowledge", "possession", "inherence"]
    assert (found["source"], found["reference"]) == ("asset register", "a.csv:4")


def test_categories_alone() -> None:
    assert declared({"auth": {"factors": ["possession", "knowledge"]}})["auth_factors"] == [
        "knowledge",
        "possession",
    ]


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        ({"methods": ["face"], "factors": ["inherence", "possession"]}, "do not match|give"),
        ({"methods": ["retina-scan"]}, "unknown authentication method"),
        ({"factors": ["something-you-are"]}, "unknown categories"),
        ("face+ic_card", "must be a mapping"),
        ({"methods": [1, 2]}, "list of names"),
    ],
)
def test_bad_declarations_raise(auth: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        declared({"auth": auth})


def test_method_names() -> None:
    assert [method(m) for m in ("Face", "IC-Card", "顔認証", "職員証", "PIN", "Security Key")] == [
        "face",
        "ic_card",
        "face",
        "ic_card",
        "pin",
        "security_key",
    ]


def test_register_loads_as_an_inventory() -> None:
    inv = load(REGISTER)  # scanner.inventories picks the CSV format from the suffix
    assert [h.name for h in inv.hosts] == ["mn-term-w01", "mn-term-w02", "lg-term-w01", "mn-term-10"]
    first = inv.hosts[0]
    assert (first.zone, first.role, first.os, first.owner, first.site) == (
        "mynumber",
        "terminal",
        "windows",
        "戸籍住民課",
        "honcho",
    )
    assert first.transport == "snapshot" and first.snapshot == str(
        (OUT / "exports" / "mn-term-w01.json").resolve()
    )
    assert first.vars["auth"] == {"methods": ["face", "ic_card"], "source": "asset register",
                                  "reference": "kaku-tanmatsu-daicho.csv:2"}  # fmt: skip
    assert first.vars["register"] == {"資産番号": "T-2024-0101", "機種": "FMV-D7512", "備考": "住民記録窓口"}
    assert inv.hosts[3].vars["auth"]["methods"] == ["finger_vein", "ic_card"]
    assert inv.hosts[3].transport == "ssh"
    assert sorted(inv.zones) == ["lgwan", "mynumber"] and inv.zones["lgwan"].label_ja == "LGWAN接続系"
    assert inv.sites["shisho-kita"].kind == "office"


def test_register_feeds_the_declared_facts() -> None:
    inv = load_csv(REGISTER)
    found = parse(build_raw(), Context(inv.hosts[2], inv))
    assert found == {"auth_methods": ["password"], "auth_factors": ["knowledge"], "source": "asset register",
                     "reference": "kaku-tanmatsu-daicho.csv:4"}  # fmt: skip


def test_register_in_shift_jis(tmp_path: Path) -> None:
    path = tmp_path / "daicho.csv"
    path.write_bytes(REGISTER.read_text(encoding="utf-8").encode("cp932"))
    assert load_csv(path).hosts[0].vars["auth"]["methods"] == ["face", "ic_card"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "register.csv"
    path.write_text(text, encoding="utf-8")
    return path


HEADER = "ホスト名,ゾーン,役割,認証要素\n"


@pytest.mark.parametrize(
    ("rows", "line", "message"),
    [
        ("t1,mynumber,terminal,顔認証+網膜\n", 2, "unknown authentication method '網膜'"),
        ("t1,mynumber,kiosk,face\n", 2, "unknown role 'kiosk'"),
        (
            "t1,mynumber,terminal,face\nt1,lgwan,terminal,password\n",
            3,
            "duplicate host name 't1' (first at line 2)",
        ),
        ("t1,mynumber,terminal,face\n,lgwan,terminal,password\n", 3, "row has no name"),
    ],
)
def test_register_errors_say_file_and_line(tmp_path: Path, rows: str, line: int, message: str) -> None:
    path = write(tmp_path, HEADER + rows)
    with pytest.raises(LoadError) as err:
        load_csv(path)
    assert err.value.line == line and message in err.value.message
    assert str(err.value).startswith(f"{path}:{line}: ")


def test_quoted_cells_keep_their_line_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, 'name,zone,role,備考\nt1,lgwan,terminal,"二行の\n備考"\nt2,lgwan,kiosk,\n')
    with pytest.raises(LoadError) as err:
        load_csv(path)
    assert err.value.line == 4
    inv = load_csv(write(tmp_path, 'name,zone,role,備考,factors\nt1,lgwan,terminal,"二行の\n備考",face\n'))
    assert inv.hosts[0].vars["auth"]["reference"] == "register.csv:2" and inv.hosts[0].line == 2


def test_register_needs_name_zone_role(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=r"register.csv:1: the register needs the column\(s\) role"):
        load_csv(write(tmp_path, "name,zone\nt1,lgwan\n"))


def test_register_refuses_a_password_column(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="looks like a credential"):
        load_csv(write(tmp_path, "name,zone,role,初期パスワード\nt1,lgwan,terminal,Kaku2024!\n"))
    # A column about passwords that holds no credential is kept.
    inv = load_csv(write(tmp_path, "name,zone,role,パスワード有効期限\nt1,lgwan,terminal,2027-03-31\n"))
    assert inv.hosts[0].vars["register"] == {"パスワード有効期限": "2027-03-31"}


def test_conflicting_site_kinds(tmp_path: Path) -> None:
    path = write(
        tmp_path, "name,zone,role,site,site_kind\na,lgwan,server,dc1,external_dc\nb,lgwan,server,dc1,office\n"
    )
    with pytest.raises(LoadError, match=r"register\.csv:3: site 'dc1' is of kind external_dc, not office"):
        load_csv(path)


def test_waivers_beside_the_register(tmp_path: Path) -> None:
    shutil.copy(REGISTER, tmp_path / "daicho.csv")
    (tmp_path / "waivers").mkdir()
    assert load_csv(tmp_path / "daicho.csv").waivers_dir == tmp_path / "waivers"
