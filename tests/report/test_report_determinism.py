"""Report files are the same bytes whatever the interpreter's hash seed (set and dict order)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _kijun(*args: str, seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)}
    subprocess.run(
        [sys.executable, "-m", "scanner", *args], check=False, env=env, capture_output=True, cwd=REPO
    )


def test_reports_do_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    ward = str(REPO / "inventories" / "example-ward")
    _kijun(
        "scan",
        ward,
        "--as-of",
        "2026-11-20",
        "--no-probe",
        "--format",
        "json",
        "--out",
        str(tmp_path / "run"),
        "--quiet",
        seed="0",
    )
    run = tmp_path / "run" / "latest"
    assert (run / "findings.jsonl").is_file()
    formats = ["html", "junit", "sarif", "csv", "json"]
    for seed in ("1", "2", "3"):
        args = [a for f in formats for a in ("--format", f)]
        _kijun("report", str(run), *args, "--out", str(tmp_path / seed), seed=seed)
    first = sorted(p.relative_to(tmp_path / "1") for p in (tmp_path / "1").rglob("*") if p.is_file())
    assert Path("report.html") in first and Path("junit.xml") in first
    for seed in ("2", "3"):
        for rel in first:
            assert (tmp_path / seed / rel).read_bytes() == (tmp_path / "1" / rel).read_bytes(), (
                f"{rel} differs (seed {seed})"
            )
