"""What several ``kijun`` commands share: the bad-input exit, loading, option decorators and key files."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from scanner import content
from scanner.errors import LoadError, LoadErrors
from scanner.history import FORMATS
from scanner.inventories import load as load_inventory
from scanner.inventory import Inventory, local_host, single_host
from scanner.policy import Pack, load_pack
from scanner.preflight import seconds
from scanner.results import Severity
from scanner.waivers import Waiver, load_waivers

SEVERITIES = [s.value for s in Severity]
MODES = ["scheduled", "self-inspection", "audit", "ci", "on-demand"]
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def bad_input(exc: Exception) -> NoReturn:
    """Say what is wrong and exit 2: bad input stops before any host is contacted."""
    click.echo(f"kijun: {exc}", err=True)
    click.echo(
        "入力エラーのため、どのホストにも接続せずに終了します / bad input: no host was contacted", err=True
    )
    sys.exit(2)


def load(
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
        bad_input(exc)


def load_profile(profile: str) -> Pack:
    """Load a profile's pack, or exit 2 with file:line."""
    try:
        return load_pack(profile)
    except (LoadError, LoadErrors) as exc:
        bad_input(exc)


def stacked(*options: Decorator) -> Decorator:
    """Return one decorator that applies ``options`` in the order given (first option listed first)."""

    def apply(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


def out_option(
    default: str, help: str | None = None, *, name: str = "--out", file: bool = False
) -> Decorator:
    """``--out`` (or ``name``): a folder with a default (runs, reports, attestations …), or a file."""
    kind = click.Path(dir_okay=False) if file else click.Path(file_okay=False)
    return click.option(name, default=default, show_default=True, type=kind, help=help)


def path_option(name: str, help: str, *, folder: bool = False, **more: Any) -> Decorator:
    """An option naming an existing file (or, with ``folder``, an existing folder)."""
    kind = click.Path(exists=True, file_okay=not folder, dir_okay=folder)
    return click.option(name, type=kind, help=help, **more)


# The reports folder: where scans write dated runs, and where run ids, `latest` and history.sqlite are.
runs_out_option = out_option("reports", "Folder for dated runs.")
reports_option = out_option(
    "reports", "Reports folder: run ids, `latest` and history.sqlite are looked up there."
)
waivers_option = path_option("--waivers", "Folder of 例外措置 YAML files.", folder=True)
risk_scales_option = path_option("--risk-scales", "YAML risk scales for the リスク登録簿.")
profile_option = click.option(
    "--profile",
    default="base",
    show_default=True,
    help="Profile (municipality): base, nerima, arakawa, bunkyo, or a YAML path.",
)
formats_option = click.option(
    "--format", "formats", multiple=True, type=click.Choice(FORMATS), help="Files to write (default: all)."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
timeout_option = click.option(
    "--timeout", default=120.0, show_default=True, callback=seconds, help="Seconds per host (0 < s ≤ 86400)."
)


def tofu_option(help: str) -> Decorator:
    """``--trust-on-first-use``: accept and record unknown SSH host keys."""
    return click.option("--trust-on-first-use", "tofu", is_flag=True, help=help)


def trust_on_first_use(tofu: bool) -> None:
    """Switch on trust-on-first-use for this process's SSH connections when asked."""
    if tofu:
        from scanner.collect import hostkeys

        hostkeys.trust_on_first_use = True


sign_key_option = click.option(
    "--sign-key",
    envvar="KIJUN_SIGN_KEY",
    type=click.Path(dir_okay=False),
    help="ed25519 private key that signs the evidence (env KIJUN_SIGN_KEY; see `kijun keygen`).",
)

# The options that a written run records: operator, role, signing key, risk scales.
record_options = stacked(
    click.option("--operator", default="", help="Who runs it (recorded in the run envelope)."),
    click.option(
        "--operator-role", default="", help="The role the operator acts in, in the profile's own titles."
    ),
    sign_key_option,
    risk_scales_option,
)

# The JUnit options of the commands that write reports.
junit_options = stacked(
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
)


def check_role(role: str, roles: dict[str, Any]) -> None:
    """Exit 2 when --operator-role is not one of the profile's own role titles."""
    from scanner.evidence import role_titles

    titles = role_titles(roles)
    if role and titles and role not in titles:
        bad_input(ValueError(f"--operator-role {role!r} is not a role of this profile ({', '.join(titles)})"))


def private_key(path: str | None) -> Any:
    """Load the signing key, or exit 2 naming the file."""
    from scanner import keys

    if not path:
        return None
    try:
        return keys.load_private(Path(path))
    except keys.KeyFileError as exc:
        bad_input(exc)


def public_keys(paths: tuple[str, ...]) -> list[Any]:
    """Load public keys (.pub), or exit 2 naming the file."""
    from scanner import keys

    try:
        return [keys.load_public(Path(p)) for p in paths]
    except keys.KeyFileError as exc:
        bad_input(exc)


def scales(path: str | None) -> Any:
    """Load the risk scales of --risk-scales, or exit 2 naming the file."""
    from scanner.report import csv as tables

    if not path:
        return None
    try:
        return tables.load_scales(Path(path))
    except LoadError as exc:
        bad_input(exc)
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        bad_input(ValueError(f"{path}: not valid risk scales ({exc})"))


def renderer(
    formats: tuple[str, ...], risk_scales: str | None, failures_only: bool, not_applicable: bool, out: Path
) -> Any:
    """Return the function that renders a run into the chosen report files (see ``report/writing.py``)."""
    from scanner.report.writing import outputs

    return outputs(formats or FORMATS, scales(risk_scales), failures_only, not_applicable, out)
