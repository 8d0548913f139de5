"""Only regular files are read, without blocking, bounded in size, aliases and depth (issue 9.3)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner import safeio
from scanner.cli import main
from scanner.collect import snapshot
from scanner.errors import LoadError
from scanner.yamlsrc import MAX_NODES, load_yaml

REPO = Path(__file__).resolve().parents[2]
WARD = REPO / "inventories" / "example-ward"


def kijun(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "inventory.yaml"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory", "huge"])
def test_only_regular_files_within_the_limit(tmp_path: Path, kind: str) -> None:
    path = {
        "fifo": tmp_path / "f",
        "dev-zero": Path("/dev/zero"),
        "directory": tmp_path,
        "huge": tmp_path / "h",
    }[kind]
    if kind == "fifo":
        os.mkfifo(path)
    if kind == "huge":
        with path.open("wb") as handle:
            handle.truncate(safeio.CONFIG_LIMIT + 1)  # sparse: no disk used
    with pytest.raises(LoadError) as info:
        safeio.read_bytes(path)
    expected = "too large" if kind == "huge" else "not a regular file"
    assert info.value.path == str(path) and expected in info.value.message


def test_a_fifo_as_any_input_is_exit_2_never_a_hang(tmp_path: Path, fifo: Path) -> None:
    # In a child process with a guard, so a regression fails the test instead of hanging CI.
    waivers = tmp_path / "waivers"
    waivers.mkdir()
    os.mkfifo(waivers / "w.yaml")
    runs = [
        ["lint", str(fifo)],
        ["lint", str(WARD), "--waivers", str(waivers)],
        ["scan", "/dev/zero", "--out", str(tmp_path / "r")],
    ]
    code = "import sys; from scanner.cli import main; sys.argv[0] = 'kijun'; main()"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for args in runs:
        proc = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600, env=env
        )
        assert proc.returncode == 2, (args, proc.stderr)
        assert "not a regular file" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_billion_laughs_is_refused_at_its_line(tmp_path: Path) -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]")
    path = tmp_path / "inventory.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(LoadError) as info:
        load_yaml(path)
    assert "aliases expand" in info.value.message and f"{MAX_NODES:,}" in info.value.message
    assert info.value.line is not None and 5 <= info.value.line <= 9


def test_a_recursive_alias_and_deep_nesting_are_refused(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text("a: &a\n  b: *a\n")
    (tmp_path / "d.yaml").write_text("x: " + "[" * 200 + "]" * 200 + "\n")
    (tmp_path / "d.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(LoadError, match="recursive"):
        load_yaml(tmp_path / "r.yaml")
    for name in ("d.yaml", "d.json"):
        with pytest.raises(LoadError, match="nested deeper"):
            (load_yaml if name.endswith("yaml") else safeio.load_json)(tmp_path / name)


def test_aliases_within_the_bound_still_load(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(
        "base: &b {owner: 情報政策課}\nhosts:\n"
        + "".join(f"  - {{<<: *b, name: h{i}}}\n" for i in range(500))
    )
    doc = load_yaml(path)
    assert len(doc["hosts"]) == 500 and doc["hosts"][499]["owner"] == "情報政策課"
    assert doc["hosts"][2].line == 5  # lines survive the libyaml parser


def _ward(tmp: Path, hosts: list[str]) -> Path:
    """Write a small inventory of example-ward snapshot hosts."""
    ward = tmp / "ward"
    (ward / "snapshots").mkdir(parents=True)
    entries = "".join(f"  - {{name: {h}, zone: lgwan, role: server}}\n" for h in hosts)
    (ward / "inventory.yaml").write_text(
        f"zones: {{lgwan: {{cidrs: [10.20.0.0/16]}}}}\ndefaults: {{transport: snapshot}}\nhosts:\n{entries}",
        "utf-8",
    )
    for host in hosts:
        shutil.copy(WARD / "snapshots" / f"{host}.json", ward / "snapshots" / f"{host}.json")
    return ward


def test_one_bad_snapshot_is_an_error_for_that_host_only(tmp_path: Path) -> None:
    ward = _ward(tmp_path, ["bastion-01", "fs-01"])
    deep = ward / "snapshots" / "fs-01.json"
    text = deep.read_text("utf-8").rstrip()
    deep.write_text(text[:-1] + ', "deep": ' + "[" * 5000 + "]" * 5000 + "}", "utf-8")
    code, out = kijun("scan", ward, "--out", tmp_path / "r", "--no-probe", "--format", "json")
    assert code in (1, 3), out  # a finding or an incomplete scan, never a crash (exit 2 or a traceback)
    results = json.loads(next((tmp_path / "r").glob("*/results.json")).read_text("utf-8"))
    status = {h["name"]: h["status"] for h in results["hosts"]}
    assert status["fs-01"] == "error" and status["bastion-01"] != "error", status
    fs = next(h for h in results["hosts"] if h["name"] == "fs-01")
    assert "nested deeper" in fs["message"]


def test_a_fifo_snapshot_is_an_error_for_that_host(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    os.mkfifo(path)
    with pytest.raises(LoadError, match="not a regular file"):
        snapshot.load(path, "s")


def test_evidence_verify_and_report_on_a_fifo(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text(
        json.dumps({"schema": "kijun/manifest/v1", "files": {"results.json": {}}})
    )
    os.mkfifo(run / "results.json")
    code, out = kijun("evidence", "verify", run)
    assert code == 1 and "results.json: not a regular file" in out, out
    code, out = kijun("report", run / "results.json", "--out", tmp_path / "o")
    assert code == 2 and "not a regular file" in out, out
