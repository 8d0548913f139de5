"""Parsers of the Windows registry probes: idle lock, removable storage, logon providers and the factors they enforce."""

from __future__ import annotations

from typing import Any

from scanner.facts.windows_text import GUID

# Registry keys the collector reads (kijun-collect.ps1 writes them with exactly these names).
USBSTOR = r"HKLM\SYSTEM\CurrentControlSet\Services\USBSTOR"
UASPSTOR = r"HKLM\SYSTEM\CurrentControlSet\Services\UASPStor"
RESTRICTIONS = r"HKLM\SOFTWARE\Policies\Microsoft\Windows\DeviceInstall\Restrictions"
DENY_CLASSES = RESTRICTIONS + r"\DenyDeviceClasses"
REMOVABLE = r"HKLM\SOFTWARE\Policies\Microsoft\Windows\RemovableStorageDevices"
REMOVABLE_DISKS = REMOVABLE + r"\{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}"
SYSTEM_POLICIES = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System"
WINDOWS_SYSTEM = r"HKLM\SOFTWARE\Policies\Microsoft\Windows\System"
PASSPORT = r"HKLM\SOFTWARE\Policies\Microsoft\PassportForWork"
DESKTOP = r"\Software\Policies\Microsoft\Windows\Control Panel\Desktop"  # under HKU\<user SID>
KEYS = (USBSTOR, UASPSTOR, RESTRICTIONS, DENY_CLASSES, REMOVABLE, REMOVABLE_DISKS, SYSTEM_POLICIES,
        WINDOWS_SYSTEM, PASSPORT)  # fmt: skip

# Device setup classes whose denial stops removable disks: disk drives, and all USB devices.
DISK_CLASSES = ("{4D36E967-E325-11CE-BFC1-08002BE10318}", "{36FC9E60-C465-11CF-8056-444553540000}")
PASSWORD_PROVIDER = "{60B78E88-EAD8-445C-9CFD-0B87F74EA6CD}"
PICTURE_PASSWORD = "{2135F72A-90B5-4ED3-A7F1-8BB705AC276A}"
# Microsoft's sign-in providers and the factor categories each demands. Windows Hello keys (PIN,
# face, fingerprint, iris) are bound to the device's TPM: possession plus knowledge or inherence.
SIGN_IN = {
    PASSWORD_PROVIDER: ("password", ("knowledge",)),
    PICTURE_PASSWORD: ("picture_password", ("knowledge",)),
    "{8FD7E19C-3BF7-489B-A72C-846AB3678C96}": ("smartcard", ("knowledge", "possession")),
    "{94596C7E-3744-41CE-893E-BBF09122F76A}": ("smartcard_pin", ("knowledge", "possession")),
    "{1EE7337F-85AC-45E2-A23C-37C753209769}": ("smartcard_winrt", ("knowledge", "possession")),
    "{D6886603-9D2F-4EB2-B667-1971041FA96B}": ("hello_pin", ("knowledge", "possession")),
    "{CB82EA12-9F71-446D-89E1-8D0924E1256E}": ("hello_pin", ("knowledge", "possession")),
    "{BEC09223-B018-416D-A0AC-523971B639F5}": ("hello_biometric", ("possession", "inherence")),
    "{8AF662BF-65A0-4D0A-A540-A338A999D36F}": ("hello_face", ("possession", "inherence")),
    "{C885AA15-1764-4293-B82A-0586ADD46B35}": ("hello_iris", ("possession", "inherence")),
    "{F8A1793B-7873-4046-B2A7-1F318747F427}": ("fido", ("knowledge", "possession")),
}
# Registered by Windows but not a way to sign in on their own (helpers, remote and credential UI).
PLUMBING = {
    "{01A30791-40AE-4653-AB2E-FD210019AE88}",
    "{1B283861-754F-4022-AD47-A5EAAA618894}",
    "{25CBB996-92ED-457E-B28C-4774084BD562}",
    "{27FBDB57-B613-4AF2-9D7E-4FA7A66C21AD}",
    "{3DD6BEC0-8193-4FFE-AE25-E08E39EA4063}",
    "{48B4E58D-2791-456C-9091-D524C6C706F2}",
    "{600E7ADB-DA3E-41A4-9225-3C0399E88C0C}",
    "{A910D941-9DA9-4656-8933-AA1EAE01F76E}",
    "{C5D7540A-CD51-453B-B22B-05305BA03F07}",
    "{E74E57B0-6C6D-44D5-9CDA-FB2DF5ED7435}",
    "{F8A0B131-5F68-486C-8040-7E8FC3C85BB6}",
    "{F64945DF-4FA9-4068-A2FB-61AF319EDD33}",
}
_ORDER = ("knowledge", "possession", "inherence")


