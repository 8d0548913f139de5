"""`kijun facts`: a Linux host collected over the sh collector prints its parsed facts (no Windows probes asked)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from scanner.cli import main


def test_facts_of_a_local_linux_host(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "name: t\nzones:\n  mgmt: {cidrs: [127.0.0.0/8]}\nhosts:\n"
        "  - {name: me, address: 127.0.0.1, zone: mgmt, role: server, transport: local, os: linux}\n",
        "utf-8",
    )
    result = CliRunner().invoke(main, ["facts", str(inventory), "me"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["host"] == "me"
    assert "sshd" in doc["facts"] or "sshd" in doc["errors"]
    assert not any(name.startswith("windows") for name in doc["facts"])
