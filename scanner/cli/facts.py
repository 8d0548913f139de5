"""``kijun facts``, ``collect`` and ``windows-collector``: reading hosts without judging them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from scanner import facts as factsmod
from scanner.cli import common
from scanner.preflight import output_problem


@click.command()
@click.argument("args", nargs=-1, required=True)
@click.option("--raw", is_flag=True, help="Print the raw facts instead of the parsed facts.")
@click.option("--profile", help="Profile (decides which subjects are collected).")
def facts(args: tuple[str, ...], raw: bool, profile: str | None) -> None:
    """Print one host's parsed facts as JSON: kijun facts [INVENTORY] HOST."""
    from scanner.collect import CollectError, plan_for, transport_for

    inventory, host_name = (args[0], args[1]) if len(args) > 1 else (None, args[0])
    inv, pack, _ = common.load(inventory, None, False, profile, None)
    host = inv.host(host_name)
    if host is None:
        common.bad_input(ValueError(f"no host {host_name!r} in {inv.path}"))
    from scanner.selection import subjects_for

    # What a scan of this host reads (its platform's subjects), not every subject of every platform.
    subjects = subjects_for(pack, host) - {"host"}
    try:
        collected = transport_for(host)(host, plan_for(subjects), 120.0)
    except CollectError as exc:
        click.echo(f"kijun: {host.name}: {exc.status}: {exc.message}", err=True)
        sys.exit(3)
    if raw:
        click.echo(json.dumps(collected.to_json(), ensure_ascii=False, indent=2))
        return
    parsed = factsmod.build(collected, factsmod.Context(host, inv), subjects | {"host"})
    click.echo(
        json.dumps(
            {"host": host.name, "facts": parsed.tree, "errors": parsed.errors},
            ensure_ascii=False,
            indent=2,
            default=str,
        )
    )


@click.command()
@click.argument("inventory", required=False)
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Folder for <host>.json and collect.json."
)
@click.option("--profile", help="Profile (decides which facts are collected).")
@click.option("--limit", multiple=True, help="Hosts: a name glob, or key=value[,key=value].")
@click.option(
    "--parallel", default=32, show_default=True, type=click.IntRange(1, 1024), help="Hosts collected at once."
)
@common.timeout_option
@common.tofu_option("Accept and record unknown SSH host keys.")
def collect(
    inventory: str | None,
    out: str,
    profile: str | None,
    limit: tuple[str, ...],
    parallel: int,
    timeout: float,
    tofu: bool,
) -> None:
    """Collect raw facts only, to carry across separated zones: later `kijun scan --snapshots DIR`."""
    from scanner import selection
    from scanner.collect.bulk import collect_to_folder

    inv, pack, _ = common.load(inventory, None, False, profile, None)
    hosts, _excluded = selection.scope(selection.select(inv, limit), pack)
    if not hosts:
        common.bad_input(ValueError(f"--limit {' '.join(limit)} selects no host of {inv.path}"))
    if problem := output_problem(Path(out), len(hosts)):
        common.bad_input(ValueError(problem))
    common.trust_on_first_use(tofu)
    results = collect_to_folder(inv, pack, hosts, Path(out), parallel, timeout)
    missing = [r for r in results if r.status != "collected"]
    for r in missing:
        click.echo(f"{r.name}: {r.status}: {r.message}", err=True)
    click.echo(f"collected {len(results) - len(missing)}/{len(results)} hosts into {out}")
    sys.exit(3 if missing else 0)


@click.command("windows-collector")
def windows_collector() -> None:
    """Print the path of the PowerShell collector for Windows terminals (docs/windows.md)."""
    from importlib.resources import files

    click.echo(str(files("scanner").joinpath("collect/kijun-collect.ps1")))
