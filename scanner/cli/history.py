"""``kijun history``: the findings history (reports/history.sqlite) — sync, trend, failing since."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from scanner import history as runs
from scanner import ledger
from scanner.cli import common


@click.group("history")
def history() -> None:
    """Query the findings history of a reports folder (SQLite; the run folders stay the evidence)."""


@history.command("sync")
@common.reports_option
def sync(out: str) -> None:
    """Add every run folder the history does not hold yet (also rebuilds a deleted history.sqlite)."""
    added = ledger.sync(Path(out))
    click.echo(f"{len(added)} runs added to {Path(out) / ledger.DB}")


def _latest(out: Path, run: str) -> str:
    try:
        found, _ = runs.load_run(run, out)
    except ValueError as exc:
        click.echo(f"kijun: {exc}", err=True)
        sys.exit(2)
    ledger.sync(out)
    return found.run_id


@history.command("trend")
@click.argument("run", default="latest")
@common.reports_option
@click.option("--last", default=10, show_default=True, type=click.IntRange(1), help="How many runs.")
@common.json_option
def trend(run: str, out: str, last: int, as_json: bool) -> None:
    """Coverage and the count of each status over the last runs of RUN's scope."""
    run_id = _latest(Path(out), run)
    with ledger.connect(Path(out)) as db:
        rows = ledger.trend(db, ledger.scope_json(db, run_id), last)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    click.echo(
        "run                        対象 coverage  不適合 fail  エラー error  未到達 unreachable  例外 waived"
    )
    for r in rows:
        c = r["counts"]
        click.echo(
            f"{r['run_id']:<26} {r['assessed']:>5}/{r['in_scope']:<8} {c.get('fail', 0):>9} "
            f"{c.get('error', 0):>12} {c.get('unreachable', 0):>18} {c.get('waived', 0):>11}"
        )


@history.command("failing")
@click.argument("run", default="latest")
@common.reports_option
@common.json_option
def failing(run: str, out: str, as_json: bool) -> None:
    """Each failure of RUN with since when it has been failing without a break, and for how many days."""
    run_id = _latest(Path(out), run)
    with ledger.connect(Path(out)) as db:
        rows: list[dict[str, Any]] = ledger.failing_since(db, run_id)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(
            f"{r['host']}  {r['control']} [{r['severity']}]  {r['since']} から不適合 failing since {r['since']}, "
            f"{r['days']} 日 days  {r['title']['ja']}"
        )
    click.echo(f"不適合 failures: {len(rows)}")
