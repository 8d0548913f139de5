"""kijun merge: three zone bundles, each signed by its own scanner, give the findings of one scan."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from scanner import compact, evidence, history, keys

from .ward import EXAMPLE, kijun, make_keys, scan

ZONES = ("mynumber", "lgwan", "internet")


@pytest.fixture(scope="module")
def zones(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Scan each zone with its own key into its own folder: zone -> (bundle, public key)."""
    tmp = tmp_path_factory.mktemp("zones")
    out: dict[str, tuple[Path, Path]] = {}
    for zone in ZONES:
        private, public = make_keys(tmp, zone)
        bundle = scan(
            EXAMPLE, tmp / zone, "--limit", f"zone={zone}", "--sign-key", private, "--mode", "scheduled"
        )
        out[zone] = (bundle, public)
    return out


def merge(
    tmp: Path, bundles: list[Path], trusted: list[Path], *extra: str | Path
) -> tuple[int, str, Path | None]:
    args: list[str | Path] = ["merge", *bundles, "--out", tmp / "merged"]
    for key in trusted:
        args += ["--trust", key]
    result = kijun(*args, *extra)
    found = re.search(r"^report: (.+)$", result.output, re.MULTILINE)
    return result.exit_code, result.output, Path(found.group(1)) if found else None


def outcomes(run: Path) -> set[tuple[str, str, str]]:
    found = compact.load(run / "results.json").findings
    return {(f.host, f.control_id, f.status.value) for f in found}


def test_three_zone_bundles_merge_into_the_findings_of_one_scan(
    zones: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    limits = [a for zone in ZONES for a in ("--limit", f"zone={zone}")]
    whole = scan(EXAMPLE, tmp_path / "whole", *limits, "--mode", "scheduled")
    code, output, merged = merge(tmp_path, [b for b, _ in zones.values()], [k for _, k in zones.values()])
    assert code == 0, output
    assert merged is not None
    assert outcomes(merged) == outcomes(whole)
    assert len(outcomes(merged)) == len((merged / "findings.jsonl").read_bytes().splitlines())
    run, _ = history.load_run(merged)
    single, _ = history.load_run(whole)
    assert run.coverage() == single.coverage()
    assert sorted(h.name for h in run.hosts) == sorted(h.name for h in single.hosts)
    assert run.envelope["waivers"]["lapsed"][0]["id"] == "EXC-2026-0003"


def test_the_merged_run_names_its_sources_and_carries_their_evidence(
    zones: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    merge_key, merge_pub = make_keys(tmp_path, "joho-seisaku")
    code, output, merged = merge(tmp_path, [b for b, _ in zones.values()], [k for _, k in zones.values()],
                                 "--sign-key", merge_key)  # fmt: skip
    assert code == 0 and merged is not None, output
    assert evidence.verify(merged, [keys.load_public(merge_pub)]).ok
    sources = json.loads((merged / "envelope.json").read_bytes())["sources"]
    assert [s["run_id"] for s in sources] == [zones[z][0].name for z in ZONES]
    for source, zone in zip(sources, ZONES, strict=True):
        bundle, public = zones[zone]
        assert source["key_fingerprint"] == keys.fingerprint(keys.load_public(public))
        assert source["manifest_sha256"] == evidence.file_sha256(bundle / "manifest.json")
        assert source["results_sha256"] == evidence.file_sha256(bundle / "results.json")
        assert (merged / "sources" / bundle.name / "signature.json").read_bytes() == (
            bundle / "signature.json"
        ).read_bytes()
        for raw in (bundle / "evidence").iterdir():
            assert (merged / "evidence" / raw.name).read_bytes() == raw.read_bytes()


def test_a_bundle_with_a_changed_byte_is_refused(zones: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    lgwan = Path(shutil.copytree(zones["lgwan"][0], tmp_path / "lgwan" / zones["lgwan"][0].name))
    raw = lgwan / "evidence" / "gw-01.json"
    raw.write_bytes(raw.read_bytes().replace(b"ens224", b"ens225", 1))
    bundles = [zones["mynumber"][0], lgwan, zones["internet"][0]]
    code, output, merged = merge(tmp_path, bundles, [k for _, k in zones.values()])
    assert code == 2 and merged is None
    assert f"{lgwan}/evidence/gw-01.json: sha256 differs from manifest.json" in output
    assert not (tmp_path / "merged").exists()


def test_a_bundle_signed_by_an_untrusted_key_is_refused(
    zones: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    trusted = [zones["mynumber"][1], zones["lgwan"][1]]  # the internet scanner's key is not trusted
    code, output, _ = merge(tmp_path, [b for b, _ in zones.values()], trusted)
    assert code == 2
    assert f"{zones['internet'][0]}/signature.json: signed by SHA256:" in output


def test_an_unsigned_bundle_is_refused(zones: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    unsigned = scan(EXAMPLE, tmp_path / "dc", "--limit", "zone=dc", "--format", "json", "--mode", "scheduled")
    code, output, _ = merge(tmp_path, [zones["mynumber"][0], unsigned], [zones["mynumber"][1]])
    assert code == 2
    assert f"{unsigned}/signature.json: missing" in output


def test_a_host_in_two_bundles_is_refused(zones: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    private, public = make_keys(tmp_path, "second-lgwan")
    again = scan(
        EXAMPLE, tmp_path / "again", "--limit", "gw-01", "--sign-key", private, "--mode", "scheduled"
    )
    code, output, _ = merge(tmp_path, [zones["lgwan"][0], again], [zones["lgwan"][1], public])
    assert code == 2
    assert f"{again}/results.json: host gw-01 is also in {zones['lgwan'][0]}" in output
