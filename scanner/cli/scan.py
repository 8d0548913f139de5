"""``kijun scan``: scan hosts and write a dated run folder; its printing (summary, baseline, progress)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from scanner.cli import common
from scanner.cli.progress import Ticker, on_terminal
from scanner.errors import LoadError, LoadErrors
from scanner.inventory import Inventory
from scanner.policy import Pack
from scanner.preflight import output_problem
from scanner.results import Severity


@click.command()
@click.argument("inventory", required=False)
@click.option("--profile", help="Profile (municipality): base, nerima, arakawa, bunkyo, or a YAML path.")
@common.runs_out_option
@common.formats_option
@click.option(
    "--fail-on", type=click.Choice(common.SEVERITIES), help="Lowest severity that fails the scan (exit 1)."
)
@click.option(
    "--limit",
    multiple=True,
    help="Hosts: a name glob, or key=value[,key=value] (zone, role, site, owner, label:K).",
)
@common.path_option("--root", "Scan a folder as a host's root (no inventory).", folder=True)
@click.option("--local", is_flag=True, help="Scan this machine (no inventory).")
@common.waivers_option
@click.option(
    "--mode",
    default="on-demand",
    show_default=True,
    type=click.Choice(common.MODES),
    help="Why the run is made, recorded in it and its reports (audit also turns on --full-sweep).",
)
@click.option(
    "--parallel",
    default=32,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Hosts collected at once (threads: collection waits on the network).",
)
@click.option(
    "--workers",
    default=0,
    type=click.IntRange(0, 256),
    help="Processes that parse and evaluate (default 0: one per core).",
)
@click.option(
    "--progress-every",
    default=500,
    show_default=True,
    type=click.IntRange(1),
    help="Without a terminal (cron, CI): a progress line on stderr every N hosts or 10 s.",
)
@common.timeout_option
@common.path_option(
    "--snapshots",
    "Read every host's raw facts from DIR/<host>.json (made by `kijun collect`) instead of collecting.",
    folder=True,
)
@click.option(
    "--probe/--no-probe",
    default=True,
    show_default=True,
    help="Run the zone probes (nmap) from the vantages the zone policy declares.",
)
@click.option(
    "--vantage", "vantages", multiple=True, help="Probe from this vantage (declared, a host, or local:ZONE)."
)
@common.path_option(
    "--zone-policy",
    "Zone reachability matrix (default: the inventory's zones.yaml, else the pack's default).",
)
@click.option(
    "--egress-probe",
    is_flag=True,
    help="Each collected host connects to a few targets in the zones it must not reach (TCP, no payload).",
)
@click.option(
    "--full-sweep",
    is_flag=True,
    help="Sweep every TCP port of the NET-01 zone pairs (always on with --mode audit; cost printed first).",
)
@common.tofu_option(
    "Accept and record unknown SSH host keys (default: refuse them; a changed key is always refused)."
)
@click.option(
    "--allow-incomplete", is_flag=True, help="Exit 0 instead of 3 when hosts could not be assessed."
)
@click.option(
    "--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Date for waiver expiry (default: today)."
)
@common.record_options
@common.junit_options
@common.path_option(
    "--attestations",
    "Folder of 自己点検 attestations (`kijun attest`; default: <inventory>/attestations).",
    folder=True,
)
@common.path_option(
    "--attestation-key", "Public key: accept only attestations it signed (repeatable).", multiple=True
)
@click.option(
    "--baseline",
    help="A run (id, folder or `latest`) whose failures are known: only failures not in it fail the exit code.",
)
@click.option("--quiet", is_flag=True, help="Print only the run folder.")
def scan(
    inventory: str | None,
    profile: str | None,
    out: str,
    formats: tuple[str, ...],
    fail_on: str | None,
    limit: tuple[str, ...],
    root: str | None,
    local: bool,
    waivers: str | None,
    mode: str,
    parallel: int,
    workers: int,
    progress_every: int,
    timeout: float,
    snapshots: str | None,
    probe: bool,
    vantages: tuple[str, ...],
    egress_probe: bool,
    full_sweep: bool,
    zone_policy: str | None,
    tofu: bool,
    allow_incomplete: bool,
    as_of: Any,
    baseline: str | None,
    operator: str,
    operator_role: str,
    sign_key: str | None,
    risk_scales: str | None,
    junit_failures_only: bool,
    junit_not_applicable: bool,
    attestations: str | None,
    attestation_key: tuple[str, ...],
    quiet: bool,
) -> None:
    """Scan hosts against the 対策基準 and write reports/<run-id>/ (default: the example ward).

    \b
    Exit codes: 0 clean; 1 a failure at or above --fail-on (with --baseline: one the baseline
    run did not have); 2 bad input, nothing contacted; 3 incomplete (unreachable or error) with
    nothing failed, 0 with --allow-incomplete.
    """
    inv, pack, loaded = common.load(inventory, root, local, profile, waivers)
    attested = _attestations(inv, pack, attestations, attestation_key, bool(root or local))
    known = _baseline(baseline, Path(out))
    if snapshots:
        from scanner.collect.bulk import with_snapshots

        inv = with_snapshots(inv, Path(snapshots))
    from scanner import history, selection
    from scanner import run as runmod
    from scanner.report import console

    common.check_role(operator_role, pack.profile.roles)
    common.trust_on_first_use(tofu)
    key = common.private_key(sign_key)
    render = common.renderer(formats, risk_scales, junit_failures_only, junit_not_applicable, Path(out))

    options = runmod.Options(
        mode=mode,
        parallel=parallel,
        timeout=timeout,
        fail_on=Severity(fail_on) if fail_on else None,
        limit=limit,
        operator=operator,
        operator_role=operator_role,
        today=as_of.date() if as_of else None,
        probe=probe,
        vantages=vantages,
        zone_policy=zone_policy or "",
        egress_probe=egress_probe,
        full_sweep=full_sweep,
        attestations=attested,
        workers=workers,
    )
    if probe:
        from scanner.probes import for_inventory, vantages_for

        try:  # a bad zones.yaml or vantage stops here, before any host is contacted
            vantages_for(for_inventory(inv, Path(zone_policy) if zone_policy else None, pack), inv, options)
        except (LoadError, LoadErrors) as exc:
            common.bad_input(exc)
    if not selection.select(inv, limit):
        common.bad_input(ValueError(f"--limit {' '.join(limit)} selects no host of {inv.path}"))
    if problem := output_problem(Path(out), len(inv.hosts)):
        common.bad_input(ValueError(problem))
    from scanner import stream

    progress = None if quiet else on_terminal() if sys.stderr.isatty() else Ticker(progress_every)

    def scan_into(folder: Path) -> Any:
        return stream.scan(inv, pack, loaded, options, folder, progress)

    folder, result = history.scan_run(Path(out), scan_into, render, key)  # counts kept, not re-read
    code = result.exit_code(allow_incomplete)
    if not quiet:
        click.echo(console.render(result, color=sys.stdout.isatty(), allow_incomplete=allow_incomplete))
    if known is not None:
        code, text = _against(result, known, allow_incomplete, baseline or "")
        click.echo(text)
    click.echo(f"report: {folder}")
    sys.exit(code)


def _baseline(ref: str | None, out: Path) -> set[str] | None:
    """Return the keys (host/control) failing in the baseline run, or exit 2 before any host is touched."""
    if ref is None:
        return None
    from scanner import history

    try:
        return {f.key for f in history.load_run(ref, out)[0].tally.fails}
    except (ValueError, OSError, KeyError) as exc:
        common.bad_input(ValueError(f"--baseline {ref}: {exc}"))


def _against(result: Any, known: set[str], allow_incomplete: bool, ref: str) -> tuple[int, str]:
    """Return the exit code when failures already in the baseline do not count, and a line saying so."""
    failed = result.failed()
    new = [f for f in failed if f.key not in known]
    code = 1 if new else 3 if result.incomplete() and not allow_incomplete else 0
    text = (
        f"ベースライン baseline {ref}: 既知の不適合 known failures {len(failed) - len(new)}, "
        f"新規 new {len(new)}"
        + "".join(f"\n  新規 new: {f.host} {f.control_id}" for f in new)
        + f"\n終了コード exit code {code} (ベースライン適用 with the baseline)"
    )
    return code, text


def _attestations(
    inv: Inventory, pack: Pack, folder: str | None, trusted: tuple[str, ...], scanned_tree: bool
) -> tuple[Any, ...]:
    """Load 自己点検 attestations (the option's folder, else the inventory's), or exit 2.

    A scanned tree (--root, --local) is what is judged, never where its own answers come from.
    """
    from scanner import attest as attestmod

    if not folder and scanned_tree:
        return ()
    from scanner.evidence import role_titles

    path = Path(folder) if folder else inv.base_dir / "attestations"
    try:
        loaded = attestmod.load(path, common.public_keys(trusted) if trusted else None)
    except LoadError as exc:
        common.bad_input(exc)
    titles = role_titles(pack.profile.roles)
    for item in loaded:
        if titles and item.role not in titles:
            why = f"role {item.role!r} is not a role of this profile ({', '.join(titles)})"
            common.bad_input(LoadError(str(path), None, f"{item.key} ({item.source}): {why}"))
    return tuple(loaded)
