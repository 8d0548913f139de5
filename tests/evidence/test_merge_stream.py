"""kijun merge streams: many bundles merge into what the old in-memory merge gave, read one at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner import compact, evidence, keys
from scanner import merge as mergemod
from scanner.inventories import load as load_inventory
from scanner.report.labels import STATUS_ORDER
from scanner.results import Finding

from .ward import EXAMPLE, kijun, make_keys, scan

BUNDLES = 7


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path]:
    """The example ward cut into BUNDLES signed bundles by host name, one scanner key."""
    tmp = tmp_path_factory.mktemp("many")
    private, public = make_keys(tmp, "zone")
    names = sorted(h.name for h in load_inventory(EXAMPLE).hosts)
    out = []
    for part in range(BUNDLES):
        limits = [a for name in names[part::BUNDLES] for a in ("--limit", name)]
        out.append(scan(EXAMPLE, tmp / f"b{part}", *limits, "--sign-key", private, "--mode", "scheduled"))
    return out, public


def _old_findings(folders: list[Path]) -> list[Finding]:
    """The merge before it streamed: every bundle's findings in memory, organization-level kept once."""
    out: list[Finding] = []
    shared: dict[str, Finding] = {}
    for folder in folders:
        run = compact.load(folder / evidence.RESULTS)
        names = {h.name for h in run.hosts}
        for f in list(run.findings):
            if f.host in names:
                out.append(f)
            elif f.key not in shared or STATUS_ORDER.index(f.status) < STATUS_ORDER.index(
                shared[f.key].status
            ):
                shared[f.key] = f
    return out + [shared[k] for k in sorted(shared)]


def test_many_bundles_merge_as_before(bundles: tuple[list[Path], Path], tmp_path: Path) -> None:
    folders, public = bundles
    merged = mergemod.merge(folders, [keys.load_public(public)])
    old = _old_findings(folders)
    assert len(old) > 1000 and not isinstance(merged.run.findings, tuple | list)
    assert list(merged.run.findings) == old
    assert list(merged.run.findings) == old  # read again from the bundles: the same
    assert len(merged.run.findings) == len(old)
    assert merged.run.tally.counts == {
        s: sum(f.status.value == s for f in old) for s in merged.run.tally.counts
    }
    expected_raws = {
        h.name: (folder / h.evidence_file).read_bytes()
        for folder in folders
        for h in compact.load(folder / evidence.RESULTS).hosts
        if h.assessed and h.evidence_file
    }
    assert len(expected_raws) >= 30 and dict(merged.evidence) == expected_raws
    # Written through the CLI: the run folder holds those findings and every host's raw facts.
    args: list[str | Path] = ["merge", *folders, "--trust", public, "--out", tmp_path, "--format", "json"]
    result = kijun(*args)
    assert result.exit_code in (0, 1), result.output
    (run_folder,) = [p for p in tmp_path.iterdir() if p.is_dir() and not p.is_symlink()]
    assert list(compact.load(run_folder / evidence.RESULTS).findings) == old
    for name, raw in expected_raws.items():
        assert (run_folder / "evidence" / f"{name}.json").read_bytes() == raw
    assert f"{len(old)} findings" in result.output
