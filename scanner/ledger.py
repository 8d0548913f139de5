"""Own the findings history: every run's findings in SQLite (reports/history.sqlite), queried.

The run folders stay the evidence (signed, hashed); this database is an index of them that can
be rebuilt from the folders at any time (``sync``). It answers what would otherwise mean reading
every run's JSON again: the diff of any two runs, counts over runs (trends), and since when a
failure has been failing without a break (the age that リスクマネジメント asks for). The tables
are described in docs/history.md.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from scanner import runfolders
from scanner.compact import FindingLog
from scanner.evidence import scope_of
from scanner.results import Run

DB = "history.sqlite"
VERSION = 1
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE, started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL, mode TEXT NOT NULL, scope TEXT NOT NULL, profile TEXT NOT NULL,
  inventory TEXT NOT NULL, fail_on TEXT NOT NULL, folder TEXT NOT NULL,
  in_scope INTEGER NOT NULL, assessed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS hosts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS controls (
  id INTEGER PRIMARY KEY, control TEXT NOT NULL UNIQUE, area TEXT NOT NULL,
  title_ja TEXT NOT NULL, title_en TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run_hosts (
  run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, host INTEGER NOT NULL REFERENCES hosts(id),
  status TEXT NOT NULL, zone TEXT NOT NULL, role TEXT NOT NULL, owner TEXT NOT NULL,
  PRIMARY KEY (run, host)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS findings (
  run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, host INTEGER NOT NULL REFERENCES hosts(id),
  control INTEGER NOT NULL REFERENCES controls(id), status TEXT NOT NULL, severity TEXT NOT NULL,
  PRIMARY KEY (run, host, control)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS findings_by_key ON findings (host, control, run);
"""


@contextmanager
def connect(out: Path) -> Iterator[sqlite3.Connection]:
    """Open (and create) the history database of a reports folder; commit on success."""
    out.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(out / DB, timeout=60)) as db:
        db.execute("PRAGMA foreign_keys = ON")
        db.executescript(_TABLES)
        db.execute("INSERT OR IGNORE INTO meta VALUES ('version', ?)", (str(VERSION),))
        with db:
            yield db


def _ids(db: sqlite3.Connection, table: str, column: str, names: set[str]) -> dict[str, int]:
    db.executemany(f"INSERT OR IGNORE INTO {table} ({column}) VALUES (?)", [(n,) for n in sorted(names)])
    return {name: i for i, name in db.execute(f"SELECT id, {column} FROM {table}")}


def add(db: sqlite3.Connection, run: Run, folder: Path) -> None:
    """Record one run: its hosts and every finding (one pass over them). A known run is left alone."""
    if db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run.run_id,)).fetchone():
        return
    cov = run.coverage()
    cursor = db.execute(
        "INSERT INTO runs (run_id, started_at, finished_at, mode, scope, profile, inventory, fail_on,"
        " folder, in_scope, assessed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run.run_id,
            run.started_at,
            run.finished_at,
            run.mode,
            json.dumps(scope_of(run), sort_keys=True, ensure_ascii=False),
            run.profile,
            run.inventory,
            run.fail_on.value,
            str(folder),
            cov["in_scope"],
            cov["assessed"],
        ),
    )
    rid = cursor.lastrowid
    if isinstance(run.findings, FindingLog):
        rows = list(run.findings.rows())
        entries = run.findings.catalog.controls
        titles = {
            c: (e.get("area", ""), e.get("title", {}).get("ja", ""), e.get("title", {}).get("en", ""))
            for c, e in entries.items()
        }
    else:
        rows = [(f.host, f.control_id, f.status.value, f.severity.value) for f in run.findings]
        titles = {}
        for f in run.findings:
            titles.setdefault(f.control_id, (f.area, f.title_ja, f.title_en))
    hosts = _ids(db, "hosts", "name", {h.name for h in run.hosts} | {r[0] for r in rows})
    db.executemany(
        "INSERT INTO controls (control, area, title_ja, title_en) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (control) DO UPDATE SET area = excluded.area, title_ja = excluded.title_ja,"
        " title_en = excluded.title_en",
        [(c, *t) for c, t in titles.items()],
    )
    controls = {name: i for i, name in db.execute("SELECT id, control FROM controls")}
    db.executemany(
        "INSERT INTO run_hosts VALUES (?, ?, ?, ?, ?, ?)",
        [(rid, hosts[h.name], h.status, h.zone, h.role, h.owner) for h in run.hosts],
    )
    db.executemany(
        "INSERT OR REPLACE INTO findings VALUES (?, ?, ?, ?, ?)",
        [(rid, hosts[h], controls[c], s, sev) for h, c, s, sev in rows],
    )


