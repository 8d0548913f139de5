"""The scanner's own time-sync state: parsed from real chronyc output, and never "synchronized" on doubt."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner import timesync

OUT = Path(__file__).parent / "outputs" / "timesync"


def read(name: str) -> str:
    return (OUT / name).read_text("utf-8")


def runner(answers: dict[str, tuple[int, str, str]]) -> timesync.Runner:
    """Return a runner that answers each command from a table (missing commands are not installed)."""
    return lambda cmd: answers.get(cmd[0], (127, "", f"{cmd[0]}: not installed"))


def test_chrony_synchronised_to_a_source() -> None:
    state = timesync.parse_chronyc(read("chronyc-tracking.txt"))
    assert state["state"] == "synchronized"
    assert state["source"] == "10.99.0.1"
    assert state["stratum"] == 9
    assert state["offset_seconds"] == pytest.approx(-0.000007043)  # "slow of NTP time"


def test_chrony_without_a_source_is_not_synchronised() -> None:
    state = timesync.parse_chronyc(read("chronyc-tracking-unsynchronised.txt"))
    assert state["state"] == "unsynchronized"
    assert state["leap_status"] == "Not synchronised"


def test_chrony_following_its_own_local_clock_is_not_synchronised() -> None:
    state = timesync.parse_chronyc(read("chronyc-tracking-local.txt"))
    assert state["state"] == "unsynchronized"
    assert "local clock" in state["reason"]


def test_unexpected_chronyc_output_raises() -> None:
    with pytest.raises(ValueError):
        timesync.parse_chronyc(read("chronyc-tracking.txt").replace("Leap status", "Leap"))


def test_this_machine_without_chronyd_or_systemd_is_unknown_with_the_reasons() -> None:
    state = timesync.state(runner({
        "chronyc": (1, read("chronyc-tracking-failed.txt"), ""),
        "timedatectl": (1, "", read("timedatectl-failed.stderr")),
    }))  # fmt: skip
    assert state["state"] == "unknown"
    assert "506 Cannot talk to daemon" in state["reason"]
    assert "not been booted with systemd" in state["reason"]


def test_timedatectl_is_the_fallback_when_chrony_is_absent() -> None:
    state = timesync.state(runner({"timedatectl": (0, read("timedatectl-show.txt"), "")}))
    assert (state["state"], state["tool"]) == ("synchronized", "timedatectl show")
    not_synced = read("timedatectl-show.txt").replace("NTPSynchronized=yes", "NTPSynchronized=no")
    assert timesync.state(runner({"timedatectl": (0, not_synced, "")}))["state"] == "unsynchronized"


def test_garbage_from_both_tools_is_unknown_never_synchronized() -> None:
    state = timesync.state(
        runner({"chronyc": (0, "Leap status : Normal\n", ""), "timedatectl": (0, "NTP=yes\n", "")})
    )
    assert state["state"] == "unknown"


def test_nothing_installed_is_unknown() -> None:
    state = timesync.state(runner({}))
    assert state["state"] == "unknown"
    assert "not installed" in state["reason"]
