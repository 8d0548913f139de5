"""Truncated content is an error for every subject that reads it, before its parser runs; so is a time after the collection (issue 9)."""

from __future__ import annotations

import pytest

from scanner.facts import SUBJECTS, Context, build
from scanner.inventory import local_host
from scanner.rawfacts import build_raw

INV = local_host()
CTX = Context(INV.hosts[0], INV)
READERS = sorted(name for name, subject in SUBJECTS.items() if subject.files)


def concrete(pattern: str) -> str:
    """Return a path that the glob matches."""
    return pattern.replace("*", "x.conf")


@pytest.mark.parametrize("name", READERS)
def test_truncated_file_is_an_error(name: str) -> None:
    path = concrete(SUBJECTS[name].files[0])
    raw = build_raw(files={path: {"content": "cut here\n", "size": 4194400, "truncated": True}})
    facts = build(raw, CTX, [name])
    assert name not in facts.tree
    assert facts.errors[name] == f"truncated at 9 bytes: {path}"


def test_whole_file_is_parsed() -> None:
    raw = build_raw(files={"/etc/login.defs": "PASS_MAX_DAYS 90\n"})
    facts = build(raw, CTX, ["login_defs"])
    assert facts.errors == {} and facts.tree["login_defs"]["pass_max_days"] == 90


def test_times_after_the_collection() -> None:
    from datetime import UTC, datetime, timedelta

    from scanner.facts import SKEW_SECONDS, elapsed

    now = datetime(2026, 11, 1, tzinfo=UTC)
    # a log written while the host was being collected is fresh, not an error
    assert elapsed(now + timedelta(seconds=SKEW_SECONDS), now, "mtime") == 0.0
    assert elapsed(now - timedelta(hours=2), now, "mtime") == 7200.0
    with pytest.raises(ValueError, match="mtime 2099-11-01T00:00:00"):
        elapsed(datetime(2099, 11, 1, tzinfo=UTC), now, "mtime")
    with pytest.raises(ValueError, match="is after the collection time"):
        elapsed(now + timedelta(seconds=SKEW_SECONDS + 1), now, "mtime")