def sync(out: Path) -> list[str]:
    """Add every complete run folder of ``out`` that the database does not hold yet; return their ids."""
    added: list[str] = []
    with connect(out) as db:
        known = {r for (r,) in db.execute("SELECT run_id FROM runs")}
        for folder in runfolders.runs(out):
            if folder.name not in known:
                run, _ = runfolders.load_run(folder)
                add(db, run, folder)
                added.append(run.run_id)
    return added


def run_ids(db: sqlite3.Connection, scope: str | None = None) -> list[str]:
    """Return run ids oldest first, of one scope (as ``scope_of`` gives it, JSON) or of all."""
    if scope is None:
        rows = db.execute("SELECT run_id FROM runs ORDER BY started_at, run_id")
    else:
        rows = db.execute("SELECT run_id FROM runs WHERE scope = ? ORDER BY started_at, run_id", (scope,))
    return [r for (r,) in rows]


def scope_json(db: sqlite3.Connection, run_id: str) -> str:
    row = db.execute("SELECT scope FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise ValueError(f"{run_id}: no such run in the history")
    return str(row[0])


def trend(db: sqlite3.Connection, scope: str, last: int = 10) -> list[dict[str, Any]]:
    """Return, for the last runs of a scope (oldest first), coverage and the count of each status."""
    runs = db.execute(
        "SELECT id, run_id, started_at, in_scope, assessed FROM runs WHERE scope = ?"
        " ORDER BY started_at DESC, run_id DESC LIMIT ?",
        (scope, last),
    ).fetchall()
    out = []
    for rid, run_id, started, in_scope, assessed in reversed(runs):
        counts = dict(
            db.execute("SELECT status, COUNT(*) FROM findings WHERE run = ? GROUP BY status", (rid,))
        )
        out.append(
            {
                "run_id": run_id,
                "started_at": started,
                "in_scope": in_scope,
                "assessed": assessed,
                "counts": counts,
            }
        )
    return out


_FAILING_SINCE = """
WITH scoped AS (SELECT id, started_at FROM runs WHERE scope = :scope AND started_at <= :until),
last AS (SELECT id, started_at FROM runs WHERE run_id = :run),
open AS (SELECT f.host, f.control, f.severity FROM findings f JOIN last ON f.run = last.id WHERE f.status = 'fail'),
broke AS (
  SELECT o.host, o.control, MAX(s.started_at) AS at FROM open o JOIN scoped s
  LEFT JOIN findings g ON g.run = s.id AND g.host = o.host AND g.control = o.control
  WHERE g.status IS NULL OR g.status != 'fail' GROUP BY o.host, o.control)
SELECT h.name, c.control, o.severity, c.title_ja, c.title_en,
  (SELECT MIN(s.started_at) FROM scoped s WHERE s.started_at > COALESCE(b.at, '')) AS since
FROM open o JOIN hosts h ON h.id = o.host JOIN controls c ON c.id = o.control
LEFT JOIN broke b ON b.host = o.host AND b.control = o.control
ORDER BY since, h.name, c.control
"""


def failing_since(db: sqlite3.Connection, run_id: str, today: date | None = None) -> list[dict[str, Any]]:
    """Return each failure of a run with the first run of its unbroken streak of failing and its age.

    A run of the same scope in which the finding did not fail (passed, was waived, could not be
    assessed, or was absent) breaks the streak.
    """
    row = db.execute("SELECT started_at FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        raise ValueError(f"{run_id}: no such run in the history")
    params = {"scope": scope_json(db, run_id), "until": row[0], "run": run_id}
    day = today or date.fromisoformat(row[0][:10])
    return [
        {
            "host": host,
            "control": control,
            "severity": severity,
            "title": {"ja": ja, "en": en},
            "since": since[:10],
            "days": (day - date.fromisoformat(since[:10])).days,
        }
        for host, control, severity, ja, en, since in db.execute(_FAILING_SINCE, params)
    ]


def statuses(db: sqlite3.Connection, run_id: str) -> dict[tuple[str, str], tuple[str, str]]:
    """Return (host, control) → (status, severity) of one run."""
    rows = db.execute(
        "SELECT h.name, c.control, f.status, f.severity FROM findings f JOIN runs r ON r.id = f.run"
        " JOIN hosts h ON h.id = f.host JOIN controls c ON c.id = f.control WHERE r.run_id = ?",
        (run_id,),
    )
    return {(h, c): (s, sev) for h, c, s, sev in rows}


def host_statuses(db: sqlite3.Connection, run_id: str) -> dict[str, str]:
    rows = db.execute(
        "SELECT h.name, rh.status FROM run_hosts rh JOIN runs r ON r.id = rh.run"
        " JOIN hosts h ON h.id = rh.host WHERE r.run_id = ?",
        (run_id,),
    )
    return dict(rows.fetchall())


def titles(db: sqlite3.Connection) -> dict[str, tuple[str, str]]:
    return {c: (ja, en) for c, ja, en in db.execute("SELECT control, title_ja, title_en FROM controls")}
