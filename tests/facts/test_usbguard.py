"""Parser tests for subject 'usbguard' on the Debian 12 daemon config and generate-policy rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scanner.facts import Context
from scanner.facts.usbguard import parse
from scanner.inventory import local_host
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "usbguard"
UNITS = (Path(__file__).parent / "outputs" / "services" / "systemctl-units.txt").read_text()
INV = local_host()
CTX = Context(INV.hosts[0], INV)
DAEMON = (OUT / "usbguard-daemon.conf").read_text()


def _facts(rules: str | None, daemon: str = DAEMON, **extra: Any) -> dict[str, Any]:
    files = {"/etc/usbguard/usbguard-daemon.conf": daemon, **extra}
    if rules is not None:
        files["/etc/usbguard/rules.conf"] = rules
    return parse(build_raw(files=files, probes={"systemctl-units": UNITS}), CTX)


def test_debian_daemon_conf_with_generated_policy() -> None:
    facts = _facts((OUT / "rules.conf").read_text())
    # usbguard.service is "failed" in the recorded unit list
    assert facts == {"active": False, "installed": True, "implicit_policy": "block", "allows_storage": False}


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ('allow id 0781:5567 serial "4C53" name "Cruzer Blade" with-interface 08:06:50\n', True),
        ("allow with-interface equals { 08:*:* }\n", True),
        ("allow with-interface one-of { 03:*:* 09:00:* }\n", False),
        ("allow with-interface none-of { 08:*:* }\n", False),
        ("allow id 0781:5567\n", True),  # no interface condition: may be a stick
        ("allow\n", True),
        ("block with-interface one-of { 08:*:* }\nallow\n", False),
        ("block with-interface one-of { 08:*:* 06:*:* }\nallow\n", False),
        ("block id 0781:5567 with-interface one-of { 08:*:* }\nallow\n", True),  # blocks one stick only
        ("", False),
    ],
)
def test_storage_rules(rules: str, expected: bool) -> None:
    assert _facts(rules)["allows_storage"] is expected


def test_rules_folder_is_read_after_rule_file() -> None:
    facts = _facts("allow with-interface 03:*:*\n", **{"/etc/usbguard/rules.d/90-any.conf": "allow\n"})
    assert facts["allows_storage"] is True


def test_implicit_allow_allows_storage() -> None:
    facts = _facts("", daemon="ImplicitPolicyTarget=allow\n")
    assert facts["implicit_policy"] == "allow"
    assert facts["allows_storage"] is True


def test_not_installed() -> None:
    raw = build_raw(absent=["/etc/usbguard/usbguard-daemon.conf", "/etc/usbguard/rules.conf"])
    assert parse(raw, CTX) == {"installed": False, "allows_storage": True}


def test_not_collected_is_omitted() -> None:
    assert parse(build_raw(), CTX) == {}


def test_bad_policy_raises() -> None:
    with pytest.raises(ValueError, match="ImplicitPolicyTarget"):
        _facts("", daemon="ImplicitPolicyTarget=maybe\n")
