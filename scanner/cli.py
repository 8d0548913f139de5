"""The ``kijun`` command: parse arguments, call the library, print, and exit with the documented code.

Exit codes: 0 clean, 1 a failure at or above --fail-on, 2 bad input or usage, 3 incomplete scan.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

from pathlib import Path
from typing import Any, NoReturn

import click

from scanner import __version__, content
from scanner import facts as factsmod
from scanner.errors import LoadError, LoadErrors
from scanner.inventory import Inventory, local_host, single_host
from scanner.inventory import load as load_inventory
from scanner.policy import Pack, load_pack
from scanner.results import Severity
from scanner.waivers import Waiver, load_waivers

SEVERITIES = [s.value for s in Severity]
FORMATS = ("json", "junit", "html")


def _bad_input(exc: Exception) -> NoReturn:
    click.echo(f"kijun: {exc}", err=True)
    click.echo("入力エラーのため、どのホストにも接続せずに終了します / bad input: no host was contacted", err=True)
    sys.exit(2)


def _load(inventory: str | None, root: str | None, local: bool, profile: str | None,
          waivers: str | None) -> tuple[Inventory, Pack, list[Waiver]]:
    """Load inventory, pack and waivers, or exit 2 with file:line."""
    try:
        if root:
            inv = single_host(Path(root))
        elif local:
            inv = local_host()
        else:
            inv = load_inventory(Path(inventory) if inventory else content.example_inventory())
        pack = load_pack(profile or inv.profile or "base")
        folder = Path(waivers) if waivers else inv.waivers_dir
        return inv, pack, load_waivers(folder, pack)
    except (LoadError, LoadErrors) as exc:
        _bad_input(exc)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kijun")
def main() -> None:
    """kijun (基準): 情報セキュリティ対策基準 compliance scanner / policy-as-code for municipalities."""


@main.command()
@click.argument("inventory", required=False)
@click.option("--profile", help="Profile (municipality): base, nerima, arakawa, bunkyo, or a YAML path.")
@click.option("--out", default="reports", show_default=True, type=click.Path(file_okay=False), help="Folder for dated runs.")
@click.option("--format", "formats", multiple=True, type=click.Choice(FORMATS), help="Files to write (default: all).")
@click.option("--fail-on", type=click.Choice(SEVERITIES), help="Lowest severity that fails the scan (exit 1).")
@click.option("--limit", multiple=True, help="Hosts: a name glob, or key=value[,key=value] (zone, role, site, owner, label:K).")
@click.option("--root", type=click.Path(exists=True, file_okay=False), help="Scan a folder as a host's root (no inventory).")
@click.option("--local", is_flag=True, help="Scan this machine (no inventory).")
@click.option("--waivers", type=click.Path(exists=True, file_okay=False), help="Folder of 例外措置 YAML files.")
@click.option("--mode", default="on-demand", show_default=True,
              type=click.Choice(["scheduled", "self-inspection", "audit", "ci", "on-demand"]))
@click.option("--parallel", default=32, show_default=True, type=click.IntRange(1, 1024))
@click.option("--timeout", default=120.0, show_default=True, help="Seconds per host.")
@click.option("--allow-incomplete", is_flag=True, help="Exit 0 instead of 3 when hosts could not be assessed.")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Date for waiver expiry (default: today).")
@click.option("--operator", default="", help="Who runs the scan (recorded in the run envelope).")
@click.option("--quiet", is_flag=True, help="Print only the run folder.")
def scan(inventory: str | None, profile: str | None, out: str, formats: tuple[str, ...], fail_on: str | None,
         limit: tuple[str, ...], root: str | None, local: bool, waivers: str | None, mode: str, parallel: int,
         timeout: float, allow_incomplete: bool, as_of: Any, operator: str, quiet: bool) -> None:
    """Scan hosts against the 対策基準 and write reports/<run-id>/ (default: the example ward)."""
    inv, pack, loaded = _load(inventory, root, local, profile, waivers)
    from scanner import run as runmod
    from scanner.history import write_run
    from scanner.report import console

    options = runmod.Options(
        mode=mode, parallel=parallel, timeout=timeout, fail_on=Severity(fail_on) if fail_on else None,
        limit=limit, operator=operator, today=as_of.date() if as_of else None,
    )
    if not runmod.select(inv, limit):
        _bad_input(ValueError(f"--limit {' '.join(limit)} selects no host of {inv.path}"))
    progress = _progress if sys.stderr.isatty() and not quiet else None
    result, raws = runmod.scan(inv, pack, loaded, options, progress)
    folder = write_run(Path(out), result, raws, _renderers(formats or FORMATS))
    if not quiet:
        click.echo(console.render(result, color=sys.stdout.isatty(), allow_incomplete=allow_incomplete))
    click.echo(f"report: {folder}")
    sys.exit(result.exit_code(allow_incomplete))


def _renderers(formats: tuple[str, ...]) -> dict[str, Callable[[Any], str]]:
    from scanner.report import html, junit
    from scanner.report import json as json_report

    table: dict[str, tuple[str, Callable[[Any], str]]] = {
        "json": ("results.json", json_report.render),
        "junit": ("junit.xml", junit.render),
        "html": ("report.html", html.render),
    }
    return dict(table[f] for f in formats)


def _progress(done: int, total: int, item: Any) -> None:
    click.echo(f"\r[{done}/{total}] {item.host.name:<30.30}", nl=done == total, err=True)


@main.command()
@click.option("--cases", "cases", type=click.Path(exists=True, file_okay=False), help="Folder of case files.")
@click.option("--profile", default="base", show_default=True)
def verify(cases: str | None, profile: str) -> None:
    """Run the check cases (pass/fail data per check) and report which disagree."""
    from scanner.verify import case_files, run_case

    try:
        pack = load_pack(profile)
        results = [r for path in case_files(Path(cases) if cases else content.cases_dir()) for r in run_case(path, pack)]
    except (LoadError, LoadErrors) as exc:
        _bad_input(exc)
    failed = [r for r in results if not r.ok]
    for r in failed:
        click.echo(f"FAIL {r.case}: {r.check_id}: expected {r.expected}, got {r.actual} ({r.message})")
    click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("inventories", nargs=-1)
@click.option("--profile", help="Profile to load (default: the inventory's, else base).")
@click.option("--waivers", type=click.Path(exists=True, file_okay=False))
def lint(inventories: tuple[str, ...], profile: str | None, waivers: str | None) -> None:
    """Validate checks, policies, a profile, inventories and waivers without touching any host."""
    for item in inventories or (None,):
        inv, pack, loaded = _load(item, None, False, profile, waivers)
        click.echo(f"ok: {inv.path}: {len(inv.hosts)} hosts; profile {pack.profile.name}: "
                   f"{len(pack.controls)} controls, {len(pack.checks)} checks; {len(loaded)} waivers")


@main.command()
@click.option("--profile", default="base", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def controls(profile: str, as_json: bool) -> None:
    """List the controls in force for a profile, with citations and parameters."""
    try:
        pack = load_pack(profile)
    except (LoadError, LoadErrors) as exc:
        _bad_input(exc)
    rows: list[dict[str, Any]] = []
    for c in pack.controls.values():
        params = pack.params_for(c, "")
        rows.append({
            "id": c.id, "area": c.area, "kind": "manual" if c.manual else "machine", "severity": c.severity.value,
            "title": {"ja": c.title_ja, "en": c.title_en}, "guideline": c.guideline,
            "citations": list(pack.profile.citations.get(c.id, ())),
            "params": {k: {**v, "by_zone": c.params[k].by_zone} for k, v in params.items()},
            "checks": list(c.checks),
        })
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    click.echo(f"{pack.profile.name_ja} / {pack.profile.name_en}")
    for r in rows:
        cite = "; ".join(f"{x.get('doc', '')} {x.get('article', '')}".strip() for x in r["citations"]) or r["guideline"]
        click.echo(f"{r['id']:<7} {r['area']:<15} {r['kind']:<7} {r['severity']:<8} {r['title']['ja']} / {r['title']['en']}")
        if cite:
            click.echo(f"        根拠 citation: {cite}")
        for name, p in r["params"].items():
            click.echo(f"        {name} = {p['value']!r}  (source: {p['source']})")
    by_area: dict[str, list[int]] = {}
    for r in rows:
        counts = by_area.setdefault(r["area"], [0, 0])
        counts[0 if r["kind"] == "machine" else 1] += 1
    for area, (machine, manual) in sorted(by_area.items()):
        click.echo(f"coverage {area}: {machine} machine-checked, {manual} manual")


@main.command()
@click.argument("args", nargs=-1, required=True)
@click.option("--raw", is_flag=True, help="Print the raw facts instead of the parsed facts.")
@click.option("--profile", help="Profile (decides which subjects are collected).")
def facts(args: tuple[str, ...], raw: bool, profile: str | None) -> None:
    """Print one host's parsed facts as JSON: kijun facts [INVENTORY] HOST."""
    from scanner.collect import CollectError, plan_for, transport_for

    inventory, host_name = (args[0], args[1]) if len(args) > 1 else (None, args[0])
    inv, _pack, _ = _load(inventory, None, False, profile, None)
    host = inv.host(host_name)
    if host is None:
        _bad_input(ValueError(f"no host {host_name!r} in {inv.path}"))
    subjects = set(factsmod.SUBJECTS) - {"host"}
    try:
        collected = transport_for(host)(host, plan_for(subjects), 120.0)
    except CollectError as exc:
        click.echo(f"kijun: {host.name}: {exc.status}: {exc.message}", err=True)
        sys.exit(3)
    if raw:
        click.echo(json.dumps(collected.to_json(), ensure_ascii=False, indent=2))
        return
    parsed = factsmod.build(collected, factsmod.Context(host, inv))
    click.echo(json.dumps({"host": host.name, "facts": parsed.tree, "errors": parsed.errors},
                          ensure_ascii=False, indent=2, default=str))


