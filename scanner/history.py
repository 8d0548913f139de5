"""Write runs under reports/<run-id>/ atomically and keep reports/latest pointing at the last one.

A run folder is built under a hidden temporary name and renamed into place; ``latest`` is a
symlink replaced with os.replace. A scan killed at any moment leaves no half-written run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from scanner.rawfacts import RawFacts
from scanner.results import Run

Renderer = Callable[[Run], str]


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write a file by writing a sibling temporary file, fsync, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_run(out: Path, run: Run, raws: dict[str, RawFacts], outputs: dict[str, Renderer]) -> Path:
    """Write one run folder (outputs + evidence) atomically and point ``latest`` at it."""
    out.mkdir(parents=True, exist_ok=True)
    final = out / run.run_id
    tmp = Path(tempfile.mkdtemp(dir=out, prefix=f".{run.run_id}."))
    try:
        evidence = tmp / "evidence"
        evidence.mkdir()
        manifest: dict[str, str] = {}
        for name, raw in sorted(raws.items()):
            data = json.dumps(raw.to_json(), ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
            (evidence / f"{name}.json").write_bytes(data)
            manifest[f"evidence/{name}.json"] = hashlib.sha256(data).hexdigest()
        for filename, render in outputs.items():
            data = render(run).encode("utf-8")
            (tmp / filename).write_bytes(data)
            manifest[filename] = hashlib.sha256(data).hexdigest()
        (tmp / "manifest.json").write_text(json.dumps({"run_id": run.run_id, "sha256": manifest}, indent=1), "utf-8")
        _fsync_tree(tmp)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    point_latest(out, run.run_id)
    return final


def point_latest(out: Path, run_id: str) -> None:
    """Atomically repoint reports/latest at a run folder."""
    link = out / f".latest.{os.getpid()}"
    link.unlink(missing_ok=True)
    os.symlink(run_id, link)
    os.replace(link, out / "latest")


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def runs(out: Path) -> list[Path]:
    """Return complete run folders, oldest first (hidden temporary folders are not runs)."""
    if not out.is_dir():
        return []
    return sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".") and not p.is_symlink()
                  and (p / "manifest.json").is_file())
