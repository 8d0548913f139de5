"""Parser tests for subject 'services' on systemctl list-units / list-unit-files output (systemd 252)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.facts import Context
from scanner.facts.services import any_active, parse, probe_text
from scanner.inventory import local_host
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "services"
INV = local_host()
CTX = Context(INV.hosts[0], INV)
UNITS = (OUT / "systemctl-units.txt").read_text()
FILES = (OUT / "systemctl-unit-files.txt").read_text()


def test_units_and_unit_files() -> None:
    facts = parse(build_raw(probes={"systemctl-units": UNITS, "systemctl-unit-files": FILES}), CTX)
    assert facts["ssh"] == {"active": True, "sub": "running", "enabled": True}
    assert facts["apt-daily"] == {"active": False, "sub": "dead", "enabled": None}  # static
    assert facts["usbguard"] == {"active": False, "sub": "failed", "enabled": True}
    assert facts["networking"] == {"active": True, "sub": "exited", "enabled": True}
    assert facts["ntp"] == {"active": False, "sub": "dead", "enabled": None}  # not-found
    assert facts["getty@tty1"]["active"] is True
    # installed but not loaded: only in list-unit-files
    assert facts["rsync"] == {"active": False, "sub": "dead", "enabled": False}
    assert facts["sshd"]["enabled"] is None  # alias
    assert "getty@" not in facts and "serial-getty@" not in facts  # templates
    assert not any(name.endswith(".timer") for name in facts)


def test_without_unit_files_enabled_is_unknown() -> None:
    facts = parse(build_raw(probes={"systemctl-units": UNITS}), CTX)
    assert facts["ssh"] == {"active": True, "sub": "running", "enabled": None}
    assert "rsync" not in facts


def test_failed_or_missing_probe_gives_no_facts() -> None:
    stderr = (OUT / "systemctl-failed.stderr").read_text()
    failed = build_raw(
        probes={"systemctl-units": {"stdout": "", "rc": 1, "stderr": stderr}, "systemctl-unit-files": FILES}
    )
    assert parse(failed, CTX) == {}
    assert any_active(failed, "ssh.service") is None
    assert probe_text(failed, "systemctl-units") is None
    assert parse(build_raw(), CTX) == {}


def test_bullets_are_tolerated_and_truncated_lines_raise() -> None:
    raw = build_raw(probes={"systemctl-units": "● ntp.service not-found inactive dead ntp.service\n"})
    assert parse(raw, CTX)["ntp"]["active"] is False
    with pytest.raises(ValueError, match="list-units"):
        parse(build_raw(probes={"systemctl-units": "ssh.service loaded\n"}), CTX)


def test_any_active() -> None:
    raw = build_raw(probes={"systemctl-units": UNITS})
    assert any_active(raw, "clamav-daemon.service", "nope.service") is True
    assert any_active(raw, "usbguard.service") is False
