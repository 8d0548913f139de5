"""The inventories teams already keep: Ansible (INI, YAML, folders) and the CSV 資産管理台帳 (issue 13.4)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.errors import LoadError
from scanner.inventories import kind, load

INI = """\
[web]
web01 ansible_host=10.20.0.11 ansible_user=kijun
web02 ansible_host=10.20.0.12 ansible_port=2222 ansible_password=hunter2

[db]
db01 ansible_host=10.10.0.5 kijun_owner=市民課

[lgwan:children]
web

[mynumber:children]
db

[lgwan:vars]
kijun_zone=lgwan
kijun_role=server

[mynumber:vars]
kijun_zone=mynumber
kijun_role=server
"""
YAML = """\
all:
  vars:
    kijun_profile: base
  children:
    lgwan:
      vars: {kijun_zone: lgwan, kijun_role: terminal, kijun_owner: 情報政策課}
      hosts:
        pc01: {ansible_host: 10.20.1.1}
        pc02:
    mgmt:
      vars: {kijun_zone: mgmt}
      children:
        bastions:
          hosts:
            jump01: {ansible_host: 10.90.0.2, kijun_role: bastion, ansible_become: true}
"""


def write(folder: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, "utf-8")
    return folder


def test_ansible_ini_with_children_and_group_vars(tmp_path: Path) -> None:
    path = write(tmp_path, {"hosts.ini": INI}) / "hosts.ini"
    assert kind(path) == "ansible"
    inv = load(path)
    hosts = {h.name: h for h in inv.hosts}
    assert sorted(hosts) == ["db01", "web01", "web02"]
    web02 = hosts["web02"]
    assert (web02.zone, web02.role, web02.address, web02.port, web02.transport) == (
        "lgwan",
        "server",
        "10.20.0.12",
        2222,
        "ssh",
    )
    assert (
        hosts["web01"].user == "kijun"
        and hosts["db01"].zone == "mynumber"
        and hosts["db01"].owner == "市民課"
    )
    assert web02.labels == {"lgwan": "true", "web": "true"}
    assert "hunter2" not in repr(inv)  # Ansible's other variables (a password here) are never read


def test_ansible_yaml_inventory(tmp_path: Path) -> None:
    path = write(tmp_path, {"inventory.yml": YAML}) / "inventory.yml"
    assert kind(path) == "ansible"
    inv = load(path)
    hosts = {h.name: h for h in inv.hosts}
    assert (hosts["pc02"].zone, hosts["pc02"].role, hosts["pc02"].owner) == (
        "lgwan",
        "terminal",
        "情報政策課",
    )
    assert hosts["jump01"].role == "bastion" and hosts["jump01"].become and hosts["jump01"].zone == "mgmt"
    assert inv.profile == "base" and set(inv.zones) >= {"lgwan", "mgmt", "mynumber"}


def test_ansible_folder_with_group_vars_and_host_vars(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "inv",
        {
            "hosts": "[web]\nweb01 ansible_host=10.20.0.11\nweb02\n",
            "group_vars/web.yml": "kijun_zone: lgwan\nkijun_role: server\nkijun_labels: {tier: front}\n",
            "group_vars/all.yml": "kijun_owner: 情報政策課\n",
            "host_vars/web02.yml": "kijun_role: proxy\nansible_connection: local\n",
        },
    )
    assert kind(folder) == "ansible"
    hosts = {h.name: h for h in load(folder).hosts}
    assert hosts["web02"].role == "proxy" and hosts["web02"].transport == "local"
    assert hosts["web01"].labels == {"web": "true", "tier": "front"} and hosts["web01"].owner == "情報政策課"
    result = CliRunner().invoke(main, ["lint", str(folder)])
    assert result.exit_code == 0 and "2 hosts" in result.output, result.output


@pytest.mark.parametrize(
    ("files", "message", "where"),
    [
        (
            {"hosts": "[web]\nweb01 kijun_zone=lgwn kijun_role=server\n"},
            "zone 'lgwn' is not declared",
            "hosts:2",
        ),
        ({"hosts": "[web]\nweb01 kijun_zone=lgwan kijun_role=kiosk\n"}, "unknown role 'kiosk'", "hosts:2"),
        ({"hosts": "[web]\nweb01 kijun_role=server\n"}, "no zone", "hosts"),
        (
            {"hosts": "[web]\nweb01\n", "group_vars/web.yml": "kijun_zone: '{{ z }}'\n"},
            "is a template",
            "web.yml:1",
        ),
        ({"hosts": "[web\nweb01\n"}, "Ansible:", "hosts"),
        ({"hosts": "[web]\nweb/01 kijun_zone=lgwan kijun_role=server\n"}, "contains '/'", "hosts"),
    ],
)
def test_ansible_errors_name_the_file(
    tmp_path: Path, files: dict[str, str], message: str, where: str
) -> None:
    folder = write(tmp_path / "inv", files)
    with pytest.raises(LoadError) as info:
        load(folder)
    assert message in info.value.message and where in str(info.value), str(info.value)


def test_a_fifo_in_an_ansible_folder_is_refused(tmp_path: Path) -> None:
    import os

    folder = write(tmp_path / "inv", {"hosts": "[web]\nweb01\n"})
    (folder / "group_vars").mkdir()
    os.mkfifo(folder / "group_vars" / "web.yml")
    with pytest.raises(LoadError, match="not a regular file"):
        load(folder)


def test_a_clear_message_without_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ansible.constants", None)
    path = write(tmp_path, {"hosts.ini": INI}) / "hosts.ini"
    with pytest.raises(LoadError) as info:
        load(path)
    assert "pip install 'kijun[ansible]'" in info.value.message


REGISTER = """\
機器名称,ネットワーク,機器種別,OS,所管課
kk-pc-001,基幹系,クライアントPC,Windows 11 Pro,戸籍住民課
kk-ap-001,基幹系,サーバー,Red Hat Enterprise Linux 8,情報政策課
jh-pc-001,情報系,クライアントPC,Windows 10 Enterprise,情報政策課
"""
WORDS = """\
columns: {機器名称: name, ネットワーク: zone, 機器種別: role}
zones: {基幹系: mynumber, 情報系: lgwan}
"""


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932", "utf-16"])
def test_a_register_with_its_own_words_in_any_excel_encoding(tmp_path: Path, encoding: str) -> None:
    text = REGISTER.replace(",", "\t") if encoding == "utf-16" else REGISTER  # Excel's "Unicode text"
    (tmp_path / "daicho.csv").write_bytes(text.encode(encoding))
    (tmp_path / "daicho.map.yaml").write_text(WORDS, "utf-8")
    hosts = {h.name: h for h in load(tmp_path / "daicho.csv").hosts}
    assert (hosts["kk-pc-001"].zone, hosts["kk-pc-001"].role, hosts["kk-pc-001"].os) == (
        "mynumber",
        "terminal",
        "windows",
    )
    assert (hosts["kk-ap-001"].role, hosts["kk-ap-001"].os) == ("server", "linux")
    assert hosts["jh-pc-001"].zone == "lgwan" and hosts["jh-pc-001"].owner == "情報政策課"


def test_without_the_map_a_shorthand_zone_is_a_lint_error(tmp_path: Path) -> None:
    (tmp_path / "daicho.csv").write_text(
        REGISTER.replace("機器名称,ネットワーク,機器種別", "ホスト名,ゾーン,役割"), "utf-8"
    )
    result = CliRunner().invoke(main, ["lint", str(tmp_path / "daicho.csv")])
    assert result.exit_code == 2, result.output
    assert "daicho.csv:2: host kk-pc-001: zone '基幹系' is not a kijun zone" in result.output
    assert "zones: {基幹系: ...}" in result.output


def test_a_map_file_is_checked_too(tmp_path: Path) -> None:
    (tmp_path / "daicho.csv").write_text(REGISTER, "utf-8")
    (tmp_path / "daicho.map.yaml").write_text(WORDS + "roles: {クライアントPC: kiosk}\n", "utf-8")
    with pytest.raises(LoadError) as info:
        load(tmp_path / "daicho.csv")
    assert (
        info.value.path.endswith("daicho.map.yaml")
        and info.value.line == 3
        and "'kiosk'" in info.value.message
    )


def test_kijun_yaml_is_still_kijun_yaml() -> None:
    ward = Path(__file__).resolve().parents[2] / "inventories" / "example-ward"
    assert kind(ward) == "yaml" and kind(ward / "inventory.yaml") == "yaml"
    assert len(load(ward).hosts) == 36
