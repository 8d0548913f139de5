"""Reading a device's configuration over SSH, against a real OpenSSH server standing in for the device.

The stand-in sshd (loopback only) forces every session through a script that answers only the
vendor's show command, as a read-only device account would, and logs every command it is sent:
kijun must send exactly one, the show command, and judge the configuration it got.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.collect import CollectError, Plan, hostkeys
from scanner.inventory import Host
from scanner.netdev import device
from scanner.netdev import ssh as device_ssh

SSHD = "/usr/sbin/sshd"
CONFIG = (
    Path(__file__).parents[2]
    / "inventories"
    / "example-ward-netdev"
    / "devices"
    / "cat-core-01"
    / "running-config"
)
SHELL = """#!/bin/sh
echo "$SSH_ORIGINAL_COMMAND" >> {dir}/commands.log
case "$SSH_ORIGINAL_COMMAND" in
  "show running-config") cat {dir}/running-config ;;
  *) echo "% Invalid input detected" >&2; exit 1 ;;
esac
"""


def test_show_commands_are_read_only() -> None:
    assert {v: device_ssh.show_command(v) for v in device.PARSERS} == {
        "fortios": "show full-configuration",
        "cisco-ios": "show running-config",
        "cisco-asa": "show running-config",
        "yamaha-rtx": "show config",
    }
    assert all(device_ssh.read_only(c) for c in device_ssh.SHOW.values())
    for bad in ("configure terminal", "show run; conf t", "show run | redirect x", "write memory", ""):
        assert not device_ssh.read_only(bad)
    assert device_ssh.argv("fortios", "10.90.0.1", "ro")[-3:] == [
        "--",
        "10.90.0.1",
        "show full-configuration",
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def fake_device(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Host, Path]]:
    """Start an sshd on loopback whose forced command plays a Catalyst's read-only account."""
    if os.geteuid() != 0 or not Path(SSHD).exists() or shutil.which("ssh-keygen") is None:
        pytest.skip("needs root and openssh-server (Debian package)")
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    tmp_path.chmod(0o755)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "host_key")], check=True
    )
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "client_key")], check=True
    )
    (tmp_path / "authorized_keys").write_text((tmp_path / "client_key.pub").read_text())
    shutil.copy(CONFIG, tmp_path / "running-config")
    shell = tmp_path / "device-shell"
    shell.write_text(SHELL.format(dir=tmp_path))
    shell.chmod(0o755)
    port = _free_port()
    (tmp_path / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {tmp_path}/host_key\nPidFile none\n"
        f"AuthorizedKeysFile {tmp_path}/authorized_keys\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
        f"ForceCommand {shell}\n"
    )
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(tmp_path / "sshd_config")], stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        home = tmp_path / "home"
        (home / ".ssh").mkdir(parents=True)
        key = (tmp_path / "host_key.pub").read_text().split()
        (home / ".ssh" / "known_hosts").write_text(f"[127.0.0.1]:{port} {key[0]} {key[1]}\n")
        monkeypatch.setenv("HOME", str(home))
        for name in ("SSH_AUTH_SOCK", "KIJUN_TOFU", "KIJUN_KNOWN_HOSTS"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setattr(hostkeys, "trust_on_first_use", False)
        host = Host(
            name="cat-core-01",
            zone="mgmt",
            role="network_device",
            os="network",
            address="127.0.0.1",
            port=port,
            user="root",
            identity_file=str(tmp_path / "client_key"),
            vars={"vendor": "cisco-ios"},
        )
        yield host, tmp_path
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_a_device_is_read_with_one_show_command_and_judged(fake_device: tuple[Host, Path]) -> None:
    host, folder = fake_device
    raw = device_ssh.collect(host, Plan(), 30.0)
    assert (folder / "commands.log").read_text() == "show running-config\n"
    item = raw.items[device.SHOW_ITEM]
    assert item.cmd == "show running-config" and item.text == CONFIG.read_text(encoding="utf-8")
    model = device.parse(raw, host)
    assert "MN-PROTECT" in model.rulesets and model.file == "cat-core-01:show running-config"


def test_a_device_that_refuses_the_command_is_an_error_never_a_pass(fake_device: tuple[Host, Path]) -> None:
    host, _ = fake_device
    with pytest.raises(CollectError, match="exited with 1: % Invalid input detected"):
        device_ssh.collect(Host(**{**host.__dict__, "vars": {"vendor": "yamaha-rtx"}}), Plan(), 30.0)