def keyed(registry: Any) -> dict[str, dict[str, Any] | None]:
    """Return the win-registry object with upper-case key paths (registry paths ignore case)."""
    if not isinstance(registry, dict) or not all(v is None or isinstance(v, dict) for v in registry.values()):
        raise ValueError("win-registry: expected {key path: {value name: data} or null}")
    return {str(k).upper(): v for k, v in registry.items()}


def _number(values: dict[str, Any] | None, name: str) -> int | None:
    """Return a DWORD (or a REG_SZ holding digits, as the screen-saver policy stores them)."""
    if values is None or values.get(name) is None:
        return None
    value = values[name]
    if (
        isinstance(value, bool)
        or not isinstance(value, int | str)
        or not str(value).strip().lstrip("-").isdigit()
    ):
        raise ValueError(f"registry value {name} = {value!r} is not a number")
    return int(value)


def _collected(reg: dict[str, dict[str, Any] | None], keys: tuple[str, ...]) -> bool:
    return all(k.upper() in reg for k in keys)


def screenlock(reg: dict[str, dict[str, Any] | None]) -> dict[str, Any] | None:
    """Return the machine inactivity limit, each loaded user's screen-saver policy and the enforced idle lock."""
    if not _collected(reg, (SYSTEM_POLICIES,)):
        return None
    inactivity = _number(reg[SYSTEM_POLICIES.upper()], "InactivityTimeoutSecs") or None
    users: list[dict[str, Any]] = []
    for key, values in sorted(reg.items()):
        if key.startswith("HKU\\") and key.endswith(DESKTOP.upper()):
            active, secure = _number(values, "ScreenSaveActive"), _number(values, "ScreenSaverIsSecure")
            timeout = _number(values, "ScreenSaveTimeOut")
            users.append(
                {
                    "sid": key[4 : -len(DESKTOP)],
                    "active": active == 1,
                    "secure": secure == 1,
                    "timeout_seconds": timeout,
                    "enforced": active == 1 and secure == 1 and bool(timeout),
                }
            )
    # Only a policy every loaded user has counts; no user logged on means nothing is known of them.
    saver = max(u["timeout_seconds"] for u in users) if users and all(u["enforced"] for u in users) else None
    enforced = [s for s in (inactivity, saver) if s]
    return {
        "inactivity_timeout_seconds": inactivity,
        "screensaver_users": users,
        "screensaver_lock_seconds": saver,
        "idle_lock_seconds": min(enforced) if enforced else None,
    }


def usb(reg: dict[str, dict[str, Any] | None]) -> dict[str, Any] | None:
    """Return the removable-storage settings and whether removable disks are blocked, and how."""
    if not _collected(reg, (USBSTOR, UASPSTOR, RESTRICTIONS, DENY_CLASSES, REMOVABLE, REMOVABLE_DISKS)):
        return None
    usbstor, uasp = _number(reg[USBSTOR.upper()], "Start"), _number(reg[UASPSTOR.upper()], "Start")
    restrictions, disks = reg[RESTRICTIONS.upper()], reg[REMOVABLE_DISKS.upper()]
    classes_on = _number(restrictions, "DenyDeviceClasses") == 1
    listed = reg[DENY_CLASSES.upper()] or {}
    classes = (
        sorted({str(v).upper() for v in listed.values() if GUID.fullmatch(str(v))}) if classes_on else []
    )
    out: dict[str, Any] = {
        "usbstor_start": usbstor,
        "uaspstor_start": uasp,
        "deny_all": _number(reg[REMOVABLE.upper()], "Deny_All") == 1,
        "removable_disks_deny_read": _number(disks, "Deny_Read") == 1,
        "removable_disks_deny_write": _number(disks, "Deny_Write") == 1,
        "deny_removable_devices": _number(restrictions, "DenyRemovableDevices") == 1,
        "deny_device_classes": classes,
        "deny_device_classes_retroactive": _number(restrictions, "DenyDeviceClassesRetroactive") == 1,
    }
    blocked_by = []
    # USB 3 drives that speak UAS load UASPStor, not USBSTOR: both drivers must be off.
    if usbstor == 4 and uasp in (None, 4):
        blocked_by.append("usbstor_disabled")
    if out["deny_all"]:
        blocked_by.append("deny_all")
    if out["removable_disks_deny_read"] and out["removable_disks_deny_write"]:
        blocked_by.append("removable_disks_denied")
    # Installation restrictions spare devices installed before the policy unless retroactive.
    if out["deny_device_classes_retroactive"] and any(c in classes for c in DISK_CLASSES):
        blocked_by.append("disk_class_denied")
    out["install_restricted"] = out["deny_removable_devices"] or any(c in classes for c in DISK_CLASSES)
    out["blocked_by"] = blocked_by
    out["storage_blocked"] = bool(blocked_by)
    return out


