"""Parser tests for subject 'packages' on this machine's os-release and apt-get -s dist-upgrade."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.facts import Context
from scanner.facts.packages import parse
from scanner.inventory import local_host
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "packages"
INV = local_host()
CTX = Context(INV.hosts[0], INV)
OS_RELEASE = (OUT / "os-release").read_text()
APT = (OUT / "apt-upgradable.txt").read_text()


def test_this_machine() -> None:
    raw = build_raw(
        collected_at="2026-11-21T14:00:00+09:00",
        files={"/etc/os-release": OS_RELEASE},
        probes={"apt-upgradable": APT},
    )
    facts = parse(raw, CTX)
    assert facts["os_id"] == "debian"
    assert facts["os_version"] == "12"
    assert facts["os_eol"] is False
    assert facts["pending_updates"] == 134  # "134 upgraded" in the summary line
    assert facts["pending_security"] == 81
    assert facts["pending_security_list"][:3] == ["apt", "apt-transport-https", "ca-certificates"]
    assert "libssl3" in facts["pending_security_list"]
    assert "bash" not in facts["pending_security_list"]  # plain oldstable update


@pytest.mark.parametrize(
    ("os_id", "version", "collected", "eol"),
    [
        ("debian", "11", "2026-08-31T23:00:00+09:00", False),
        ("debian", "11", "2026-09-01T00:00:00+09:00", True),
        ("debian", "10", "2025-01-01T00:00:00+09:00", True),
        ("ubuntu", "22.04", "2027-05-01T00:00:00+09:00", True),
        ("ubuntu", "24.04", "2027-05-01T00:00:00+09:00", False),
        ("rocky", "8.9", "2029-06-01T00:00:00+09:00", True),
        ("almalinux", "9.4", "2029-06-01T00:00:00+09:00", False),
        ("rhel", "9.3", "2032-06-01T00:00:00+09:00", True),
    ],
)
def test_eol_table(os_id: str, version: str, collected: str, eol: bool) -> None:
    raw = build_raw(
        collected_at=collected, files={"/etc/os-release": f'ID={os_id}\nVERSION_ID="{version}"\n'}
    )
    assert parse(raw, CTX)["os_eol"] is eol


@pytest.mark.parametrize(
    "release", ['ID=ubuntu\nVERSION_ID="23.10"\n', "ID=debian\n", "ID=gentoo\nVERSION_ID=2.15\n"]
)
def test_unknown_release_has_no_eol(release: str) -> None:
    facts = parse(build_raw(files={"/etc/os-release": release}), CTX)
    assert "os_eol" not in facts


def test_new_package_and_no_updates() -> None:
    apt = "Inst linux-image-6.1.0-28-amd64 (6.1.119-1 Debian-Security:12/stable-security [amd64])\n"
    facts = parse(build_raw(probes={"apt-upgradable": apt}), CTX)
    assert facts == {
        "pending_updates": 1,
        "pending_security": 1,
        "pending_security_list": ["linux-image-6.1.0-28-amd64"],
    }
    empty = "Reading package lists...\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n"
    assert parse(build_raw(probes={"apt-upgradable": empty}), CTX)["pending_updates"] == 0


def test_not_debian_or_not_collected() -> None:
    rhel = build_raw(
        files={"/etc/os-release": 'ID="rhel"\nVERSION_ID="9.3"\n'},
        probes={"apt-upgradable": {"stdout": "", "rc": 127}},
    )
    assert parse(rhel, CTX) == {"os_id": "rhel", "os_version": "9.3", "os_eol": False}
    assert parse(build_raw(), CTX) == {}


def test_bad_input_raises() -> None:
    with pytest.raises(ValueError, match="ID"):
        parse(build_raw(files={"/etc/os-release": "NAME=x\n"}), CTX)
    with pytest.raises(ValueError, match="apt-get"):
        parse(build_raw(probes={"apt-upgradable": "Inst broken line\n"}), CTX)
