"""Run every check case under tests/cases (the same cases `kijun verify` runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.content import cases_dir
from scanner.policy import Pack
from scanner.verify import case_files, run_case

CASES = case_files(cases_dir())


@pytest.mark.parametrize("path", CASES, ids=[str(p.relative_to(cases_dir())) for p in CASES])
def test_case(path: Path, pack: Pack) -> None:
    results = run_case(path, pack)
    assert results, f"{path} expects nothing"
    wrong = [
        f"{r.check_id}: expected {r.expected}, got {r.actual} ({r.message})" for r in results if not r.ok
    ]
    assert not wrong, "\n".join(wrong)
