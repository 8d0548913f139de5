"""How a test session uses a lab: build it (or skip where the lab cannot run), always tear it down, point the scanner at it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from scanner.collect import hostkeys
from tests.lab.netlab import Net, teardown
from tests.lab.netns import cleanup_stale, unavailable

N = TypeVar("N", bound=Net)


@contextlib.contextmanager
def built(build: Callable[[], N]) -> Iterator[N]:
    """Build a lab (after removing what crashed runs left) and remove all of it when the block ends."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    cleanup_stale()
    lab = build()
    try:
        yield lab
    finally:
        teardown(lab)


def point_scanner(mp: pytest.MonkeyPatch, lab: Net) -> None:
    """Point the scanner at the lab: HOME with its ssh config, key and known_hosts; no agent, no TOFU."""
    mp.setenv("HOME", str(lab.home))
    for name in ("SSH_AUTH_SOCK", "KIJUN_TOFU", "KIJUN_KNOWN_HOSTS"):
        mp.delenv(name, raising=False)
    mp.setattr(hostkeys, "trust_on_first_use", False)
