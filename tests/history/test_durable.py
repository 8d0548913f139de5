"""A run folder is made durable before its rename: one syncfs where Linux has it, else an fsync per
file and folder (issue 12: 10,000 evidence files were 10,000 journal commits at the end of a scan)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from scanner import history


def _tree(root: Path) -> set[str]:
    (root / "evidence").mkdir(parents=True)
    for i in range(5):
        (root / "evidence" / f"h{i}.json").write_text("{}")
    (root / "results.json").write_text("{}")
    return {str(p) for p in root.rglob("*")} | {str(root)}


def _recording(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    synced: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return synced


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="syncfs(2) is Linux's")
def test_linux_flushes_the_file_system_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path / "run")
    synced = _recording(monkeypatch)
    assert history._syncfs(tmp_path / "run") is True
    history._fsync_tree(tmp_path / "run")
    assert synced == []


def test_without_syncfs_every_file_and_folder_is_fsynced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wanted = _tree(tmp_path / "run")
    monkeypatch.setattr(history, "_syncfs", lambda root: False)
    synced = _recording(monkeypatch)
    history._fsync_tree(tmp_path / "run")
    assert set(synced) == wanted
