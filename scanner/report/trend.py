"""The dashboard's trend: status counts and coverage of the last runs of the same scope.

Until the findings history has a database, the points come from the earlier run folders'
``envelope.json`` (a few kB each, with the run's counts and coverage), never their findings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scanner import evidence, runfolders, safeio
from scanner.errors import LoadError
from scanner.results import Run

LAST_RUNS = 12


def points(out: Path, run: Run, limit: int = LAST_RUNS) -> list[dict[str, Any]]:
    """Return up to ``limit - 1`` earlier runs' points, oldest first (the dashboard adds ``run``).

    >>> [p["run_id"] for p in points(Path("reports"), run)]  # doctest: +SKIP
    """
    scope = evidence.scope_of(run)
    earlier: list[dict[str, Any]] = []
    for folder in reversed(runfolders.runs(out)):
        if len(earlier) >= limit - 1:
            break
        if folder.name == run.run_id:
            continue
        point = _point(folder, scope)
        if point is not None:
            earlier.append(point)
    return list(reversed(earlier))


def _point(folder: Path, scope: Any) -> dict[str, Any] | None:
    """Read one earlier run's counts and coverage from its envelope, if it has the same scope."""
    try:  # regular files only, bounded: a FIFO or a corrupt earlier run is skipped, never a hang or a crash
        manifest = safeio.load_json(folder / evidence.MANIFEST, safeio.RUN_LIMIT)
        env = safeio.load_json(folder / "envelope.json")
        if manifest.get("scope") != scope or not isinstance(env.get("counts"), dict):
            return None
        return {
            "run_id": str(env.get("run_id", folder.name)),
            "started_at": str(env.get("started_at", "")),
            "counts": {k: int(v) for k, v in env["counts"].items()},
            "coverage": dict(env.get("coverage") or {}),
        }
    except (LoadError, AttributeError, TypeError, ValueError):
        return None
