"""Parser tests for subject 'windows': a whole collector snapshot, return codes, and what is omitted."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.collect.snapshot import load as load_snapshot
from scanner.facts import SUBJECTS, Context, build
from scanner.facts.windows import PROBES, parse
from scanner.inventory import Host, local_host
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "windows"
SNAPSHOT = OUT / "snapshot-mn-term-w01.json"
INV = local_host()
CTX = Context(Host(name="mn-term-w01", zone="mynumber", role="terminal", os="windows"), INV)


def text(name: str) -> str:
    return (OUT / name).read_text(encoding="utf-8")


def test_collector_snapshot_parses_into_every_part() -> None:
    raw = load_snapshot(SNAPSHOT, "mn-term-w01")
    facts = parse(raw, CTX)
    # win-local-admins failed on the host (rc 1): its facts are omitted, the others are there.
    assert sorted(facts) == sorted([
        "os", "password", "accounts", "audit", "time", "defender", "antivirus", "updates", "services", "smartcard",
        "screenlock", "usb", "logon", "mfa",
    ])  # fmt: skip
    assert facts["password"]["min_length"] == 8
    assert facts["audit"]["covers"]["privilege_use"] is True
    assert facts["time"]["source"] == "ntp1.mn.kaku.lg.jp"
    assert facts["antivirus"] == {"running": True, "products": [
        {"name": "Trend Micro Apex One", "enabled": True, "up_to_date": True, "defender": False},
        {"name": "Windows Defender", "enabled": False, "up_to_date": True, "defender": True},
    ]}  # fmt: skip
    assert facts["usb"]["storage_blocked"] is True
    assert facts["screenlock"]["idle_lock_seconds"] == 600
    assert facts["mfa"]["password_only_possible"] is False


def test_snapshot_evidence_names_the_probes() -> None:
    raw = load_snapshot(SNAPSHOT, "mn-term-w01")
    assert SUBJECTS["windows"].evidence(raw) == sorted("probe:" + p for p in PROBES)


def test_nothing_collected() -> None:
    assert parse(build_raw(), CTX) == {}


def test_time_service_stopped_is_an_observation() -> None:
    raw = build_raw(probes={"win-w32tm": {"rc": -2147023834, "stdout": text("w32tm-stopped-ja.txt")}})
    assert parse(raw, CTX) == {"time": {"service_running": False, "synchronized": False}}


def test_other_w32tm_failures_omit_the_time_facts() -> None:
    raw = build_raw(
        probes={
            "win-w32tm": {
                "rc": -2147024891,
                "stdout": "次のエラーが発生しました: アクセスが拒否されました。 (0x80070005)",
            }
        }
    )
    assert parse(raw, CTX) == {}


def test_defender_missing_or_off() -> None:
    missing = build_raw(
        probes={"win-defender": {"rc": 127, "stderr": "The term 'Get-MpComputerStatus' is not recognized"}}
    )
    assert parse(missing, CTX)["defender"] == {"installed": False, "running": False}
    off = build_raw(probes={"win-defender": {"rc": 1, "stderr": "Get-MpComputerStatus : 0x800106ba"}})
    facts = parse(off, CTX)
    assert facts["defender"] == {"installed": True, "running": False}
    assert facts["antivirus"] == {"running": False}


def test_third_party_antivirus_without_defender_probe() -> None:
    facts = parse(build_raw(probes={"win-av-products": text("av-products-apexone.json")}), CTX)
    assert facts["antivirus"]["running"] is True and "defender" not in facts


def test_empty_security_center_list() -> None:
    facts = parse(build_raw(probes={"win-av-products": "[]"}), CTX)
    assert facts["antivirus"] == {"running": False, "products": []}


def test_registry_without_providers_gives_no_logon_facts() -> None:
    facts = parse(build_raw(probes={"win-registry": text("registry-ward-hardened.json")}), CTX)
    assert "usb" in facts and "screenlock" in facts
    assert "logon" not in facts and "mfa" not in facts


def test_malformed_json_raises() -> None:
    with pytest.raises(ValueError, match="win-hotfix: output is not JSON"):
        parse(build_raw(probes={"win-hotfix": "KB5068861 Security Update 10/15/2026"}), CTX)


def test_a_broken_part_makes_the_subject_an_error() -> None:
    raw = build_raw(probes={"win-secedit": "[System Access]\nMinimumPasswordLength = 8\n"})
    facts = build(raw, CTX, ["windows"])
    assert "windows" not in facts.tree
    assert "PasswordComplexity" in facts.errors["windows"]
