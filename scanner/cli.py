"""The ``kijun`` command: parse arguments, call the library, print, and exit with the documented code.

Exit codes: 0 clean, 1 a failure at or above --fail-on, 2 bad input or usage, 3 incomplete scan.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from scanner import __version__, content
from scanner import facts as factsmod
from scanner.cli_attest import attest
from scanner.diff import render_text
from scanner.errors import LoadError, LoadErrors
from scanner.inventories import load as load_inventory
from scanner.inventory import Inventory, local_host, single_host
from scanner.policy import Pack, load_pack
from scanner.preflight import output_problem, seconds
from scanner.results import Severity
from scanner.waivers import Waiver, load_waivers

SEVERITIES = [s.value for s in Severity]
FORMATS = ("json", "junit", "html", "sarif", "xlsx", "csv")


def _bad_input(exc: Exception) -> NoReturn:
    click.echo(f"kijun: {exc}", err=True)
    click.echo(
        "入力エラーのため、どのホストにも接続せずに終了します / bad input: no host was contacted", err=True
    )
    sys.exit(2)


def _load(
    inventory: str | None, root: str | None, local: bool, profile: str | None, waivers: str | None
) -> tuple[Inventory, Pack, list[Waiver]]:
    """Load inventory, pack and waivers, or exit 2 with file:line."""
    try:
        if root:
            inv = single_host(Path(root))
        elif local:
            inv = local_host()
        else:
            inv = load_inventory(Path(inventory) if inventory else content.example_inventory())
        from scanner.netdev.scan import check_inventory  # a device kijun cannot read stops here

        check_inventory(inv)
        pack = load_pack(profile or inv.profile or "base")
        folder = Path(waivers) if waivers else inv.waivers_dir
        return inv, pack, load_waivers(folder, pack, inv.zones)
    except (LoadError, LoadErrors) as exc:
        _bad_input(exc)


def _record_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the options that a written run records: operator, role, signing key, risk scales."""
    options = [
        click.option("--operator", default="", help="Who runs it (recorded in the run envelope)."),
        click.option(
            "--operator-role", default="", help="The role the operator acts in, in the profile's own titles."
        ),
        click.option(
            "--sign-key",
            envvar="KIJUN_SIGN_KEY",
            type=click.Path(dir_okay=False),
            help="ed25519 private key that signs the evidence (env KIJUN_SIGN_KEY; see `kijun keygen`).",
        ),
        click.option(
            "--risk-scales",
            type=click.Path(exists=True, dir_okay=False),
            help="YAML risk scales for the リスク登録簿.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _junit_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the JUnit options of the commands that write reports."""
    options = [
        click.option(
            "--junit-failures-only",
            is_flag=True,
            help="junit.xml lists only failures and errors, and only hosts that have one (big scans).",
        ),
        click.option(
            "--junit-not-applicable",
            is_flag=True,
            help="junit.xml also lists not_applicable controls (as skipped).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kijun")
def main() -> None:
    """kijun (基準): 情報セキュリティ対策基準 compliance scanner / policy-as-code for municipalities.

    \b
    Exit codes / 終了コード:
      0  clean: nothing at or above --fail-on failed, every host assessed
      1  a failure at or above --fail-on (scan; new ones only with --baseline),
         a new or regressed finding (diff --fail-on-new), verification failed
      2  bad input or usage: nothing was contacted
      3  incomplete: a host unreachable or a control in error, nothing failed
         (scan --allow-incomplete turns this into 0)
    """


main.add_command(attest)


@main.command()
@click.argument("inventory", required=False)
@click.option("--profile", help="Profile (municipality): base, nerima, arakawa, bunkyo, or a YAML path.")
@click.option(
    "--out",
    default="reports",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for dated runs.",
)
@click.option(
    "--format", "formats", multiple=True, type=click.Choice(FORMATS), help="Files to write (default: all)."
)
@click.option(
    "--fail-on", type=click.Choice(SEVERITIES), help="Lowest severity that fails the scan (exit 1)."
)
@click.option(
    "--limit",
    multiple=True,
    help="Hosts: a name glob, or key=value[,key=value] (zone, role, site, owner, label:K).",
)
@click.option(
    "--root",
    type=click.Path(exists=True, file_okay=False),
    help="Scan a folder as a host's root (no inventory).",
)
@click.option("--local", is_flag=True, help="Scan this machine (no inventory).")
@click.option(
    "--waivers", type=click.Path(exists=True, file_okay=False), help="Folder of 例外措置 YAML files."
)
@click.option(
    "--mode",
    default="on-demand",
    show_default=True,
    type=click.Choice(["scheduled", "self-inspection", "audit", "ci", "on-demand"]),
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
@click.option(
    "--timeout", default=120.0, show_default=True, callback=seconds, help="Seconds per host (0 < s ≤ 86400)."
)
@click.option(
    "--snapshots",
    type=click.Path(exists=True, file_okay=False),
    help="Read every host's raw facts from DIR/<host>.json (made by `kijun collect`) instead of collecting.",
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
@click.option(
    "--zone-policy",
    type=click.Path(exists=True, dir_okay=False),
    help="Zone reachability matrix (default: the inventory's zones.yaml, else the pack's default).",
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
@click.option(
    "--trust-on-first-use",
    "tofu",
    is_flag=True,
    help="Accept and record unknown SSH host keys (default: refuse them; a changed key is always refused).",
)
@click.option(
    "--allow-incomplete", is_flag=True, help="Exit 0 instead of 3 when hosts could not be assessed."
)
@click.option(
    "--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Date for waiver expiry (default: today)."
)
@_record_options
@_junit_options
@click.option(
    "--attestations",
    type=click.Path(exists=True, file_okay=False),
    help="Folder of 自己点検 attestations (`kijun attest`; default: <inventory>/attestations).",
)
@click.option(
    "--attestation-key",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Public key: accept only attestations it signed (repeatable).",
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
    inv, pack, loaded = _load(inventory, root, local, profile, waivers)
    attested = _attestations(inv, pack, attestations, attestation_key, bool(root or local))
    known = _baseline(baseline, Path(out))
    if snapshots:
        from scanner.collect.bulk import with_snapshots

        inv = with_snapshots(inv, Path(snapshots))
    from scanner import history, selection
    from scanner import run as runmod
    from scanner.report import console

    _check_role(operator_role, pack.profile.roles)
    if tofu:
        from scanner.collect import hostkeys

        hostkeys.trust_on_first_use = True
    key = _private_key(sign_key)
    render = history.outputs(
        formats, _scales(risk_scales), junit_failures_only, junit_not_applicable, Path(out)
    )

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
            _bad_input(exc)
    if not selection.select(inv, limit):
        _bad_input(ValueError(f"--limit {' '.join(limit)} selects no host of {inv.path}"))
    if problem := output_problem(Path(out), len(inv.hosts)):
        _bad_input(ValueError(problem))
    from scanner import stream

    progress = None if quiet else _progress if sys.stderr.isatty() else Ticker(progress_every)

    def scan_into(folder: Path) -> Any:
        return stream.scan(inv, pack, loaded, options, folder, progress)

    folder = history.record_scan(Path(out), scan_into, render, key)
    result = history.load_run(folder)[0]
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
        _bad_input(ValueError(f"--baseline {ref}: {exc}"))


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
        loaded = attestmod.load(path, _public_keys(trusted) if trusted else None)
    except LoadError as exc:
        _bad_input(exc)
    titles = role_titles(pack.profile.roles)
    for item in loaded:
        if titles and item.role not in titles:
            why = f"role {item.role!r} is not a role of this profile ({', '.join(titles)})"
            _bad_input(LoadError(str(path), None, f"{item.key} ({item.source}): {why}"))
    return tuple(loaded)


_not_assessed: list[str] = []


def _progress(done: int, total: int, result: Any) -> None:
    if not result.assessed:
        _not_assessed.append(result.name)
    line = f"\r[{done}/{total}] 未評価 not assessed: {len(_not_assessed)}  {result.name:<30.30}"
    click.echo(line, nl=done == total, err=True)


class Ticker:
    """Progress where no terminal is attached (cron, CI logs): a line every N hosts or 10 seconds."""

    def __init__(self, every: int, seconds: float = 10.0) -> None:
        self.every, self.seconds = every, seconds
        self.started = self.last = time.monotonic()
        self.not_assessed = 0

    def __call__(self, done: int, total: int, result: Any) -> None:
        self.not_assessed += 0 if result.assessed else 1
        now = time.monotonic()
        if not (
            done % self.every == 0
            or now - self.last >= self.seconds
            or (done == total and self.last > self.started)
        ):
            return
        self.last = now
        rate = done / max(now - self.started, 1e-9)
        eta = (total - done) / rate if rate else 0.0
        click.echo(
            f"kijun: {done}/{total} hosts ({100 * done / total:.1f}%), {rate:.1f} hosts/s, "
            f"ETA {int(eta) // 60}m{int(eta) % 60:02d}s, 未評価 not assessed {self.not_assessed}",
            err=True,
        )


@main.command()
@click.option("--cases", "cases", type=click.Path(exists=True, file_okay=False), help="Folder of case files.")
@click.option("--profile", default="base", show_default=True)
def verify(cases: str | None, profile: str) -> None:
    """Run the check cases (pass/fail data per check) and report which disagree."""
    from scanner.verify import case_files, run_case

    try:
        pack = load_pack(profile)
        results = [
            r
            for path in case_files(Path(cases) if cases else content.cases_dir())
            for r in run_case(path, pack)
        ]
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
        click.echo(
            f"ok: {inv.path}: {len(inv.hosts)} hosts; profile {pack.profile.name}: "
            f"{len(pack.controls)} controls, {len(pack.checks)} checks; {len(loaded)} waivers"
        )


@main.command()
@click.option("--profile", default="base", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def controls(profile: str, as_json: bool) -> None:
    """List the controls in force for a profile, with citations and parameters."""
    try:
        pack = load_pack(profile)
    except (LoadError, LoadErrors) as exc:
        _bad_input(exc)
    from scanner.catalog import catalog_rows, render_catalog

    if as_json:
        click.echo(json.dumps(catalog_rows(pack), ensure_ascii=False, indent=2))
    else:
        click.echo(render_catalog(pack), nl=False)


@main.command()
@click.argument("args", nargs=-1, required=True)
@click.option("--raw", is_flag=True, help="Print the raw facts instead of the parsed facts.")
@click.option("--profile", help="Profile (decides which subjects are collected).")
def facts(args: tuple[str, ...], raw: bool, profile: str | None) -> None:
    """Print one host's parsed facts as JSON: kijun facts [INVENTORY] HOST."""
    from scanner.collect import CollectError, plan_for, transport_for

    inventory, host_name = (args[0], args[1]) if len(args) > 1 else (None, args[0])
    inv, pack, _ = _load(inventory, None, False, profile, None)
    host = inv.host(host_name)
    if host is None:
        _bad_input(ValueError(f"no host {host_name!r} in {inv.path}"))
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


# --- evidence, history and federation ------------------------------------------------------------


def _check_role(role: str, roles: dict[str, Any]) -> None:
    """Exit 2 when --operator-role is not one of the profile's own role titles."""
    from scanner.evidence import role_titles

    titles = role_titles(roles)
    if role and titles and role not in titles:
        _bad_input(
            ValueError(f"--operator-role {role!r} is not a role of this profile ({', '.join(titles)})")
        )


def _private_key(path: str | None) -> Any:
    """Load the signing key, or exit 2 naming the file."""
    from scanner import keys

    if not path:
        return None
    try:
        return keys.load_private(Path(path))
    except keys.KeyFileError as exc:
        _bad_input(exc)


def _public_keys(paths: tuple[str, ...]) -> list[Any]:
    from scanner import keys

    try:
        return [keys.load_public(Path(p)) for p in paths]
    except keys.KeyFileError as exc:
        _bad_input(exc)


def _scales(path: str | None) -> Any:
    from scanner.report import csv as tables

    if not path:
        return None
    try:
        return tables.load_scales(Path(path))
    except LoadError as exc:
        _bad_input(exc)
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        _bad_input(ValueError(f"{path}: not valid risk scales ({exc})"))


@main.command()
@click.option(
    "--out",
    default="kijun-sign.key",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Private key file; the public key goes to <out>.pub.",
)
@click.option("--comment", default="kijun", show_default=True, help="Comment on the public key line.")
def keygen(out: str, comment: str) -> None:
    """Create an ed25519 signing key pair for evidence bundles (private key mode 0600)."""
    from scanner import keys

    try:
        private, public = keys.generate(Path(out), comment)
    except (keys.KeyFileError, OSError) as exc:
        _bad_input(exc)
    click.echo(f"private key: {private} (keep it on the scanner; never copy it into reports)")
    click.echo(f"public key:  {public}")
    click.echo(f"fingerprint: {keys.fingerprint(keys.load_public(public))}")


@main.group()
def evidence() -> None:
    """Check evidence bundles (run folders)."""


@evidence.command("verify")
@click.argument("run", default="latest")
@click.option(
    "--key",
    "key_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Expected public key (.pub); repeat to accept any of several.",
)
@click.option("--out", default="reports", show_default=True, type=click.Path(file_okay=False))
def evidence_verify(run: str, key_files: tuple[str, ...], out: str) -> None:
    """Verify a run: every file against manifest.json, results against the envelope, the signature."""
    from scanner.evidence import verify

    folder = Path(run) if Path(run).is_dir() else Path(out) / run
    if not folder.is_dir():
        _bad_input(ValueError(f"{run}: no such run folder (nor in {out})"))
    verdict = verify(folder.resolve(), _public_keys(key_files))
    for problem in verdict.problems:
        click.echo(f"{folder}/{problem}", err=True)
    if verdict.malformed:
        _bad_input(
            ValueError(f"{folder}: not a kijun run folder (its manifest is missing or of the wrong shape)")
        )
    if not verdict.ok:
        click.echo(
            f"改ざんまたは不整合を検出 / verification FAILED: {folder} ({len(verdict.problems)} problems)",
            err=True,
        )
        sys.exit(1)
    who = (
        f"signed by {verdict.fingerprint}"
        + ("" if verdict.authenticated else " (key not pinned: pass --key)")
        if verdict.signed
        else "unsigned (integrity only: anyone could have rewritten the manifest)"
    )
    click.echo(f"OK: {verdict.run_id}: {verdict.files} files match manifest.json; {who}")


@main.command("diff")
@click.argument("runs", nargs=-1)
@click.option("--out", default="reports", show_default=True, type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
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
        _bad_input(ValueError("kijun diff takes at most two runs: OLD NEW"))
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
        _bad_input(exc)
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


@main.command()
@click.argument("run")
@click.option(
    "--format", "formats", multiple=True, type=click.Choice(FORMATS), help="Files to write (default: all)."
)
@click.option(
    "--out", default=".", show_default=True, type=click.Path(file_okay=False), help="Folder to write into."
)
@click.option(
    "--reports",
    default="reports",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where to look up a run id.",
)
@click.option("--risk-scales", type=click.Path(exists=True, dir_okay=False))
@_junit_options
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
        _bad_input(exc)
    target = Path(out)
    if problem := output_problem(target):
        _bad_input(ValueError(problem))
    if (target / "manifest.json").exists():
        _bad_input(
            ValueError(f"{target} is a run folder; writing there would add files its manifest does not list")
        )
    files = history.outputs(
        formats, _scales(risk_scales), junit_failures_only, junit_not_applicable, folder.parent
    )(result, prev)
    for rel, data in files.items():
        history.atomic_write(target / rel, data)
        click.echo(f"wrote {target / rel}")
    if not formats or "json" in formats:
        for path in history.write_results(target, result):  # results.json + findings.jsonl
            click.echo(f"wrote {path}")


@main.command()
@click.argument("bundles", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option(
    "--trust",
    multiple=True,
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Public key (.pub) of a zone scanner; repeat for each zone.",
)
@click.option("--out", default="reports", show_default=True, type=click.Path(file_okay=False))
@click.option(
    "--format", "formats", multiple=True, type=click.Choice(FORMATS), help="Files to write (default: all)."
)
@click.option(
    "--mode",
    type=click.Choice(["scheduled", "self-inspection", "audit", "ci", "on-demand"]),
    help="Mode of the merged run (default: the bundles' common mode).",
)
@_record_options
@_junit_options
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

    key = _private_key(sign_key)
    render = history.outputs(
        formats, _scales(risk_scales), junit_failures_only, junit_not_applicable, Path(out)
    )
    if problem := output_problem(Path(out)):
        _bad_input(ValueError(problem))
    try:
        merged = mergemod.merge(
            [Path(b) for b in bundles], _public_keys(trust), mode, operator, operator_role
        )
    except mergemod.MergeError as exc:
        _bad_input(exc)
    _check_role(operator_role, merged.run.envelope.get("roles", {}))
    folder = history.record(
        Path(out), merged.run, merged.evidence, lambda r, p: {**render(r, p), **merged.files}, key
    )
    cov = merged.run.coverage()
    click.echo(
        f"merged {len(bundles)} bundles: {cov['assessed']}/{cov['in_scope']} hosts, "
        f"{len(merged.run.findings)} findings"
    )
    click.echo(f"report: {folder}")


@main.command("windows-collector")
def windows_collector() -> None:
    """Print the path of the PowerShell collector for Windows terminals (docs/windows.md)."""
    from importlib.resources import files

    click.echo(str(files("scanner").joinpath("collect/kijun-collect.ps1")))


@main.command()
@click.argument("inventory", required=False)
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Folder for <host>.json and collect.json."
)
@click.option("--profile", help="Profile (decides which facts are collected).")
@click.option("--limit", multiple=True, help="Hosts: a name glob, or key=value[,key=value].")
@click.option("--parallel", default=32, show_default=True, type=click.IntRange(1, 1024))
@click.option(
    "--timeout", default=120.0, show_default=True, callback=seconds, help="Seconds per host (0 < s ≤ 86400)."
)
@click.option("--trust-on-first-use", "tofu", is_flag=True, help="Accept and record unknown SSH host keys.")
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

    inv, pack, _ = _load(inventory, None, False, profile, None)
    hosts, _excluded = selection.scope(selection.select(inv, limit), pack)
    if not hosts:
        _bad_input(ValueError(f"--limit {' '.join(limit)} selects no host of {inv.path}"))
    if problem := output_problem(Path(out), len(hosts)):
        _bad_input(ValueError(problem))
    if tofu:
        from scanner.collect import hostkeys

        hostkeys.trust_on_first_use = True
    results = collect_to_folder(inv, pack, hosts, Path(out), parallel, timeout)
    missing = [r for r in results if r.status != "collected"]
    for r in missing:
        click.echo(f"{r.name}: {r.status}: {r.message}", err=True)
    click.echo(f"collected {len(results) - len(missing)}/{len(results)} hosts into {out}")
    sys.exit(3 if missing else 0)


def _add_history() -> None:
    from scanner.cli_history import history

    main.add_command(history)


_add_history()
