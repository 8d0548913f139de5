"""Parser tests for the Windows JSON probes: dates, Defender, Security Center, hotfixes, admins, services, OS."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scanner.facts import windows_json as wj

OUT = Path(__file__).parent / "outputs" / "windows"
NOW = datetime.fromisoformat("2026-11-01T09:00:00+09:00")


def load(name: str) -> Any:
    return json.loads((OUT / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-10-31T23:17:45.0000000+09:00", datetime.fromisoformat("2026-10-31T23:17:45+09:00")),
        ("/Date(1761920265000)/", datetime(2025, 10, 31, 14, 17, 45, tzinfo=UTC)),  # Windows PowerShell 5.1
        ("\\/Date(1761920265000)\\/", datetime(2025, 10, 31, 14, 17, 45, tzinfo=UTC)),
        (
            "2026-10-15",
            datetime.fromisoformat("2026-10-15T00:00:00+09:00"),
        ),  # local date: collected_at's offset
        ("10/15/2026", datetime.fromisoformat("2026-10-15T00:00:00+09:00")),  # Win32_QuickFixEngineering
        (None, None),
        ("", None),
    ],
)
def test_dates(value: str | None, expected: datetime | None) -> None:
    assert wj.when(value, NOW) == expected


@pytest.mark.parametrize("value", ["15.10.2026", 1761920265000, "yesterday"])
def test_unreadable_dates_raise(value: object) -> None:
    with pytest.raises(ValueError, match="not a date"):
        wj.when(value, NOW)


def test_defender_active() -> None:
    assert wj.defender(load("defender-active.json"), NOW) == {
        "installed": True, "service_enabled": True, "antivirus_enabled": True, "realtime_enabled": True,
        "tamper_protected": True, "running_mode": "Normal", "signature_version": "1.439.512.0",
        "signature_age_days": 0.404, "running": True,
    }  # fmt: skip


def test_defender_passive_is_not_the_running_antivirus() -> None:
    found = wj.defender(load("defender-passive.json"), NOW)
    assert found["running"] is False and found["running_mode"] == "Passive Mode"
    assert found["signature_age_days"] == pytest.approx(29.2, abs=0.01)


def test_defender_as_plain_powershell51_json() -> None:
    # `Get-MpComputerStatus | ConvertTo-Json` on 5.1 writes /Date(ms)/ and has no AMRunningMode on old builds.
    obj = {"AMServiceEnabled": True, "AntivirusEnabled": True, "RealTimeProtectionEnabled": True,
           "AntivirusSignatureLastUpdated": "/Date(1761920265000)/", "AntivirusSignatureAge": 366}  # fmt: skip
    found = wj.defender(obj, NOW)
    assert found["running"] is True
    assert found["signature_age_days"] == pytest.approx(365.404, abs=0.001)


def test_defender_age_falls_back_to_the_counter() -> None:
    obj = {**load("defender-active.json"), "AntivirusSignatureLastUpdated": None, "AntivirusSignatureAge": 4}
    assert wj.defender(obj, NOW)["signature_age_days"] == 4.0


def test_defender_wrong_types_raise() -> None:
    with pytest.raises(ValueError, match="not true/false"):
        wj.defender({**load("defender-active.json"), "RealTimeProtectionEnabled": "True"}, NOW)
    with pytest.raises(ValueError, match="one JSON object"):
        wj.defender([load("defender-active.json")], NOW)


def test_security_center_products() -> None:
    assert wj.av_products(load("av-products-apexone.json")) == [
        {"name": "Trend Micro Apex One", "enabled": True, "up_to_date": True, "defender": False},
        {"name": "Windows Defender", "enabled": False, "up_to_date": True, "defender": True},
    ]


@pytest.mark.parametrize(
    ("state", "enabled", "current"), [(397568, True, True), (397584, True, False), (262144, False, True)]
)
def test_product_state_bits(state: int, enabled: bool, current: bool) -> None:
    product = wj.av_products({"displayName": "X", "productState": state})[0]
    assert (product["enabled"], product["up_to_date"]) == (enabled, current)


def test_hotfixes() -> None:
    assert wj.hotfixes(load("hotfix-win11.json"), NOW) == {
        "count": 4, "ids": ["KB5065789", "KB5066128", "KB5068861", "KB5068966"],
        "latest_installed": "2026-10-15", "latest_age_days": 17.375,
    }  # fmt: skip


def test_single_hotfix_object_and_none() -> None:
    one = wj.hotfixes({"HotFixID": "KB1", "InstalledOn": "2026-10-01"}, NOW)
    assert one["count"] == 1 and one["latest_installed"] == "2026-10-01"
    assert wj.hotfixes([], NOW) == {"count": 0, "ids": [], "latest_installed": None, "latest_age_days": None}


def test_local_admins() -> None:
    admins = wj.local_admins(load("local-admins-ja.json"))
    assert admins["names"] == ["MN-TERM-W01\\Administrator", "KAKU\\Domain Admins", "KAKU\\kanri-tanmatsu"]
    assert admins["members"][1] == {"name": "KAKU\\Domain Admins", "sid": "S-1-5-21-1004336348-1177238915-682003330-512",
                                    "source": "ActiveDirectory"}  # fmt: skip


def test_services_strings_and_enum_numbers() -> None:
    found = wj.services(load("services-win11.json"))
    assert found["SCardSvr"] == {"status": "Running", "start_type": "Manual", "running": True}
    # Plain ConvertTo-Json on Windows PowerShell 5.1 writes the enums as numbers.
    assert wj.services([{"Name": "W32Time", "Status": 1, "StartType": 4}]) == {
        "W32Time": {"status": "Stopped", "start_type": "Disabled", "running": False}
    }


def test_operating_system() -> None:
    assert wj.operating_system(load("os-win11-ja.json")) == {
        "caption": "Microsoft Windows 11 Enterprise", "version": "10.0.22631", "build": "22631",
        "display_version": "23H2", "domain_joined": True, "domain": "kaku.local",
    }  # fmt: skip


def test_smartcard_readers() -> None:
    assert wj.readers(load("smartcard-readers.json")) == {
        "readers": ["Sony FeliCa Port/PaSoRi 4.0"],
        "reader_present": True,
    }
    assert wj.readers([]) == {"readers": [], "reader_present": False}


def test_list_of_non_objects_raises() -> None:
    with pytest.raises(ValueError, match="list of objects"):
        wj.hotfixes(["KB1"], NOW)
