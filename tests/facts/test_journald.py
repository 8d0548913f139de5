"""Parser tests for subject 'journald' on the Debian 12 journald.conf plus drop-ins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scanner.facts import Context, journald
from scanner.facts.journald import seconds
from scanner.inventory import local_host
from scanner.rawfacts import RawFacts, build_raw

OUT = Path(__file__).parent / "outputs" / "journald"
INV = local_host()
CTX = Context(INV.hosts[0], INV)
DEBIAN = (OUT / "journald.conf").read_text()


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return the facts without their origins (tested on their own below)."""
    facts = journald.parse(raw, ctx)
    facts.pop("_origins", None)
    return facts


def test_debian_default_uses_the_documented_defaults() -> None:
    facts = parse(build_raw(files={"/etc/systemd/journald.conf": DEBIAN}), CTX)
    # Debian documents "#ForwardToSyslog=yes" in the shipped file: its compiled default
    assert facts == {"storage": "auto", "max_retention_days": None, "forward_to_syslog": True}


def test_dropins_override_in_name_order() -> None:
    raw = build_raw(
        files={
            "/etc/systemd/journald.conf": DEBIAN,
            "/etc/systemd/journald.conf.d/10-retention.conf": "[Journal]\nStorage=persistent\nMaxRetentionSec=1year\n",
            "/etc/systemd/journald.conf.d/20-local.conf": "[Journal]\nMaxRetentionSec=6month\nForwardToSyslog=no\n",
            "/etc/systemd/journald.conf.d/30-ignored.txt": "[Journal]\nStorage=none\n",
        }
    )
    assert parse(raw, CTX) == {"storage": "persistent", "max_retention_days": 182, "forward_to_syslog": False}


def test_settings_outside_journal_section_are_ignored() -> None:
    raw = build_raw(files={"/etc/systemd/journald.conf": "[Other]\nStorage=none\n"})
    # no documented default in this file: upstream's ForwardToSyslog=no applies
    assert parse(raw, CTX) == {"storage": "auto", "max_retention_days": None, "forward_to_syslog": False}


@pytest.mark.parametrize(
    ("span", "value"),
    [
        ("3600", 3600),
        ("1d", 86400),
        ("2w 3d", 17 * 86400),
        ("1month", 2629800),
        ("1y", 31557600),
        ("90days", 90 * 86400),
    ],
)
def test_time_spans(span: str, value: float) -> None:
    assert seconds(span) == value


def test_bad_values_raise() -> None:
    with pytest.raises(ValueError):
        seconds("forever")
    with pytest.raises(ValueError, match="Storage"):
        parse(build_raw(files={"/etc/systemd/journald.conf": "[Journal]\nStorage=cloud\n"}), CTX)


def test_not_collected_is_omitted() -> None:
    assert parse(build_raw(), CTX) == {}


def test_empty_assignment_restores_the_default() -> None:
    raw = build_raw(
        files={
            "/etc/systemd/journald.conf": DEBIAN,
            "/etc/systemd/journald.conf.d/10-a.conf": "[Journal]\nMaxRetentionSec=1w\nForwardToSyslog=no\n",
            "/etc/systemd/journald.conf.d/20-b.conf": "[Journal]\nMaxRetentionSec=\nForwardToSyslog=\n",
        }
    )
    assert parse(raw, CTX) == {"storage": "auto", "max_retention_days": None, "forward_to_syslog": True}


def test_origins_name_the_line_that_won() -> None:
    raw = build_raw(
        files={
            "/etc/systemd/journald.conf": DEBIAN,
            "/run/systemd/journald.conf.d/10-a.conf": "[Journal]\n# keep\nMaxRetentionSec=1w\n",
        }
    )
    origins = journald.parse(raw, CTX)["_origins"]
    assert origins == {"max_retention_days": {"file": "/run/systemd/journald.conf.d/10-a.conf", "line": 3}}
