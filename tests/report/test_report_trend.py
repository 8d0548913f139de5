"""The dashboard's trend: earlier runs of the same scope, read from their envelopes, oldest first."""

from __future__ import annotations

import json
from pathlib import Path

from scanner import evidence
from scanner.report import trend
from scanner.results import Run


def _folder(out: Path, run_id: str, created: str, scope: dict[str, object], fails: int) -> None:
    folder = out / run_id
    folder.mkdir(parents=True)
    manifest = {"run_id": run_id, "created_at": created, "scope": scope, "files": {}}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    envelope = {
        "run_id": run_id,
        "started_at": created,
        "counts": {"fail": fails, "error": 0},
        "coverage": {"in_scope": 5, "assessed": 5, "ratio": 1.0},
    }
    (folder / "envelope.json").write_text(json.dumps(envelope), encoding="utf-8")


def test_points_are_earlier_runs_of_the_same_scope(run: Run, tmp_path: Path) -> None:
    scope = evidence.scope_of(run)
    for day in range(1, 15):
        _folder(tmp_path, f"r{day:02d}", f"2025-05-{day:02d}T09:00:00+09:00", scope, fails=day)
    _folder(tmp_path, "other", "2025-05-20T09:00:00+09:00", {**scope, "profile": "nerima"}, fails=99)
    _folder(tmp_path, run.run_id, "2025-06-02T09:00:00+09:00", scope, fails=0)  # the run itself
    (tmp_path / "broken").mkdir()
    points = trend.points(tmp_path, run)
    assert [p["run_id"] for p in points] == [f"r{d:02d}" for d in range(4, 15)]  # the last 11
    assert points[-1]["counts"]["fail"] == 14
    assert points[0]["coverage"]["ratio"] == 1.0


def test_no_history_no_points(run: Run, tmp_path: Path) -> None:
    assert trend.points(tmp_path / "missing", run) == []
