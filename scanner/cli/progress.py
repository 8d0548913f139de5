"""The progress ``kijun scan`` prints on stderr: one rewritten line on a terminal, else a line now and then."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import click


def on_terminal() -> Callable[[int, int, Any], None]:
    """Return the progress of a terminal: one line rewritten per host, with the count not assessed."""
    not_assessed: list[str] = []

    def progress(done: int, total: int, result: Any) -> None:
        if not result.assessed:
            not_assessed.append(result.name)
        line = f"\r[{done}/{total}] 未評価 not assessed: {len(not_assessed)}  {result.name:<30.30}"
        click.echo(line, nl=done == total, err=True)

    return progress


class Ticker:
    """Progress where no terminal is attached (cron, CI logs): a line every N hosts or 10 seconds."""

    def __init__(self, every: int, seconds: float = 10.0) -> None:
        self.every, self.seconds = every, seconds
        self.started = self.last = time.monotonic()
        self.not_assessed = 0

    def __call__(self, done: int, total: int, result: Any) -> None:
        self.not_assessed += 0 if result.assessed else 1
        now = time.monotonic()
        if not (
            done % self.every == 0
            or now - self.last >= self.seconds
            or (done == total and self.last > self.started)
        ):
            return
        self.last = now
        rate = done / max(now - self.started, 1e-9)
        eta = (total - done) / rate if rate else 0.0
        click.echo(
            f"kijun: {done}/{total} hosts ({100 * done / total:.1f}%), {rate:.1f} hosts/s, "
            f"ETA {int(eta) // 60}m{int(eta) % 60:02d}s, 未評価 not assessed {self.not_assessed}",
            err=True,
        )
