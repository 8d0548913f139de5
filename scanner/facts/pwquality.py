"""Facts of subject 'pwquality': the password quality rules pam_pwquality enforces (conf files, then PAM arguments)."""

from __future__ import annotations

from typing import Any

from scanner.facts import Context, Subject
from scanner.facts.pam import MODULE_DIRS, installed_modules, pwquality_lines
from scanner.facts.pam_conf import module_conf, stack
from scanner.rawfacts import RawFacts

CONF = "/etc/security/pwquality.conf"
CONF_DIR = "/etc/security/pwquality.conf.d"
PAM_FILES = ("/etc/pam.d/common-password", "/etc/pam.d/system-auth", "/etc/pam.d/password-auth")
# libpwquality 1.4 defaults.
_DEFAULTS: dict[str, Any] = {
    "minlen": 8,
    "minclass": 0,
    "dcredit": 0,
    "ucredit": 0,
    "lcredit": 0,
    "ocredit": 0,
    "retry": 1,
    "enforcing": 1,
}
_INTS = {
    "difok",
    "minlen",
    "dcredit",
    "ucredit",
    "lcredit",
    "ocredit",
    "minclass",
    "maxrepeat",
    "maxclassrepeat",
    "maxsequence",
    "gecoscheck",
    "dictcheck",
    "usercheck",
    "usersubstr",
    "enforcing",
    "retry",
}
_FLAGS = {"enforce_for_root", "local_users_only"}
# pam_pwquality handles these arguments itself; the rest go to libpwquality.
_MODULE_ARGS = (
    "debug",
    "type=",
    "difignore=",
    "reject_username",
    "authtok_type",
    "use_authtok",
    "use_first_pass",
    "try_first_pass",
)
_CREDITS = ("dcredit", "ucredit", "lcredit", "ocredit")


def _set(settings: dict[str, Any], name: str, value: str) -> None:
    """Apply one setting as pwquality_set_option() does (minlen at least 6, minclass at most 4)."""
    name = name.lower()
    if name in _FLAGS:
        settings[name] = True
    elif name in _INTS:
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"pwquality: {name} is not an integer: {value!r}") from None
        if name == "minlen":
            number = max(number, 6)
        elif name == "minclass":
            number = min(number, 4)
        settings[name] = number
    else:
        settings[name] = value


def _from_conf(raw: RawFacts) -> dict[str, Any]:
    """Return the settings of pwquality.conf.d/*.conf then pwquality.conf (the later wins)."""
    settings = dict(_DEFAULTS)
    dropins = [it for it in raw.glob(CONF_DIR + "/*") if (it.path or "").endswith(".conf")]
    conf = raw.file(CONF)
    for item in [*dropins, *([conf] if conf is not None and conf.exists else [])]:
        for name, value in module_conf(item.text):
            _set(settings, name, value)
    return settings


def _with_args(base: dict[str, Any], args: tuple[str, ...]) -> dict[str, Any]:
    """Apply a pam_pwquality line's arguments over the config file settings."""
    settings = dict(base)
    for arg in args:
        if arg.startswith("retry="):
            settings["retry"] = int(arg[6:]) if arg[6:].isdigit() and int(arg[6:]) >= 1 else 1
        elif not arg.startswith(_MODULE_ARGS):
            name, _, value = arg.partition("=")
            _set(settings, name, value)
    return settings


def _facts(settings: dict[str, Any]) -> dict[str, Any]:
    out = {k: settings[k] for k in ("minlen", "minclass", *_CREDITS, "retry")}
    out["min_classes"] = max(settings["minclass"], sum(1 for k in _CREDITS if settings[k] < 0))
    return out


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return the effective pwquality rules: the weakest over the PAM files that call the module."""
    pam_items = [raw.file(p) for p in PAM_FILES]
    if raw.file(CONF) is None or all(it is None for it in pam_items):
        return {}
    base = _from_conf(raw)
    # Only the quality lines of stacks where the interpreter finds no way around them count.
    lines = [
        line
        for path, item in zip(PAM_FILES, pam_items, strict=True)
        if item is not None and item.exists
        for found, enforced in [pwquality_lines(stack(raw, path, "password"), installed_modules(raw))]
        if enforced
        for line in found
        if line.module == "pam_pwquality"
    ]
    effective = [_with_args(base, line.args) for line in lines]
    # enforcing=0 only warns: the module is there but enforces nothing.
    enforced = [s for s in effective if s["enforcing"] != 0]
    if not enforced:
        return {"enabled": False, **_facts(base)}
    each = [_facts(s) for s in enforced]
    weakest = {k: min(f[k] for f in each) for k in ("minlen", "minclass", "min_classes")}
    weakest |= {k: max(f[k] for f in each) for k in _CREDITS}
    return {"enabled": True, **each[0], **weakest}


SUBJECT = Subject(name="pwquality", parse=parse, files=(CONF, CONF_DIR + "/*", *PAM_FILES), stats=MODULE_DIRS)
