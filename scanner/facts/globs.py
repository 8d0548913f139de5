"""Path tests from glob patterns, compiled once: which raw items a subject's declaration covers.

Apart from ``scanner/facts/__init__.py`` so that ``memo.py``, which the package imports, can use it too.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache


@cache
def globs(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """Return a test that is ``any(fnmatchcase(path, p) for p in patterns)``, compiled once (hot at scale)."""
    import fnmatch
    import re

    if not patterns:
        return lambda path: False
    match = re.compile("|".join(fnmatch.translate(p) for p in patterns)).match
    seen: dict[str, bool] = {}  # hosts share their paths: each is matched once

    def test(path: str) -> bool:
        known = seen.get(path)
        if known is None:
            if len(seen) > 100_000:
                seen.clear()
            known = seen[path] = match(path) is not None
        return known

    return test
