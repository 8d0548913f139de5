"""The example ward: generated from its baseline plus deviations.yaml, and each deviation does what it says.

The snapshots are committed; ``tools/make_example_ward.py --check`` must find them equal to what the
generator writes. Each deviation names the controls it breaks with a verdict, and a real scan of
the ward must give exactly that verdict on each named host (so the data cannot drift from reality),
and no finding may fail or be waived that no deviation explains.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scanner.cli import main as kijun
from scanner.errors import LoadError
from scanner.inventory import load

REPO = Path(__file__).resolve().parents[2]
WARD = REPO / "inventories" / "example-ward"
sys.path.insert(0, str(REPO))

from tools import make_example_ward  # noqa: E402
from tools.example_ward import deviations  # noqa: E402
from tools.example_ward.model import Spec  # noqa: E402


@pytest.fixture(scope="module")
def devs() -> list[dict[str, Any]]:
    return deviations.load(load(WARD))


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], str]:
    """Scan the example ward as of its nightly scan; return (host, control) -> status."""
    out = tmp_path_factory.mktemp("ward-scan")
    result = CliRunner().invoke(
        kijun, ["scan", str(WARD), "--out", str(out), "--quiet", "--as-of", "2026-11-20"]
    )
    assert result.exit_code == 1, result.output
    run = out / "latest"
    counts = json.loads((run / "results.json").read_text("utf-8"))["counts"]
    assert counts == {
        "pass": 773, "fail": 12, "error": 0, "unreachable": 0, "not_applicable": 509, "waived": 1, "manual": 61,
    }  # fmt: skip
    lines = (run / "findings.jsonl").read_text("utf-8").splitlines()
    return {(f["host"], f["control"]): f["status"] for f in map(json.loads, lines)}


def test_the_generator_writes_the_committed_snapshots(tmp_path: Path) -> None:
    assert make_example_ward.main(["--check"]) == 0
    assert make_example_ward.main(["--out", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(p.name for p in (WARD / "snapshots").iterdir())
    for name in written:
        assert (tmp_path / name).read_bytes() == (WARD / "snapshots" / name).read_bytes(), name


def test_check_finds_a_changed_snapshot(tmp_path: Path) -> None:
    make_example_ward.main(["--out", str(tmp_path)])
    victim = tmp_path / "gw-01.json"
    victim.write_text(victim.read_text("utf-8").replace("ens224", "ens225"), "utf-8")
    (tmp_path / "gone-01.json").write_text("{}", "utf-8")
    assert make_example_ward.main(["--check", "--out", str(tmp_path)]) == 1


def test_each_deviation_breaks_what_it_names(
    devs: list[dict[str, Any]], findings: dict[tuple[str, str], str]
) -> None:
    for dev in devs:
        for host in dev["hosts"]:
            for broken in dev["breaks"]:
                got = findings.get((host, broken["control"]))
                assert got == broken["verdict"] != "pass", (dev["id"], host, broken["control"], got)


def test_no_failure_is_left_unexplained(
    devs: list[dict[str, Any]], findings: dict[tuple[str, str], str]
) -> None:
    named = {(h, b["control"]) for d in devs for h in d["hosts"] for b in d["breaks"]}
    bad = {key for key, status in findings.items() if status in ("fail", "waived", "error", "unreachable")}
    assert bad == named


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (("hosts: [gw-01]", "hosts: [gw-99]"), 49, "host 'gw-99' is not in the inventory"),
        (("control: NET-03", "control: net-3"), 51, "does not match"),
        (("verdict: waived", "verdict: lapsed"), 200, "is not one of"),
        (("      en: Added for a webmail", "      xx: Added for a webmail"), 57, "xx"),
        (("id: chrony-failed", "id: usb-standard-missing"), 145, "duplicate id"),
    ],
)
def test_a_bad_deviations_file_is_refused_with_its_line(
    tmp_path: Path, change: tuple[str, str], line: int, message: str
) -> None:
    text = (WARD / "deviations.yaml").read_text("utf-8")
    assert change[0] in text
    bad = tmp_path / "deviations.yaml"
    bad.write_text(text.replace(change[0], change[1], 1), "utf-8")
    with pytest.raises(LoadError) as caught:
        deviations.load(load(WARD), bad)
    assert caught.value.line == line, str(caught.value)
    assert message in caught.value.message
    assert str(caught.value).startswith(f"{bad}:{line}: ")


def test_an_edit_that_no_longer_matches_stops_the_generator(devs: list[dict[str, Any]]) -> None:
    inv = load(WARD)
    host = inv.host("koseki-ap-01")
    assert host is not None
    spec = Spec(host=host, inv=inv)
    spec.probe("sshd-T", "permitrootlogin prohibit-password\n")  # the baseline changed under the deviation
    with pytest.raises(
        SystemExit,
        match=re.escape(
            "deviation vendor-root-login on koseki-ap-01: 'permitrootlogin no' not found in sshd-T"
        ),
    ):
        deviations.apply(devs, spec)
