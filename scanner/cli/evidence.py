"""``kijun keygen`` and ``kijun evidence verify``: signing keys and checking run folders against them."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from scanner.cli import common


@click.command()
@common.out_option("kijun-sign.key", "Private key file; the public key goes to <out>.pub.", file=True)
@click.option("--comment", default="kijun", show_default=True, help="Comment on the public key line.")
def keygen(out: str, comment: str) -> None:
    """Create an ed25519 signing key pair for evidence bundles (private key mode 0600)."""
    from scanner import keys

    try:
        private, public = keys.generate(Path(out), comment)
    except (keys.KeyFileError, OSError) as exc:
        common.bad_input(exc)
    click.echo(f"private key: {private} (keep it on the scanner; never copy it into reports)")
    click.echo(f"public key:  {public}")
    click.echo(f"fingerprint: {keys.fingerprint(keys.load_public(public))}")


@click.group()
def evidence() -> None:
    """Check evidence bundles (run folders)."""


@evidence.command("verify")
@click.argument("run", default="latest")
@common.path_option("--key", "Expected public key (.pub); repeat to accept any of several.", multiple=True)
@common.reports_option
def evidence_verify(run: str, key: tuple[str, ...], out: str) -> None:
    """Verify a run: every file against manifest.json, results against the envelope, the signature."""
    from scanner.evidence import verify

    folder = Path(run) if Path(run).is_dir() else Path(out) / run
    if not folder.is_dir():
        common.bad_input(ValueError(f"{run}: no such run folder (nor in {out})"))
    verdict = verify(folder.resolve(), common.public_keys(key))
    for problem in verdict.problems:
        click.echo(f"{folder}/{problem}", err=True)
    if verdict.malformed:
        common.bad_input(
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
