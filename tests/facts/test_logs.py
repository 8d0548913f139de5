"""Parser tests for subject 'logs' on real /var/log stats and hand-written remote-log trees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.facts import Context
from scanner.facts.logs import SUBJECT, parse
from scanner.inventory import local_host
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "logs"
RECORDED = json.loads((OUT / "var-log-stats.json").read_text())
INV = local_host()
CTX = Context(INV.hosts[0], INV)


def test_this_machine_local_logs() -> None:
    facts = parse(build_raw(collected_at=RECORDED["collected_at"], stats=RECORDED["stats"]), CTX)
    # /var/log/apt changed 2 min 15 s before collection
    assert facts["newest_age_hours"] == pytest.approx(0.0375, abs=0.001)
    assert facts["files"] == 14
    assert facts["source"] == "/var/log"


def test_remote_logs_win_over_local_ones() -> None:
    stats = {
        **RECORDED["stats"],
        "/var/log/remote": {"mtime": "2026-11-01T00:00:00+00:00"},
        "/var/log/remote/web1": {"mtime": "2026-11-10T00:00:00+00:00"},
        "/var/log/remote/web1/auth.log": {"mtime": "2026-11-21T01:37:09+00:00"},
        "/var/log/remote/db1/auth.log": {"mtime": "2026-11-20T05:37:09+00:00"},
    }
    facts = parse(build_raw(collected_at=RECORDED["collected_at"], stats=stats), CTX)
    assert facts == {"newest_age_hours": 4.0, "files": 3, "source": "/var/log/remote"}


def test_stale_remote_logs_are_not_hidden_by_fresh_local_ones() -> None:
    stats = {**RECORDED["stats"], "/var/log/remote/web1/syslog": {"mtime": "2026-11-14T05:37:09+00:00"}}
    facts = parse(build_raw(collected_at=RECORDED["collected_at"], stats=stats), CTX)
    assert facts["newest_age_hours"] == 168.0


def test_nothing_collected_and_subject_paths() -> None:
    assert parse(build_raw(), CTX) == {}
    assert SUBJECT.stats == ("/var/log/*", "/var/log/remote/*", "/var/log/remote/*/*")
