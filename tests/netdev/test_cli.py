"""The command line with network devices: a device kijun cannot read is bad input (exit 2, nothing contacted)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from scanner.cli import main

WARD = Path(__file__).parents[2] / "inventories" / "example-ward-netdev"


def test_an_unknown_vendor_stops_before_any_host(tmp_path: Path) -> None:
    text = (
        (WARD / "inventory.yaml").read_text(encoding="utf-8").replace("vendor: fortios", "vendor: fortigate")
    )
    text = text.replace("root: devices/", f"root: {WARD}/devices/").replace(
        "../example-ward/", f"{WARD.parent}/example-ward/"
    )
    (tmp_path / "inventory.yaml").write_text(text, encoding="utf-8")
    for argv in (["lint", str(tmp_path)], ["scan", str(tmp_path), "--out", str(tmp_path / "out")]):
        result = CliRunner().invoke(main, argv)
        assert result.exit_code == 2, result.output
        assert "inventory.yaml:55: host fw-01: os network needs vars.vendor" in result.output
    assert not (tmp_path / "out").exists()


def test_the_example_ward_netdev_scan_fails_on_its_devices_rules(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["scan", str(WARD), "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 1
    html = next(tmp_path.glob("2*/report.html")).read_text(encoding="utf-8")
    assert '<section id="netdev"><h2>' in html and "7 (vendor-maint-rdp)" in html
