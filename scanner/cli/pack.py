"""``kijun verify``, ``lint`` and ``controls``: the content (checks, policies, profiles) without any host."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from scanner import content
from scanner.cli import common
from scanner.errors import LoadError, LoadErrors


@click.command()
@common.path_option("--cases", "Folder of case files.", folder=True)
@common.profile_option
def verify(cases: str | None, profile: str) -> None:
    """Run the check cases (pass/fail data per check) and report which disagree."""
    from scanner.verify import case_files, run_case

    pack = common.load_profile(profile)
    try:
        results = [
            r
            for path in case_files(Path(cases) if cases else content.cases_dir())
            for r in run_case(path, pack)
        ]
    except (LoadError, LoadErrors) as exc:
        common.bad_input(exc)
    failed = [r for r in results if not r.ok]
    for r in failed:
        click.echo(f"FAIL {r.case}: {r.check_id}: expected {r.expected}, got {r.actual} ({r.message})")
    click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


@click.command()
@click.argument("inventories", nargs=-1)
@click.option("--profile", help="Profile to load (default: the inventory's, else base).")
@common.waivers_option
def lint(inventories: tuple[str, ...], profile: str | None, waivers: str | None) -> None:
    """Validate checks, policies, a profile, inventories and waivers without touching any host."""
    for item in inventories or (None,):
        inv, pack, loaded = common.load(item, None, False, profile, waivers)
        click.echo(
            f"ok: {inv.path}: {len(inv.hosts)} hosts; profile {pack.profile.name}: "
            f"{len(pack.controls)} controls, {len(pack.checks)} checks; {len(loaded)} waivers"
        )


@click.command()
@common.profile_option
@common.json_option
def controls(profile: str, as_json: bool) -> None:
    """List the controls in force for a profile, with citations and parameters."""
    pack = common.load_profile(profile)
    from scanner.catalog import catalog_rows, render_catalog

    if as_json:
        click.echo(json.dumps(catalog_rows(pack), ensure_ascii=False, indent=2))
    else:
        click.echo(render_catalog(pack), nl=False)
