"""Facts of subject 'usbguard': whether USBGuard runs and whether its policy lets USB mass storage in."""

from __future__ import annotations

import re
from typing import Any

from scanner.facts import Context, Subject, lines
from scanner.facts.services import any_active
from scanner.rawfacts import RawFacts

_DAEMON_CONF = "/etc/usbguard/usbguard-daemon.conf"
_RULES = "/etc/usbguard/rules.conf"
_RULES_D = "/etc/usbguard/rules.d/*"
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}]|[^\s{}]+')
_TARGETS = ("allow", "block", "reject")
_SET_OPERATORS = ("all-of", "one-of", "none-of", "equals", "equals-ordered", "match-all")
_MASS_STORAGE = "08"  # USB interface class 08 = mass storage


def _interfaces(tokens: list[str]) -> tuple[str, list[str]] | None:
    """Return (set operator, interface patterns) of a rule's with-interface, None when absent."""
    if "with-interface" not in tokens:
        return None
    rest = tokens[tokens.index("with-interface") + 1 :]
    operator = "equals"
    if rest and rest[0] in _SET_OPERATORS:
        operator, rest = rest[0], rest[1:]
    if not rest:
        raise ValueError("usbguard rule: with-interface without a value")
    if rest[0] != "{":
        return operator, [rest[0]]
    if "}" not in rest:
        raise ValueError("usbguard rule: unclosed { in with-interface")
    return operator, rest[1 : rest.index("}")]


def _blocks_all_storage(tokens: list[str]) -> bool:
    """Return whether a block/reject rule catches every device with a mass-storage interface."""
    found = _interfaces(tokens)
    # Only "with-interface one-of { 08:*:* }" and nothing else matches every storage device.
    return (
        found is not None
        and found[0] == "one-of"
        and "08:*:*" in found[1]
        and len(tokens) == len(found[1]) + 5
    )


def _allows_storage(tokens: list[str]) -> bool:
    """Return whether an allow rule may let a mass-storage device in."""
    found = _interfaces(tokens)
    if found is None:
        # Without an interface condition the rule may match a storage device: assume it does.
        return True
    operator, patterns = found
    if operator == "none-of":
        return False
    return any(p.split(":")[0] in (_MASS_STORAGE, "*") for p in patterns)


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return ``installed, active, implicit_policy, allows_storage``."""
    conf = raw.file(_DAEMON_CONF)
    out: dict[str, Any] = {}
    active = any_active(raw, "usbguard.service")
    if active is not None:
        out["active"] = active
    if conf is None:
        return out
    out["installed"] = conf.exists
    if not conf.exists:
        out["allows_storage"] = True  # nothing stops a USB stick
        return out
    settings = dict(line.split("=", 1) for line in lines(conf) if "=" in line)
    policy = settings.get("ImplicitPolicyTarget", "block").strip()
    if policy not in _TARGETS:
        raise ValueError(f"{_DAEMON_CONF}: unknown ImplicitPolicyTarget {policy!r}")
    out["implicit_policy"] = policy
    rules = raw.file(_RULES)
    if rules is None:
        return out
    # RuleFile first, then RuleFolder's *.conf in name order; the first matching rule applies,
    # then the implicit policy.
    folder = [it for it in raw.glob(_RULES_D) if (it.path or "").endswith(".conf")]
    allows: bool | None = None
    for line in [line for item in (rules, *folder) for line in lines(item)]:
        tokens = _TOKEN.findall(line)
        if tokens[0] not in _TARGETS:
            raise ValueError(f"{_RULES}: unknown rule target in {line!r}")
        if allows is None and tokens[0] == "allow" and _allows_storage(tokens):
            allows = True
        elif allows is None and tokens[0] != "allow" and _blocks_all_storage(tokens):
            allows = False
    out["allows_storage"] = allows if allows is not None else policy == "allow"
    return out


SUBJECT = Subject(
    name="usbguard",
    parse=parse,
    files=(_RULES, _RULES_D, _DAEMON_CONF),
    probes=("systemctl-units",),
)
