"""``kijun diff``, ``report`` and ``merge``: work on runs already written (compare, re-render, combine)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from scanner.cli import common
from scanner.diff import render_text
from scanner.preflight import output_problem


@click.command("diff")
@click.argument("runs", nargs=-1)
@common.reports_option
@common.json_option
@click.option(
    "--fail-on-new", is_flag=True, help="Exit 1 when a finding is new or regressed in NEW (for CI gates)."
)
def diff_cmd(runs: tuple[str, ...], out: str, as_json: bool, fail_on_new: bool) -> None:
    """Compare two runs: kijun diff [OLD] [NEW] (default: the previous run of the same scope, and latest).

    Runs of the reports folder are compared by query in its findings history (history.sqlite);
    run folders elsewhere are read from their JSON.

    \b
    Exit codes: 0 compared (or nothing new with --fail-on-new); 1 --fail-on-new and a finding
    is new or regressed; 2 bad input (no such run).
    """
    from scanner import history

    if len(runs) > 2:
        common.bad_input(ValueError("kijun diff takes at most two runs: OLD NEW"))
    try:
        new, new_folder = history.load_run(runs[1] if len(runs) == 2 else "latest", Path(out))
        if runs:
            old, old_folder = history.load_run(runs[0], Path(out))
        else:
            before = history.previous(Path(out), new)
            if before is None:
                raise ValueError(f"no earlier run of the same scope as {new.run_id} in {out}")
            old, old_folder = history.load_run(before)
        result = _compare(Path(out), old, old_folder, new, new_folder)
    except ValueError as exc:
        common.bad_input(exc)
    click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2) if as_json else render_text(result))
    if fail_on_new and (result.new or result.regressed):
        sys.exit(1)


def _compare(out: Path, old: Any, old_folder: Path, new: Any, new_folder: Path) -> Any:
    """Diff by query when both runs are in ``out`` (syncing its history first), else from the JSON."""
    from scanner import diff, ledger

    home = out.resolve()
    if old_folder.resolve().parent == home and new_folder.resolve().parent == home:
        ledger.sync(out)
        with ledger.connect(out) as db:
            return diff.from_history(db, old.run_id, new.run_id)
    return diff.diff(old, new)


@click.command()
@click.argument("run")
@common.formats_option
@common.out_option(".", "Folder to write into.")
@common.out_option("reports", "Where to look up a run id.", name="--reports")
@common.risk_scales_option
@common.junit_options
def report(
    run: str,
    formats: tuple[str, ...],
    out: str,
    reports: str,
    risk_scales: str | None,
    junit_failures_only: bool,
    junit_not_applicable: bool,
) -> None:
    """Re-render a run (folder, results.json or run id) into report files."""
    from scanner import history

    try:
        result, folder = history.load_run(run, Path(reports))
        prev_id = (result.envelope.get("previous_run") or {}).get("run_id")
        prev = (
            history.load_run(folder.parent / prev_id)[0]
            if prev_id and (folder.parent / prev_id).is_dir()
            else None
        )
    except ValueError as exc:
        common.bad_input(exc)
    target = Path(out)
    if problem := output_problem(target):
        common.bad_input(ValueError(problem))
    if (target / "manifest.json").exists():
        common.bad_input(
            ValueError(f"{target} is a run folder; writing there would add files its manifest does not list")
        )
    render = common.renderer(formats, risk_scales, junit_failures_only, junit_not_applicable, folder.parent)
    from scanner.report.writing import expand

    for rel, data in expand(render(result, prev)).items():
        history.atomic_write(target / rel, data)
        click.echo(f"wrote {target / rel}")
    if not formats or "json" in formats:
        for path in history.write_results(target, result):  # results.json + findings.jsonl
            click.echo(f"wrote {path}")


@click.command()
@click.argument("bundles", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@common.path_option(
    "--trust", "Public key (.pub) of a zone scanner; repeat for each zone.", multiple=True, required=True
)
@common.runs_out_option
@common.formats_option
@click.option(
    "--mode",
    type=click.Choice(common.MODES),
    help="Mode of the merged run (default: the bundles' common mode).",
)
@common.record_options
@common.junit_options
def merge(
    bundles: tuple[str, ...],
    trust: tuple[str, ...],
    out: str,
    formats: tuple[str, ...],
    mode: str | None,
    operator: str,
    operator_role: str,
    sign_key: str | None,
    risk_scales: str | None,
    junit_failures_only: bool,
    junit_not_applicable: bool,
) -> None:
    """Verify signed zone bundles and merge them into one run for the whole 区."""
    from scanner import history
    from scanner import merge as mergemod

    key = common.private_key(sign_key)
    render = common.renderer(formats, risk_scales, junit_failures_only, junit_not_applicable, Path(out))
    if problem := output_problem(Path(out)):
        common.bad_input(ValueError(problem))
    try:
        merged = mergemod.merge(
            [Path(b) for b in bundles], common.public_keys(trust), mode, operator, operator_role
        )
    except mergemod.MergeError as exc:
        common.bad_input(exc)
    common.check_role(operator_role, merged.run.envelope.get("roles", {}))
    folder = history.record(
        Path(out), merged.run, merged.evidence, lambda r, p: {**render(r, p), **merged.files}, key
    )
    cov = merged.run.coverage()
    click.echo(
        f"merged {len(bundles)} bundles: {cov['assessed']}/{cov['in_scope']} hosts, "
        f"{len(merged.run.findings)} findings"
    )
    click.echo(f"report: {folder}")