def _providers(value: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(
        isinstance(it, dict) and GUID.fullmatch(str(it.get("clsid", ""))) for it in value
    ):
        raise ValueError(f"win-credential-providers: {what} must be a list of {{clsid, name}}")
    return value


def logon(reg: dict[str, dict[str, Any] | None], found: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Return (logon, mfa) facts: the providers usable at logon and the factors the weakest one demands."""
    if not _collected(reg, (SYSTEM_POLICIES, WINDOWS_SYSTEM, PASSPORT)) or not isinstance(found, dict):
        return None
    policies, system = reg[SYSTEM_POLICIES.upper()], reg[WINDOWS_SYSTEM.upper()]
    excluded_text = str((system or {}).get("ExcludedCredentialProviders") or "")
    excluded = sorted({g.upper() for g in GUID.findall(excluded_text)})
    smartcard = _number(policies, "scforceoption") == 1
    providers: list[dict[str, Any]] = []
    for it in _providers(found.get("providers"), "providers"):
        clsid = str(it["clsid"]).upper()
        kind, categories = SIGN_IN.get(clsid, ("helper", ()) if clsid in PLUMBING else ("other", ()))
        disabled = _number(it, "disabled") == 1
        usable = not disabled and clsid not in excluded
        providers.append(
            {
                "clsid": clsid,
                "name": str(it.get("name") or ""),
                "kind": kind,
                "categories": list(categories),
                "disabled": disabled,
                "excluded": clsid in excluded,
                "usable": usable,
            }
        )
    filters = [{"clsid": str(f["clsid"]).upper(), "name": str(f.get("name") or "")}
               for f in _providers(found.get("filters", []), "filters")]  # fmt: skip
    open_paths = {p["clsid"]: p for p in providers if p["usable"]}
    password_usable = PASSWORD_PROVIDER in open_paths
    # A picture password is a password too; "turn off picture password sign-in" binds domain users
    # only (local accounts keep it), so only excluding or disabling the provider counts.
    knowledge_only = password_usable or PICTURE_PASSWORD in open_paths
    facts = {
        "smartcard_required": smartcard,
        "hello_for_business": _number(reg[PASSPORT.upper()], "Enabled") == 1,
        "excluded_providers": excluded,
        "password_provider_usable": password_usable,
        "providers": providers,
        "filters": filters,
    }
    return facts, _mfa(smartcard, knowledge_only, list(open_paths.values()))


def _mfa(smartcard: bool, knowledge_only: bool, usable: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the categories of the weakest usable sign-in path, and whether a password alone logs on."""
    unassessed = [p["clsid"] for p in usable if p["kind"] == "other"]
    if smartcard:
        # "Require Windows Hello for Business or smart card": every interactive logon needs a key or card.
        weakest, categories = "smartcard_required", ["knowledge", "possession"]
    elif knowledge_only:
        weakest, categories = "password", ["knowledge"]
    elif unassessed or not any(p["categories"] for p in usable):
        # A provider Windows does not ship may accept anything: kijun cannot vouch for its factors.
        weakest, categories = None, []
    else:
        paths = [p for p in usable if p["categories"]]
        first = min(paths, key=lambda p: len(p["categories"]))
        weakest, categories = first["kind"], [c for c in _ORDER if c in first["categories"]]
    return {
        "factor_categories": categories,
        "password_only_possible": knowledge_only and not smartcard,
        "weakest_provider": weakest,
        "unassessed_providers": unassessed,
    }
