"""Parser tests for subject 'logrotate' on Debian 12's logrotate.conf and /etc/logrotate.d files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scanner.facts import Context
from scanner.facts.logrotate import parse
from scanner.inventory import local_host
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "logrotate"
INV = local_host()
CTX = Context(INV.hosts[0], INV)
DEBIAN_CONF = (OUT / "logrotate.conf").read_text()


def _debian(**extra: str) -> dict[str, Any]:
    files = {f"/etc/logrotate.d/{p.name}": p.read_text() for p in (OUT / "logrotate.d").iterdir()}
    files.update({f"/etc/logrotate.d/{k}": v for k, v in extra.items()})
    files["/etc/logrotate.conf"] = DEBIAN_CONF
    return parse(build_raw(files=files), CTX)


def test_debian_defaults() -> None:
    facts = _debian()
    logs = facts["logs"]
    assert logs["/var/log/auth.log"] == {
        "rotate": 4, "period": "weekly", "retention_days": 28, "maxage": None, "file": "/etc/logrotate.d/rsyslog",
    }  # fmt: skip
    # every path of the multi-path rsyslog block
    for path in (
        "/var/log/syslog",
        "/var/log/mail.log",
        "/var/log/kern.log",
        "/var/log/user.log",
        "/var/log/cron.log",
    ):
        assert logs[path]["retention_days"] == 28
    assert logs["/var/log/alternatives.log"]["retention_days"] == 360
    assert logs["/var/log/apt/history.log"]["retention_days"] == 360
    assert logs["/var/log/btmp"]["retention_days"] == 30
    assert logs["/var/log/postgresql/*.log"]["retention_days"] == 70
    # the chrony block sets neither rotate nor a period: the global weekly / rotate 4 apply
    assert logs["/var/log/chrony/*.log"] == {
        "rotate": 4, "period": "weekly", "retention_days": 28, "maxage": None, "file": "/etc/logrotate.d/chrony",
    }  # fmt: skip
    assert facts["security_retention_days"] == 28


def test_longer_security_retention_and_maxage() -> None:
    rsyslog = "/var/log/syslog\n/var/log/auth.log\n{\n\trotate 53\n\tweekly\n\tmaxage 365\n}\n"
    facts = _debian(rsyslog=rsyslog)
    assert facts["logs"]["/var/log/auth.log"]["retention_days"] == 365  # 53 weeks capped by maxage
    assert facts["logs"]["/var/log/auth.log"]["maxage"] == 365
    assert facts["security_retention_days"] == 365


def test_security_minimum_over_configured_logs() -> None:
    extra = "/var/log/messages /var/log/secure {\n  daily\n  rotate 90\n}\n"
    facts = _debian(redhat=extra)
    assert facts["logs"]["/var/log/secure"]["retention_days"] == 90
    assert facts["security_retention_days"] == 28  # auth.log still keeps only 4 weeks


def test_global_options_apply_only_after_they_are_set() -> None:
    conf = "include /etc/logrotate.d\nmonthly\nrotate 12\n/var/log/wtmp {\n}\n"
    raw = build_raw(files={"/etc/logrotate.conf": conf, "/etc/logrotate.d/a": "/var/log/a.log {\n}\n"})
    logs = parse(raw, CTX)["logs"]
    assert logs["/var/log/a.log"] == {
        "rotate": 0,
        "period": None,
        "retention_days": None,
        "maxage": None,
        "file": "/etc/logrotate.d/a",
    }
    assert logs["/var/log/wtmp"]["retention_days"] == 360


def test_size_after_period_makes_retention_unknown_and_counts_as_zero() -> None:
    conf = "weekly\nrotate 4\n/var/log/auth.log {\n  size 100M\n}\n"
    facts = parse(build_raw(files={"/etc/logrotate.conf": conf}), CTX)
    assert facts["logs"]["/var/log/auth.log"]["retention_days"] is None
    assert facts["security_retention_days"] == 0


def test_glob_block_covers_security_log_and_taboo_files_are_skipped() -> None:
    conf = "include /etc/logrotate.d\n"
    raw = build_raw(
        files={
            "/etc/logrotate.conf": conf,
            "/etc/logrotate.d/all": "/var/log/*.log {\n  daily\n  rotate 400\n}\n",
            "/etc/logrotate.d/all.dpkg-old": "/var/log/syslog {\n  daily\n  rotate 1\n}\n",
        }
    )
    facts = parse(raw, CTX)
    assert "/var/log/syslog" not in facts["logs"]
    assert facts["security_retention_days"] == 400


def test_scripts_are_skipped_and_first_entry_wins() -> None:
    conf = (
        "/var/log/auth.log {\n  rotate 2\n  daily\n  postrotate\n    rotate 999\n  endscript\n}\n"
        "/var/log/auth.log {\n  rotate 400\n  daily\n}\n"
    )
    facts = parse(build_raw(files={"/etc/logrotate.conf": conf}), CTX)
    assert facts["logs"]["/var/log/auth.log"]["retention_days"] == 2


def test_no_security_log_configured() -> None:
    facts = parse(build_raw(files={"/etc/logrotate.conf": DEBIAN_CONF}), CTX)
    assert facts == {"logs": {}, "security_retention_days": None}


def test_problems_raise() -> None:
    with pytest.raises(ValueError, match="unterminated"):
        parse(build_raw(files={"/etc/logrotate.conf": "/var/log/x {\n daily\n"}), CTX)
    with pytest.raises(ValueError, match="rotate"):
        parse(build_raw(files={"/etc/logrotate.conf": "rotate many\n"}), CTX)


def test_not_collected_and_absent() -> None:
    assert parse(build_raw(), CTX) == {}
    assert parse(build_raw(absent=["/etc/logrotate.conf"]), CTX) == {
        "logs": {},
        "security_retention_days": None,
    }
