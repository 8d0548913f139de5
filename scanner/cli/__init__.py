"""The ``kijun`` command: parse arguments, call the library, print, and exit with the documented code.

One module per command or family; what several share (options, loading, the bad-input exit) is in
``scanner/cli/common.py``. Exit codes: 0 clean, 1 a failure at or above --fail-on, 2 bad input or
usage, 3 incomplete scan.
"""

from __future__ import annotations

import click

from scanner import __version__
from scanner.cli.attest import attest
from scanner.cli.evidence import evidence, keygen
from scanner.cli.facts import collect, facts, windows_collector
from scanner.cli.history import history
from scanner.cli.pack import controls, lint, verify
from scanner.cli.runs import diff_cmd, merge, report
from scanner.cli.scan import scan


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


for _command in (
    attest,
    scan,
    verify,
    lint,
    controls,
    facts,
    keygen,
    evidence,
    diff_cmd,
    report,
    merge,
    windows_collector,
    collect,
    history,
):
    main.add_command(_command)

__all__ = ["main"]
