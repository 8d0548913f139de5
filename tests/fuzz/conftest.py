"""Hypothesis settings for the fuzz and fault harness: bounded and derandomized, so CI is short and repeatable.

``KIJUN_FUZZ_EXAMPLES`` raises the number of examples for a longer local run.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "kijun-ci",
    max_examples=int(os.environ.get("KIJUN_FUZZ_EXAMPLES", "40")),
    derandomize=True,  # a fixed seed: the same examples on every run
    deadline=None,  # a shared CI machine must not turn slowness into failures
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("kijun-ci")
