"""Parser tests for the Windows text outputs: secedit export, auditpol /r and w32tm, English and Japanese."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from scanner.facts.windows_text import audit_policy, password_policy, secedit_sections, time_status

OUT = Path(__file__).parent / "outputs" / "windows"
NOW = datetime.fromisoformat("2026-11-01T09:00:00+09:00")


def text(name: str) -> str:
    return (OUT / name).read_text(encoding="utf-8")


def test_windows11_default_password_policy() -> None:
    password, accounts = password_policy(text("secedit-win11-default.inf"))
    assert password == {
        "min_length": 0, "complexity": False, "min_classes": 0, "expires": True, "max_age_days": 42,
        "lockout_threshold": 10, "lockout_until_unlocked": False, "lockout_duration_seconds": 600, "history_size": 0,
    }  # fmt: skip
    assert accounts == {
        "administrator_enabled": False,
        "guest_enabled": False,
        "administrator_name": "Administrator",
    }


def test_hardened_password_policy() -> None:
    password, _ = password_policy(text("secedit-ward-hardened.inf"))
    assert (password["min_length"], password["min_classes"], password["max_age_days"]) == (8, 3, 90)
    assert (password["lockout_threshold"], password["lockout_duration_seconds"]) == (3, 1800)


def test_never_expiring_passwords_give_no_age() -> None:
    policy = text("secedit-ward-hardened.inf").replace("MaximumPasswordAge = 90", "MaximumPasswordAge = -1")
    password, _ = password_policy(policy)
    # A -1 that reached a "<= 90" comparison would pass; no age is given instead.
    assert password["expires"] is False and password["max_age_days"] is None


def test_lockout_until_an_administrator_unlocks() -> None:
    password, _ = password_policy(
        text("secedit-ward-hardened.inf").replace("LockoutDuration = 30", "LockoutDuration = -1")
    )
    assert password["lockout_until_unlocked"] is True and password["lockout_duration_seconds"] is None


def test_lockout_off_means_no_lock_duration() -> None:
    lines = [
        line
        for line in text("secedit-win11-default.inf")
        .replace("LockoutBadCount = 10", "LockoutBadCount = 0")
        .splitlines()
        if not line.startswith(("LockoutDuration", "ResetLockoutCount"))
    ]
    password, _ = password_policy("\n".join(lines))
    assert password["lockout_threshold"] == 0 and password["lockout_duration_seconds"] == 0


def test_secedit_keeps_registry_values_with_equals_signs() -> None:
    sections = secedit_sections(text("secedit-ward-hardened.inf"))
    key = r"MACHINE\Software\Microsoft\Windows\CurrentVersion\Policies\System\InactivityTimeoutSecs"
    assert sections["Registry Values"][key] == "4,600"
    assert sections["Version"]["signature"] == '"$CHICAGO$"'


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("[Unicode]\nUnicode=yes\n", r"no \[System Access\]"),
        ("[System Access]\nMinimumPasswordLength = 8\n", "has no PasswordComplexity"),
        ("MinimumPasswordLength = 8\n", "unexpected line"),
        (
            text("secedit-win11-default.inf").replace(
                "MinimumPasswordLength = 0", "MinimumPasswordLength = eight"
            ),
            "not a number",
        ),
        (text("secedit-ward-hardened.inf").replace("LockoutDuration = 30\n", ""), "has no LockoutDuration"),
    ],
)
def test_secedit_problems_raise(policy: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        password_policy(policy)


def test_default_audit_policy_english() -> None:
    audit = audit_policy(text("auditpol-win11-default-en.csv"))
    assert len(audit["subcategories"]) == 59
    assert audit["subcategories"]["logon"] == {
        "guid": "{0CCE9215-69AE-11D9-BED3-505054503030}",
        "name": "Logon",
        "success": True,
        "failure": True,
    }
    # Windows 11 audits user account changes on success only and no privilege use at all.
    assert audit["covers"] == {
        "logon": True,
        "account_mgmt": False,
        "privilege_use": False,
        "policy_change": True,
    }


def test_baseline_audit_policy_japanese_by_guid() -> None:
    audit = audit_policy(text("auditpol-ward-ja.csv"))
    assert audit["covers"] == {
        "logon": True,
        "account_mgmt": True,
        "privilege_use": True,
        "policy_change": True,
    }
    assert audit["subcategories"]["sensitive_privilege_use"]["name"] == "重要な特権の使用"
    assert audit["subcategories"]["account_lockout"] == {
        "guid": "{0CCE9217-69AE-11D9-BED3-505054503030}",
        "name": "アカウント ロックアウト",
        "success": False,
        "failure": True,
    }


def test_audit_failure_missing_on_sensitive_privilege_use() -> None:
    csv = text("auditpol-ward-ja.csv").replace(
        "重要な特権の使用,{0CCE9228-69AE-11D9-BED3-505054503030},成功および失敗",
        "重要な特権の使用,{0CCE9228-69AE-11D9-BED3-505054503030},成功",
    )
    assert audit_policy(csv)["covers"]["privilege_use"] is False


def test_setting_value_column_wins_over_the_text() -> None:
    # auditpol /backup style rows carry a numeric Setting Value, which does not depend on the language.
    csv = text("auditpol-win11-default-en.csv").replace(
        "Sensitive Privilege Use,{0CCE9228-69AE-11D9-BED3-505054503030},No Auditing,",
        "Sensitive Privilege Use,{0CCE9228-69AE-11D9-BED3-505054503030},Erfolg und Fehler,,3",
    )
    assert audit_policy(csv)["subcategories"]["sensitive_privilege_use"]["failure"] is True


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("", "no header"),
        ("PC,System,Logon,{0CCE9215-69AE-11D9-BED3-505054503030},Success,\n", "no header"),
        (
            text("auditpol-win11-default-en.csv").replace(",Success and Failure,", ",Erfolg und Fehler,"),
            "unknown setting",
        ),
        (
            text("auditpol-win11-default-en.csv").replace(
                "{0CCE9228-69AE-11D9-BED3-505054503030}", "0CCE9228"
            ),
            "unexpected line",
        ),
        (
            "\n".join(line for line in text("auditpol-ward-ja.csv").splitlines() if "0CCE922F" not in line),
            "audit_policy_change is not listed",
        ),
    ],
)
def test_auditpol_problems_raise(csv: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        audit_policy(csv)


def test_w32tm_verbose_english() -> None:
    assert time_status(text("w32tm-verbose-en.txt"), NOW) == {
        "service_running": True, "source": "DC01.kaku.local", "stratum": 4, "last_sync_age_hours": 0.315,
        "offset_ms": 0.198, "last_sync_error": 0, "synchronized": True,
    }  # fmt: skip


def test_w32tm_verbose_japanese_strips_peer_flags() -> None:
    status = time_status(text("w32tm-verbose-ja.txt"), NOW)
    assert status["source"] == "ntp1.mn.kaku.lg.jp"
    assert (status["stratum"], status["offset_ms"], status["synchronized"]) == (3, 0.431, True)


def test_w32tm_japanese_without_verbose_reads_the_sync_date() -> None:
    # The recorded server last synchronised on 2022/01/10 1:45:54, local time.
    status = time_status(text("w32tm-status-ja.txt"), datetime.fromisoformat("2022-01-10T09:45:54+09:00"))
    assert status["source"] == "10.30.0.3"
    assert status["last_sync_age_hours"] == 8.0
    assert "offset_ms" not in status


def test_w32tm_english_date_fallback() -> None:
    plain = "\n".join(
        line for line in text("w32tm-verbose-en.txt").splitlines() if not line.startswith("Time since")
    )
    assert time_status(plain, NOW)["last_sync_age_hours"] == pytest.approx(0.315, abs=0.001)


def test_w32tm_japanese_local_clock_is_not_synchronised() -> None:
    status = time_status(text("w32tm-verbose-ja-unsynced.txt"), NOW)
    assert status["source"] == "Local CMOS Clock"
    assert status["last_sync_age_hours"] is None and status["synchronized"] is False
    assert status["last_sync_error"] == 1


def test_w32tm_unknown_date_format_raises() -> None:
    plain = "Source: ntp1\nLast Successful Sync Time: 01.11.2026 08:41:07\n"
    with pytest.raises(ValueError, match="cannot read the last sync time"):
        time_status(plain, NOW)


def test_w32tm_without_source_raises() -> None:
    with pytest.raises(ValueError, match="no Source"):
        time_status("The following error occurred: Access is denied. (0x80070005)\n", NOW)
