"""Lab fixtures: one lab per test session, always torn down, and a per-test environment pointing the scanner at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.lab.lab import Lab, build
from tests.lab.session import built, point_scanner


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    """Build the lab once (after removing what crashed runs left), and remove all of it at the end."""
    with built(build) as made:
        yield made


@pytest.fixture
def env(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> Lab:
    """Point the scanner at the lab: HOME with its ssh config, key and known_hosts; no agent, no TOFU."""
    point_scanner(monkeypatch, lab)
    return lab
