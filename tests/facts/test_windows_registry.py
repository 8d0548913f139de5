"""Parser tests for the Windows registry probes: idle lock, removable storage, logon providers and factors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scanner.facts import windows_registry as wr

OUT = Path(__file__).parent / "outputs" / "windows"
USER = r"HKU\S-1-5-21-1004336348-1177238915-682003330-1141" + wr.DESKTOP
EXAMPLE_VENDOR = "{E7A3C1F0-0000-4000-8000-0000000000FA}"  # made up for the tests, no real product


def load(name: str) -> Any:
    return json.loads((OUT / name).read_text(encoding="utf-8"))


def registry(name: str, **changes: Any) -> dict[str, dict[str, Any] | None]:
    found = load(name)
    found.update({getattr(wr, k): v for k, v in changes.items()})
    return wr.keyed(found)


def test_default_registry_blocks_nothing() -> None:
    usb = wr.usb(registry("registry-win11-default.json"))
    assert usb is not None
    assert usb["storage_blocked"] is False and usb["blocked_by"] == [] and usb["install_restricted"] is False
    assert (usb["usbstor_start"], usb["uaspstor_start"]) == (3, 3)


def test_hardened_registry_blocks_three_ways() -> None:
    usb = wr.usb(registry("registry-ward-hardened.json"))
    assert usb is not None
    assert usb["blocked_by"] == ["usbstor_disabled", "deny_all", "removable_disks_denied"]
    assert usb["deny_device_classes"] == ["{4D36E967-E325-11CE-BFC1-08002BE10318}"]
    assert usb["install_restricted"] is True


def test_usbstor_off_but_uasp_on_is_not_blocked() -> None:
    usb = wr.usb(registry("registry-win11-default.json", USBSTOR={"Start": 4}))
    assert usb is not None and usb["storage_blocked"] is False


def test_write_denied_alone_is_not_blocked() -> None:
    usb = wr.usb(registry("registry-win11-default.json", REMOVABLE_DISKS={"Deny_Write": 1}))
    assert usb is not None and usb["removable_disks_deny_write"] is True and usb["storage_blocked"] is False


def test_disk_class_denial_counts_only_when_retroactive() -> None:
    classes = {"1": "{4d36e967-e325-11ce-bfc1-08002be10318}"}
    plain = wr.usb(
        registry("registry-win11-default.json", RESTRICTIONS={"DenyDeviceClasses": 1}, DENY_CLASSES=classes)
    )
    retro = wr.usb(registry(
        "registry-win11-default.json", RESTRICTIONS={"DenyDeviceClasses": 1, "DenyDeviceClassesRetroactive": 1},
        DENY_CLASSES=classes,
    ))  # fmt: skip
    assert plain is not None and plain["storage_blocked"] is False and plain["install_restricted"] is True
    assert retro is not None and retro["blocked_by"] == ["disk_class_denied"]


def test_class_list_without_the_policy_switch_is_ignored() -> None:
    usb = wr.usb(
        registry("registry-win11-default.json", DENY_CLASSES={"1": "{4d36e967-e325-11ce-bfc1-08002be10318}"})
    )
    assert usb is not None and usb["deny_device_classes"] == []


def test_usb_needs_every_key() -> None:
    found = load("registry-win11-default.json")
    del found[wr.UASPSTOR]
    assert wr.usb(wr.keyed(found)) is None


def test_screenlock_hardened() -> None:
    lock = wr.screenlock(registry("registry-ward-hardened.json"))
    assert lock is not None
    assert lock["inactivity_timeout_seconds"] == 600 and lock["screensaver_lock_seconds"] == 600
    assert lock["idle_lock_seconds"] == 600
    assert lock["screensaver_users"][0]["sid"] == "S-1-5-21-1004336348-1177238915-682003330-1141"


def test_screenlock_default_is_none() -> None:
    lock = wr.screenlock(registry("registry-win11-default.json"))
    assert lock == {
        "inactivity_timeout_seconds": None, "screensaver_users": [
            {"sid": "S-1-5-21-1004336348-1177238915-682003330-1141", "active": False, "secure": False,
             "timeout_seconds": None, "enforced": False},
        ],
        "screensaver_lock_seconds": None, "idle_lock_seconds": None,
    }  # fmt: skip


def test_screensaver_counts_only_when_every_user_has_it() -> None:
    found = load("registry-win11-default.json")
    found[USER] = {"ScreenSaveActive": "1", "ScreenSaverIsSecure": "1", "ScreenSaveTimeOut": "300"}
    lock = wr.screenlock(wr.keyed(found))
    assert lock is not None and lock["idle_lock_seconds"] == 300
    found[USER.replace("-1141", "-1202")] = None  # a second logged-on user without the policy
    lock = wr.screenlock(wr.keyed(found))
    assert lock is not None and lock["idle_lock_seconds"] is None


def test_smaller_of_inactivity_and_screensaver() -> None:
    found = load("registry-ward-hardened.json")
    found[wr.SYSTEM_POLICIES] = {"InactivityTimeoutSecs": 900}
    found[USER] = {"ScreenSaveActive": "1", "ScreenSaverIsSecure": "1", "ScreenSaveTimeOut": "480"}
    lock = wr.screenlock(wr.keyed(found))
    assert lock is not None and lock["idle_lock_seconds"] == 480


def test_non_numeric_registry_value_raises() -> None:
    with pytest.raises(ValueError, match="not a number"):
        wr.screenlock(
            registry("registry-ward-hardened.json", SYSTEM_POLICIES={"InactivityTimeoutSecs": "ten minutes"})
        )


def test_registry_probe_must_be_an_object_of_objects() -> None:
    with pytest.raises(ValueError, match="win-registry"):
        wr.keyed({wr.USBSTOR: 4})


def test_default_logon_is_password_only() -> None:
    stack = wr.logon(registry("registry-win11-default.json"), load("credential-providers-win11.json"))
    assert stack is not None
    logon, mfa = stack
    assert logon["password_provider_usable"] is True and logon["smartcard_required"] is False
    assert mfa == {"factor_categories": ["knowledge"], "password_only_possible": True,
                   "weakest_provider": "password", "unassessed_providers": []}  # fmt: skip
    kinds = {p["name"]: p["kind"] for p in logon["providers"]}
    assert kinds["NGC Credential Provider"] == "hello_pin" and kinds["NPProvider"] == "helper"


def test_smart_card_required() -> None:
    stack = wr.logon(registry("registry-win11-default.json", SYSTEM_POLICIES={"scforceoption": 1}),
                     load("credential-providers-win11.json"))  # fmt: skip
    assert stack is not None
    assert stack[1]["factor_categories"] == ["knowledge", "possession"]
    assert stack[1]["password_only_possible"] is False


def test_hello_with_password_and_picture_excluded() -> None:
    excluded = "{60b78e88-ead8-445c-9cfd-0b87f74ea6cd}, {2135f72a-90b5-4ed3-a7f1-8bb705ac276a}"
    stack = wr.logon(registry("registry-win11-default.json", WINDOWS_SYSTEM={"ExcludedCredentialProviders": excluded},
                              PASSPORT={"Enabled": 1}), load("credential-providers-win11.json"))  # fmt: skip
    assert stack is not None
    logon, mfa = stack
    assert logon["hello_for_business"] is True and logon["password_provider_usable"] is False
    assert logon["excluded_providers"] == ["{2135F72A-90B5-4ED3-A7F1-8BB705AC276A}", wr.PASSWORD_PROVIDER]
    assert mfa["password_only_possible"] is False and len(mfa["factor_categories"]) == 2


def test_picture_password_left_is_a_knowledge_path() -> None:
    stack = wr.logon(
        registry(
            "registry-win11-default.json",
            WINDOWS_SYSTEM={"ExcludedCredentialProviders": wr.PASSWORD_PROVIDER},
        ),
        load("credential-providers-win11.json"),
    )
    assert stack is not None
    assert stack[1] == {"factor_categories": ["knowledge"], "password_only_possible": True,
                        "weakest_provider": "password", "unassessed_providers": []}  # fmt: skip


def test_disabled_password_provider_is_not_usable() -> None:
    providers = load("credential-providers-win11.json")
    for p in providers["providers"]:
        if p["clsid"].upper() in (wr.PASSWORD_PROVIDER, wr.PICTURE_PASSWORD):
            p["disabled"] = 1
    stack = wr.logon(registry("registry-win11-default.json"), providers)
    assert stack is not None and stack[0]["password_provider_usable"] is False
    assert stack[1]["password_only_possible"] is False


def test_vendor_provider_cannot_be_vouched_for() -> None:
    stack = wr.logon(
        registry("registry-ward-hardened.json"), load("credential-providers-vendor-example.json")
    )
    assert stack is not None
    logon, mfa = stack
    assert mfa["unassessed_providers"] == [EXAMPLE_VENDOR]
    assert mfa["factor_categories"] == [] and mfa["weakest_provider"] is None
    assert mfa["password_only_possible"] is False
    assert logon["filters"] == [{"clsid": "{E7A3C1F0-0000-4000-8000-0000000000FB}",
                                 "name": "Example FaceIC Credential Provider Filter (EXAMPLE GUID)"}]  # fmt: skip


def test_logon_needs_the_providers_probe() -> None:
    assert wr.logon(registry("registry-win11-default.json"), None) is None


def test_bad_provider_list_raises() -> None:
    with pytest.raises(ValueError, match="providers must be a list"):
        wr.logon(registry("registry-win11-default.json"), {"providers": [{"clsid": "password"}]})
