"""Facts of subject 'faillock': the account lockout pam_faillock enforces (faillock.conf, then PAM arguments)."""

from __future__ import annotations

from typing import Any

from scanner.facts import Context, Subject
from scanner.facts.pam import MODULE_DIRS, faillock_enabled, installed_modules
from scanner.facts.pam_conf import Handler, module_conf, stack
from scanner.rawfacts import RawFacts

CONF = "/etc/security/faillock.conf"
PAM_FILES = ("/etc/pam.d/common-auth", "/etc/pam.d/system-auth", "/etc/pam.d/password-auth")
_DEFAULTS: dict[str, Any] = {"deny": 3, "unlock_time": 600, "even_deny_root": False}
_MODES = ("preauth", "authfail", "authsucc")


def _set(settings: dict[str, Any], name: str, value: str) -> None:
    """Apply one option as pam_faillock's set_conf_opt() does ("never" unlocks never: 0)."""
    if name == "deny" or name == "unlock_time":
        if name == "unlock_time" and value == "never":
            settings[name] = 0
        elif value.isdigit():
            settings[name] = int(value)
        else:
            raise ValueError(f"faillock: bad number for {name}: {value!r}")
    elif name in ("even_deny_root", "root_unlock_time"):
        settings["even_deny_root"] = True  # root_unlock_time implies even_deny_root


def _conf(raw: RawFacts, path: str) -> dict[str, Any]:
    """Return the settings of one faillock config file over the defaults."""
    settings = dict(_DEFAULTS)
    item = raw.file(path)
    if item is None:
        raise ValueError(f"faillock config {path} was not collected")
    if item.exists:
        for name, value in module_conf(item.text):
            _set(settings, name, value)
    elif path != CONF:  # pam_faillock fails when a conf= file is missing
        raise ValueError(f"faillock config {path} does not exist")
    return settings


def _effective(raw: RawFacts, line: Handler) -> dict[str, Any]:
    """Return the settings one pam_faillock line runs with."""
    conf = next((a.removeprefix("conf=") for a in line.args if a.startswith("conf=")), CONF)
    settings = _conf(raw, conf)
    for arg in line.args:
        if arg not in _MODES:
            name, _, value = arg.partition("=")
            _set(settings, name, value)
    return settings


def _weakest(each: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the weakest of several settings (deny 0 never locks; unlock_time 0 never unlocks)."""
    denies = [s["deny"] for s in each]
    unlocks = [s["unlock_time"] for s in each if s["unlock_time"] > 0]
    return {
        "deny": 0 if 0 in denies else max(denies),
        "unlock_time": min(unlocks) if unlocks else 0,
        "even_deny_root": all(s["even_deny_root"] for s in each),
    }


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return the lockout settings, the weakest over the PAM files whose auth stack runs pam_faillock."""
    pam_items = [raw.file(p) for p in PAM_FILES]
    if raw.file(CONF) is None or all(it is None for it in pam_items):
        return {}
    stacks = [
        stack(raw, path, "auth")
        for path, item in zip(PAM_FILES, pam_items, strict=True)
        if item is not None and item.exists
    ]
    installed = installed_modules(raw)
    enabled = [stack for stack in stacks if faillock_enabled(stack, installed)]
    if not enabled:
        return {"enabled": False, **_conf(raw, CONF)}
    each = [
        _effective(raw, line)
        for stack in enabled
        for line in stack
        if line.kind == "module"
        and line.module == "pam_faillock"
        and {"preauth", "authfail"} & set(line.args)
    ]
    settings = _weakest(each)
    return {"enabled": settings["deny"] > 0, **settings}


SUBJECT = Subject(name="faillock", parse=parse, files=(CONF, *PAM_FILES), stats=MODULE_DIRS)
