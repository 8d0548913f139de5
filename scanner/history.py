"""Own the run history: reports/<run-id>/ written atomically, reports/latest, and the previous run.

A run folder is built under a hidden temporary name (``.tmp-<pid>-<run-id>-*``), fsynced and
renamed into place in one step; ``latest`` is a symlink replaced with os.replace afterwards. A scan
killed at any moment therefore leaves either no new run or a complete one, and ``latest`` always
names a complete run (the previous one if the kill fell between the rename and the repoint). Stale
temporary folders of dead processes are removed by the next write.
"""

from __future__ import annotations

import ctypes
import dataclasses
import hashlib
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from scanner import compact, evidence, safeio
from scanner.rawfacts import RawFacts
from scanner.report.writing import Body, write_body
from scanner.report.writing import put as _put
from scanner.report.writing import put_all as _put_all
from scanner.results import Run
from scanner.runfolders import load_run as load_run
from scanner.runfolders import previous as previous
from scanner.runfolders import previous_run
from scanner.runfolders import runs as runs

Outputs = Callable[[Run], dict[str, Body]]
TMP_PREFIX = ".tmp-"


def atomic_write(path: Path, data: Body) -> None:
    """Write a file by writing a sibling temporary file, fsync, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write_body(handle, data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def safe_name(name: str) -> str:
    """Return a host name that can name an evidence file, or raise ValueError."""
    if not name or name.startswith(".") or "/" in name or "\\" in name or "\0" in name:
        raise ValueError(f"host name {name!r} cannot name an evidence file")
    return name


def write_run(
    out: Path, run: Run, raws: Mapping[str, bytes], outputs: Outputs, key: Ed25519PrivateKey | None = None
) -> Path:
    """Write one run folder (results, envelope, outputs, evidence, manifest, signature) atomically.

    ``raws`` maps a host name to its raw facts as stored (see ``evidence.raw_bytes``); each is asked
    for once, when written (a merge reads them from its bundles one at a time).
    """
    tmp = _start(out, run.run_id)
    try:
        for name in sorted(raws):
            _put(tmp / "evidence" / f"{safe_name(name)}.json", raws[name])
        return _seal(out, tmp, run, outputs, key)[0]
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _start(out: Path, label: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    clean_stale(out)
    return Path(tempfile.mkdtemp(dir=out, prefix=f"{TMP_PREFIX}{os.getpid()}-{label}-"))


def _seal(
    out: Path, tmp: Path, run: Run, outputs: Outputs, key: Ed25519PrivateKey | None
) -> tuple[Path, Run]:
    """Finish a run folder being built in ``tmp``: results, envelope, reports, manifest, signature, rename.

    Return the folder and the run as written there (its findings read from the folder).
    """
    run = evidence.stamp(run, key)
    final = out / run.run_id
    if final.exists():
        raise FileExistsError(f"{final}: a run with this id already exists")
    run = compact.write(tmp, run, envelope_beside=True)
    envelope = compact.layout(evidence.envelope_of(run)) + "\n"
    _put_all(tmp, {**outputs(run), evidence.ENVELOPE: envelope})
    manifest = evidence.manifest(tmp, run, datetime.now().astimezone())
    _put(tmp / evidence.MANIFEST, manifest)
    if key is not None:
        _put(tmp / evidence.SIGNATURE, evidence.sign(manifest, key))
    _fsync_tree(tmp)
    os.rename(tmp, final)
    _fsync_dir(out)
    point_latest(out, run.run_id)
    if isinstance(run.findings, compact.FindingLog):
        run = dataclasses.replace(run, findings=run.findings.moved(final / compact.FINDINGS))
    _index(out, run, final)
    return final, run


def _index(out: Path, run: Run, folder: Path) -> None:
    """Add a sealed run to the findings history (SQLite) if the reports folder has one.

    The history is made by its first query and holds every run from then on; the run folder stays
    the evidence whatever happens here.
    """
    from scanner import ledger

    if not (out / ledger.DB).exists():
        return  # made by the first query (kijun diff, kijun history), which adds every earlier run
    try:
        with ledger.connect(out) as db:
            ledger.add(db, run, folder)
    except sqlite3.Error as exc:
        sys.stderr.write(
            f"kijun: {out / ledger.DB}: 履歴に記録できません / not recorded in the findings history ({exc}); "
            "the run folder is complete and `kijun history sync` adds it later\n"
        )


Scan = Callable[[Path], tuple[Run, dict[str, RawFacts]]]


def record_scan(
    out: Path,
    scan: Scan,
    render: Callable[[Run, Run | None], dict[str, Body]],
    key: Ed25519PrivateKey | None = None,
) -> Path:
    """Scan straight into a new run folder (evidence and findings written as hosts finish), then seal it.

    ``scan(folder)`` writes evidence/<host>.json and findings.jsonl into ``folder`` and returns the
    Run and the raw facts still to store (the zone probes'); see scanner/stream.py.
    """
    return scan_run(out, scan, render, key)[0]


def scan_run(
    out: Path,
    scan: Scan,
    render: Callable[[Run, Run | None], dict[str, Body]],
    key: Ed25519PrivateKey | None = None,
) -> tuple[Path, Run]:
    """``record_scan``, returning the run as written too: its counts and failures are kept from the
    scan, so that nothing reads findings.jsonl again to give the exit code."""
    tmp = _start(out, "scan")
    try:
        run, raws = scan(tmp)
        for name, raw in sorted(raws.items()):
            _put(tmp / "evidence" / f"{safe_name(name)}.json", evidence.raw_bytes(raw))
        found = previous_run(out, run)  # a corrupt earlier run is skipped with a warning
        prev, before = found if found else (None, None)
        return _seal(out, tmp, chain(run, prev, before), lambda r: render(r, prev), key)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_results(target: Path, run: Run) -> list[Path]:
    """Write a run's results.json and findings.jsonl into ``target``, each replaced atomically."""
    target.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target, prefix=".results-"))
    try:
        compact.write(tmp, run)
        names = (compact.FINDINGS, evidence.RESULTS)  # the findings first: results.json names them
        for name in names:
            with (tmp / name).open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp / name, target / name)
        return [target / name for name in names]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def point_latest(out: Path, run_id: str) -> None:
    """Atomically repoint reports/latest at a run folder."""
    link = out / f".latest.{os.getpid()}"
    link.unlink(missing_ok=True)
    os.symlink(run_id, link)
    os.replace(link, out / "latest")
    _fsync_dir(out)


