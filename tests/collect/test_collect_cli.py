"""`kijun collect` then `kijun scan --snapshots`: the same findings as scanning the hosts directly."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from scanner import compact
from scanner.cli import main
from scanner.content import example_inventory


def _findings(folder: Path) -> set[tuple[str, str, str]]:
    run = compact.load(folder / "latest" / "results.json")
    return {(f.host, f.control_id, f.status.value) for f in run.findings}


def test_collect_to_folder_then_scan_it(tmp_path: Path) -> None:
    ward = str(example_inventory())
    runner = CliRunner()
    carry = tmp_path / "carry"
    out = runner.invoke(main, ["collect", ward, "--out", str(carry), "--limit", "zone=mgmt"])
    assert out.exit_code == 0, out.output
    assert sorted(p.name for p in carry.glob("*.json")) == [
        "backup-local-01.json",
        "bastion-01.json",
        "collect.json",
        "log-mg-01.json",
        "mon-01.json",
    ]
    common = ["--limit", "zone=mgmt", "--quiet", "--as-of", "2026-11-20", "--format", "json"]
    direct = runner.invoke(main, ["scan", ward, "--out", str(tmp_path / "a"), *common])
    carried = runner.invoke(
        main, ["scan", ward, "--snapshots", str(carry), "--out", str(tmp_path / "b"), *common]
    )
    assert direct.exit_code == carried.exit_code
    assert _findings(tmp_path / "a") == _findings(tmp_path / "b")
