"""``kijun attest``: read filled-in 自己点検票 back as signed attestations for the manual controls."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import click

from scanner.cli import common
from scanner.errors import LoadError, LoadErrors


def _bad(exc: Exception) -> NoReturn:
    for error in exc.errors if isinstance(exc, LoadErrors) else [exc]:
        click.echo(f"kijun: {error}", err=True)
    click.echo("入力エラー: 回答は書き出していません / bad input: no attestation was written", err=True)
    sys.exit(2)


@click.command()
@click.argument("workbooks", nargs=-1, required=True, type=click.Path(dir_okay=False))
@common.out_option(
    "attestations", "Folder of attestation files; scans read <inventory>/attestations by default."
)
@click.option(
    "--sign-key",
    envvar="KIJUN_SIGN_KEY",
    type=click.Path(dir_okay=False),
    help="ed25519 private key that signs the attestations (env KIJUN_SIGN_KEY).",
)
@click.option(
    "--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Today, for date checks (default: today)."
)
def attest(workbooks: tuple[str, ...], out: str, sign_key: str | None, as_of: Any) -> None:
    """Read filled-in 自己点検票 (.xlsx) back as attestations for manual controls.

    Each answered row (回答 pass/fail/not applicable, 回答者, 役職, 回答日, 有効期限) becomes one
    attestation; the following scans show the manual control as pass or fail *by attestation*
    until it expires. Every workbook is checked before anything is written (exit 2 on any error).
    """
    from scanner import attest as attestmod
    from scanner import keys
    from scanner.attest_workbook import read
    from scanner.history import atomic_write

    today = as_of.date() if as_of else date.today()
    try:
        key = keys.load_private(Path(sign_key)) if sign_key else None
    except keys.KeyFileError as exc:
        _bad(exc)
    read_books = []
    try:
        for name in workbooks:
            read_books.append((Path(name), *read(Path(name), today)))
    except (LoadError, LoadErrors) as exc:
        _bad(exc)
    total = 0
    for path, items, source in read_books:
        target = Path(out) / f"{path.stem}-{source['sha256'][:12]}.json"
        atomic_write(target, attestmod.document(items, source, key))
        total += len(items)
        signed = "署名あり signed" if key else "署名なし unsigned"
        click.echo(f"{path}: {len(items)} 件の回答 attestations → {target} ({signed})")
    click.echo(f"合計 total: {total}")
