"""Parser tests for subject 'time' on real chronyc output and Debian 12 chrony/timesyncd configs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scanner.facts import Context
from scanner.facts.time import parse
from scanner.inventory import local_host
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "time"
UNITS = (Path(__file__).parent / "outputs" / "services" / "systemctl-units.txt").read_text()
INV = local_host()
CTX = Context(INV.hosts[0], INV)
CHRONY_CONF = {"/etc/chrony/chrony.conf": (OUT / "chrony.conf").read_text()}
TIMESYNCD_CONF = {"/etc/systemd/timesyncd.conf": (OUT / "timesyncd.conf").read_text()}
CHRONYC_FAILED = {"stdout": (OUT / "chronyc-tracking-failed.txt").read_text(), "rc": 1}
NO_SYSTEMD = {"stdout": "", "rc": 1, "stderr": (OUT / "timedatectl-failed.stderr").read_text()}


def _facts(files: dict[str, Any], **probes: Any) -> dict[str, Any]:
    return parse(build_raw(files=files, probes={k.replace("_", "-"): v for k, v in probes.items()}), CTX)


def test_chrony_synchronised() -> None:
    facts = _facts(
        CHRONY_CONF, chronyc_tracking=(OUT / "chronyc-tracking.txt").read_text(), systemctl_units=UNITS
    )
    assert facts["service"] == "chrony"
    assert facts["servers"] == ["2.debian.pool.ntp.org"]
    assert facts["synchronized"] is True
    assert facts["stratum"] == 9
    assert facts["offset_ms"] == pytest.approx(0.007043)


def test_chrony_unsynchronised() -> None:
    facts = _facts(CHRONY_CONF, chronyc_tracking=(OUT / "chronyc-tracking-unsynchronised.txt").read_text())
    assert facts["service"] == "chrony"
    assert facts["synchronized"] is False
    assert facts["stratum"] == 0


def test_this_machine_nothing_runs() -> None:
    facts = _facts(
        {**CHRONY_CONF, **TIMESYNCD_CONF},
        chronyc_tracking=CHRONYC_FAILED,
        timedatectl=NO_SYSTEMD,
        timesync_status=NO_SYSTEMD,
        systemctl_units=NO_SYSTEMD,
    )
    assert facts == {
        "service": "none",
        "servers": ["2.debian.pool.ntp.org"],
        "synchronized": False,
        "_origins": {"servers": {"file": "/etc/chrony/chrony.conf", "line": 8}},  # the pool line
    }


def test_timesyncd() -> None:
    units = UNITS.replace(
        "chrony.service                         loaded    active   running",
        "chrony.service                         not-found inactive dead   ",
    ).replace(
        "systemd-timesyncd.service              not-found inactive dead   ",
        "systemd-timesyncd.service              loaded    active   running",
    )
    conf = {
        "/etc/systemd/timesyncd.conf.d/lgwan.conf": "[Time]\nNTP=ntp1.lgwan.example.lg.jp ntp2.lgwan.example.lg.jp\n"
    }
    facts = _facts(
        {**TIMESYNCD_CONF, **conf},
        chronyc_tracking={"stdout": "", "rc": 127},
        timedatectl=(OUT / "timedatectl-show.txt").read_text(),
        timesync_status=(OUT / "timesync-status.txt").read_text(),
        systemctl_units=units,
    )
    assert facts == {
        "service": "timesyncd",
        "servers": ["ntp1.lgwan.example.lg.jp", "ntp2.lgwan.example.lg.jp"],
        "synchronized": True,
        "stratum": 2,
    }


def test_timesyncd_without_ntp_uses_fallback_and_empty_assignment_resets() -> None:
    files = {
        "/etc/systemd/timesyncd.conf": "[Time]\nNTP=a.example\nFallbackNTP=f1.example f2.example\n",
        "/etc/systemd/timesyncd.conf.d/reset.conf": "[Time]\nNTP=\n",
    }
    facts = _facts(files, timedatectl="NTPSynchronized=no\n")
    assert facts["servers"] == ["f1.example", "f2.example"]
    assert facts["synchronized"] is False


def test_chrony_sources_dir_and_conf_dir() -> None:
    files = {
        **CHRONY_CONF,
        "/etc/chrony/sources.d/lgwan.sources": "server ntp1.lgwan.example.lg.jp iburst\n",
        "/etc/chrony/conf.d/extra.conf": "pool ntp.nict.jp iburst\n",
        "/etc/chrony/sources.d/README": "server ignored.example\n",
    }
    facts = _facts(files)
    assert facts["servers"] == ["ntp.nict.jp", "2.debian.pool.ntp.org", "ntp1.lgwan.example.lg.jp"]
    assert "service" not in facts and "synchronized" not in facts


def test_garbled_tracking_raises() -> None:
    with pytest.raises(ValueError, match="chronyc tracking"):
        _facts(CHRONY_CONF, chronyc_tracking="Reference ID : 0A630001\n")


def test_nothing_collected() -> None:
    assert _facts({}) == {}


def test_chronyd_on_its_own_local_clock_is_not_synchronised() -> None:
    """Real output of chronyd with no upstream (reference 7F7F0101): LOG-04 must not pass on it."""
    from pathlib import Path

    from scanner.facts import Context
    from scanner.facts import time as time_facts
    from scanner.inventory import Host, Inventory
    from scanner.rawfacts import build_raw

    text = (Path(__file__).parent / "outputs" / "time" / "chronyc-tracking-local-clock.txt").read_text()
    raw = build_raw(
        files={"/etc/chrony/chrony.conf": "local stratum 10\n"}, probes={"chronyc-tracking": text}
    )
    host = Host(name="h", zone="lgwan", role="server")
    ctx = Context(host, Inventory(path=Path("."), name="t", zones={}, sites={}, hosts=(host,)))
    assert time_facts.parse(raw, ctx)["synchronized"] is False


def test_chrony_include_loop_and_missing_include_raise() -> None:
    from scanner.facts.time import _chrony_servers

    loop = {"/etc/chrony/chrony.conf": "server a\ninclude /etc/chrony/chrony.conf\n"}
    with pytest.raises(ValueError, match="include nesting"):
        _chrony_servers(build_raw(files=loop))
    with pytest.raises(ValueError, match="no such file"):
        _chrony_servers(build_raw(files={"/etc/chrony/chrony.conf": "include /etc/chrony/extra.conf\n"}))
    # a glob may match nothing; a name repeated across confdir directories is read once; "Pool" is pool
    twice = {"/etc/chrony/chrony.conf": "include /x/*.conf\nconfdir /d /d\n", "/d/a.conf": "Pool p\n"}
    assert _chrony_servers(build_raw(files=twice)) == ["p"]