def clean_stale(out: Path) -> list[Path]:
    """Remove temporary run folders and links left by processes that no longer exist."""
    removed: list[Path] = []
    for path in out.glob(".*"):
        pid = path.name.removeprefix(TMP_PREFIX).partition("-")[0] if path.name.startswith(TMP_PREFIX) else ""
        if path.name.startswith(".latest."):
            pid = path.name.removeprefix(".latest.")
        if pid.isdigit() and not _alive(int(pid)):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _syncfs(root: Path) -> bool:
    """Flush the whole file system ``root`` is on (Linux syncfs(2)); False where there is none.

    One call instead of an fsync per file: a run of 10,000 hosts has 10,000 evidence files, and an
    fsync each is a journal commit each (seconds at the end of every scan).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        return False
    fd = os.open(root, os.O_RDONLY)
    try:
        return bool(syncfs(fd) == 0)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    """Make every file and folder under ``root`` durable before the folder is renamed into place."""
    if _syncfs(root):
        return
    for path in root.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        elif path.is_dir():
            _fsync_dir(path)
    _fsync_dir(root)


def chain(run: Run, prev: Run | None, prev_folder: Path | None) -> Run:
    """Link a run to its predecessor and carry forward since when each failure has been open."""
    today = run.started_at[:10]
    before: dict[str, str] = dict(prev.envelope.get("open_since", {})) if prev else {}
    failing_before = compact.failing(prev) if prev else frozenset()
    since = {
        f.key: (before.get(f.key) or prev.started_at[:10]) if prev and f.key in failing_before else today
        for f in run.tally.fails
    }
    link: dict[str, Any] = {}
    if prev is not None and prev_folder is not None:
        data = safeio.read_bytes(prev_folder / evidence.MANIFEST, safeio.RUN_LIMIT)
        link = {
            "run_id": prev.run_id,
            "started_at": prev.started_at,
            "manifest_sha256": hashlib.sha256(data).hexdigest(),
        }
    return dataclasses.replace(run, envelope={**run.envelope, "previous_run": link, "open_since": since})


def record(
    out: Path,
    run: Run,
    raws: Mapping[str, bytes],
    render: Callable[[Run, Run | None], dict[str, Body]],
    key: Ed25519PrivateKey | None = None,
) -> Path:
    """Chain a run to the previous run of its scope, render its outputs (with that run) and write it."""
    found = previous_run(out, run)
    prev, before = found if found else (None, None)
    chained = chain(run, prev, before)
    return write_run(out, chained, raws, lambda r: render(r, prev), key)


FORMATS = (
    "json",
    "junit",
    "html",
    "sarif",
    "xlsx",
    "csv",
)  # results.json and envelope.json are always written
