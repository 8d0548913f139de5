"""``python3 -m scanner``: the ``kijun`` command, for a checkout without the console script installed."""

from scanner.cli import main

main(prog_name="kijun")
