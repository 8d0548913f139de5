"""Shared fixtures: the policy pack as shipped, loaded once."""

from __future__ import annotations

import pytest

from scanner.policy import Pack, load_pack


@pytest.fixture(scope="session")
def pack() -> Pack:
    return load_pack("base")
