"""Every bad input is a clear message before any host is contacted (issue 9.4)."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner import history, preflight
from scanner.cli import main
from scanner.errors import LoadError
from scanner.inventories import load

from .conftest import one_host_error

REPO = Path(__file__).resolve().parents[2]
WARD = REPO / "inventories" / "example-ward"
HEADER = "ホスト名,ゾーン,役割,所管課\n"


def kijun(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


def register(tmp: Path, rows: str, header: str = HEADER) -> Path:
    path = tmp / "daicho.csv"
    path.write_text(header + rows, "utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("web/01", "contains '/'"),
        ("..", "starts with '.'"),
        (".", "starts with '.'"),
        ("web\\01", "contains '\\\\'"),
        ("collect", "reserved"),
        ("NUL.example", "reserved"),
        ("h" * 260, "bytes in UTF-8"),
    ],
)
def test_host_names_that_cannot_name_a_file(tmp_path: Path, name: str, why: str) -> None:
    with pytest.raises(LoadError) as info:
        load(register(tmp_path, f"{name},lgwan,server,情報政策課\n"))
    assert info.value.line == 2 and why in info.value.message


def test_a_long_owner_or_label_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="owner is 270 bytes"):
        load(register(tmp_path, f"web01,lgwan,server,{'課' * 90}\n"))
    err = one_host_error(tmp_path, f"    labels: {{k: {'x' * 300}}}")
    assert err.line == 6 and "label k is 300 bytes" in err.message


def test_csv_field_over_the_csv_limit(tmp_path: Path) -> None:
    big = "x" * (csv.field_size_limit() + 10)
    with pytest.raises(LoadError) as info:
        load(register(tmp_path, f'web01,lgwan,server,"{big}"\n'))
    assert info.value.line == 2 and "CSV: field larger than field limit" in info.value.message


def test_the_cli_says_file_and_line_and_exits_2(tmp_path: Path) -> None:
    code, out = kijun("lint", register(tmp_path, "ok01,lgwan,server,課\nweb/01,lgwan,server,課\n"))
    assert code == 2 and "daicho.csv:3: host name 'web/01' contains '/'" in out
    assert "no host was contacted" in out


@pytest.mark.parametrize("value", ["nan", "-1", "0", "inf", "1e9"])
def test_timeout_out_of_range(tmp_path: Path, value: str) -> None:
    for command in ("scan", "collect"):
        code, out = kijun(command, WARD, "--out", tmp_path / "o", "--timeout", value)
        assert code == 2 and "--timeout" in out, out
    assert not (tmp_path / "o").exists()


def test_parallel_zero(tmp_path: Path) -> None:
    code, out = kijun("scan", WARD, "--out", tmp_path / "o", "--parallel", "0")
    assert code == 2 and "--parallel" in out


def test_an_output_folder_that_cannot_take_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    afile = tmp_path / "file"
    afile.write_text("x")
    code, out = kijun("scan", WARD, "--out", afile / "reports", "--no-probe")
    assert code == 2 and "cannot create the output folder" in out, out
    # /proc/1 is a folder nobody can create files in, root included (like a read-only mount).
    code, out = kijun("scan", WARD, "--out", "/proc/1", "--no-probe")
    assert code == 2 and "cannot write there" in out, out
    monkeypatch.setattr(preflight.shutil, "disk_usage", lambda _p: shutil._ntuple_diskusage(1, 1, 1024))  # type: ignore[attr-defined]
    assert "MiB free" in preflight.output_problem(tmp_path / "full", 36)


def _run(out: Path) -> Path:
    code, text = kijun(
        "scan", WARD, "--out", out, "--no-probe", "--quiet", "--format", "json", "--as-of", "2026-11-20"
    )
    assert code in (0, 1), text
    return Path(re.findall(r"^report: (.+)$", text, re.MULTILINE)[0])


def test_a_corrupt_earlier_run_is_skipped_with_a_warning(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    first, second = _run(out), _run(out)
    (second / "results.json").write_text("{not json")
    (second / "envelope.json").write_text('{"counts": {"fail": "many"}}')  # the trend reads it too
    runner = CliRunner()
    result = runner.invoke(
        main, ["scan", str(WARD), "--out", str(out), "--no-probe", "--quiet", "--format", "json"]
    )
    assert result.exit_code in (0, 1), result.output
    assert f"{second / 'results.json'}:1: JSON" in result.output and "skipped" in result.output
    third = Path(re.findall(r"^report: (.+)$", result.output, re.MULTILINE)[0])
    chained = json.loads((third / "envelope.json").read_text("utf-8"))[
        "previous_run"
    ]  # results.json names it
    assert chained["run_id"] == first.name
    run = history.load_run(third)[0]
    assert history.previous(out, run, warn=lambda _m: None) == first
    code, text = kijun("report", first, "--out", "/proc/1", "--format", "csv")
    assert code == 2 and "cannot write there" in text, text  # re-rendering checks its folder too


@pytest.mark.parametrize(
    "manifest",
    [
        [],
        {"schema": "kijun/manifest/v1", "files": []},
        {"schema": "kijun/manifest/v1", "files": {"a": 1}},
        "x",
    ],
)
def test_evidence_verify_on_a_manifest_of_the_wrong_shape(tmp_path: Path, manifest: object) -> None:
    (tmp_path / "a").write_text("a")
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    code, out = kijun("evidence", "verify", tmp_path)
    assert code == 2 and "not a kijun run folder" in out and "Traceback" not in out, out
