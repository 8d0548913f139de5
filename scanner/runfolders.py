"""Read the run folders of a reports folder: which complete runs it holds, one run, the previous one.

Apart from ``scanner/history.py`` (which writes runs) so that what reads runs back — the findings
history (``scanner/ledger.py``) and the dashboard's trend — does not import the writer that imports them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scanner import compact, evidence, safeio
from scanner.errors import LoadError
from scanner.results import Run


def _manifest(folder: Path) -> dict[str, Any]:
    try:
        doc = safeio.load_json(folder / evidence.MANIFEST, safeio.RUN_LIMIT)
    except LoadError:
        return {}
    return doc if isinstance(doc, dict) else {}


def runs(out: Path) -> list[Path]:
    """Return complete run folders, oldest first (hidden temporary folders and ``latest`` are not runs)."""
    if not out.is_dir():
        return []
    found = [
        (m, p)
        for p in out.iterdir()
        if not p.name.startswith(".") and not p.is_symlink() and p.is_dir() and (m := _manifest(p))
    ]
    return [p for _, p in sorted(found, key=lambda mp: (str(mp[0].get("created_at", "")), mp[1].name))]


def _warn(message: str) -> None:
    sys.stderr.write(f"kijun: warning: {message}\n")


def previous_run(out: Path, run: Run, warn: Callable[[str], None] = _warn) -> tuple[Run, Path] | None:
    """Return the newest readable run in ``out`` of the same scope as ``run``; unreadable ones are skipped.

    One corrupt earlier run must not stop every later scan in the folder: it is named in a warning
    and the run before it is used instead.
    """
    want = evidence.scope_of(run)
    earlier = [p for p in runs(out) if p.name != run.run_id and _manifest(p).get("scope") == want]
    for folder in reversed(earlier):
        try:
            found = load_run(folder)[0]
            compact.failing(found)  # its findings.jsonl is read too (lazily otherwise): what chain needs
            return found, folder
        except (ValueError, KeyError, TypeError, OSError) as exc:
            warn(f"{exc}; skipped as a previous run / 読めない過去の実行をスキップしました")
    return None


def previous(out: Path, run: Run, warn: Callable[[str], None] = _warn) -> Path | None:
    """Return the newest readable run folder in ``out`` of the same scope as ``run`` (not ``run`` itself)."""
    found = previous_run(out, run, warn)
    return found[1] if found else None


def load_run(ref: str | Path, out: Path = Path("reports")) -> tuple[Run, Path]:
    """Load a run from a run folder, a results.json, or a run id (or ``latest``) under ``out``."""
    path = Path(ref)
    if not path.exists() and (out / str(ref)).exists():
        path = out / str(ref)
    if path.is_dir():
        path = path / evidence.RESULTS
    if not path.exists():
        raise ValueError(f"{ref}: no such run (not a folder with results.json, nor a run id in {out})")
    try:
        return compact.load(path), path.parent
    except FileNotFoundError:
        raise ValueError(
            f"{ref}: no such run (not a folder with results.json, nor a run id in {out})"
        ) from None
    except LoadError as exc:
        raise ValueError(str(exc)) from None
    except (OSError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{path}: not a kijun results document ({type(exc).__name__}: {exc})") from None
