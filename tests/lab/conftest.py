"""Lab fixtures: one lab per test session, always torn down, and a per-test environment pointing the scanner at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scanner.collect import hostkeys
from tests.lab.lab import Lab, build, cleanup_stale, teardown, unavailable


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    """Build the lab once (after removing what crashed runs left), and remove all of it at the end."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    cleanup_stale()
    built = build()
    try:
        yield built
    finally:
        teardown(built)


@pytest.fixture
def env(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> Lab:
    """Point the scanner at the lab: HOME with its ssh config, key and known_hosts; no agent, no TOFU."""
    monkeypatch.setenv("HOME", str(lab.home))
    for name in ("SSH_AUTH_SOCK", "KIJUN_TOFU", "KIJUN_KNOWN_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(hostkeys, "trust_on_first_use", False)
    return lab
