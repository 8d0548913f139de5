"""kijun collect as a library: raw facts to a folder (snapshot, files and local transports), then scanned from it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import date
from pathlib import Path

import pytest

from scanner.collect import snapshot
from scanner.collect.bulk import COLLECTED, SUMMARY, collect_to_folder, with_snapshots
from scanner.inventory import Host, Inventory, load
from scanner.policy import Pack
from scanner.results import HostResult
from scanner.run import Options, scan, select

WARD = Path(__file__).resolve().parents[2] / "inventories" / "example-ward"
TODAY = date(2026, 11, 1)


@pytest.fixture(scope="module")
def ward() -> Inventory:
    return load(WARD)


def subset(inventory: Inventory, *names: str) -> list[Host]:
    hosts = [inventory.host(n) for n in names]
    assert all(h is not None for h in hosts)
    return [h for h in hosts if h is not None]


def summary(folder: Path) -> dict[str, object]:
    doc: dict[str, object] = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
    return doc


def outcome(inventory: Inventory, pack: Pack, limit: tuple[str, ...]) -> list[tuple[str, str, str, str]]:
    """Return (host, control, status, each check's status and observed value) of every host finding."""
    run, _ = scan(inventory, pack, [], Options(limit=limit, today=TODAY))
    return sorted(
        (
            f.host,
            f.control_id,
            f.status.value,
            repr([(c.check_id, c.status.value, c.observed) for c in f.checks]),
        )
        for f in run.findings
        if f.host
    )


def test_snapshots_are_written_per_host_with_a_summary(ward: Inventory, pack: Pack, tmp_path: Path) -> None:
    hosts = subset(ward, "juki-ap-01", "gw-01", "web-cms-01")
    seen: list[tuple[int, int, str]] = []
    results = collect_to_folder(
        ward, pack, hosts, tmp_path, 2, 30.0, lambda d, t, r: seen.append((d, t, r.name))
    )
    assert [r.name for r in results] == ["juki-ap-01", "gw-01", "web-cms-01"]
    assert {r.status for r in results} == {COLLECTED}
    assert sorted(d for d, _, _ in seen) == [1, 2, 3] and {t for _, t, _ in seen} == {3}
    doc = summary(tmp_path)
    assert doc["counts"] == {"collected": 3, "unreachable": 0, "error": 0}
    assert doc["profile"] == "base" and doc["inventory"] == str(ward.path)
    rows = doc["hosts"]
    assert isinstance(rows, list) and [row["name"] for row in rows] == ["juki-ap-01", "gw-01", "web-cms-01"]
    for row, host in zip(rows, hosts, strict=True):
        written = tmp_path / f"{host.name}.json"
        assert row["snapshot"] == written.name
        assert row["sha256"] == hashlib.sha256(written.read_bytes()).hexdigest()
        assert row["timings"]["collect"] >= 0 and "write" in row["timings"]
        # What was written is valid raw facts of that host, carrying what the source snapshot held.
        again = snapshot.load(written, host.name)
        source = snapshot.load(Path(host.snapshot), host.name)
        assert again.items == source.items and again.collected_at == source.collected_at
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([SUMMARY, *(f"{h.name}.json" for h in hosts)])


def test_scanning_the_folder_gives_the_findings_of_the_direct_scan(
    ward: Inventory, pack: Pack, tmp_path: Path
) -> None:
    limit = ("zone=lgwan",)
    collect_to_folder(ward, pack, select(ward, limit), tmp_path, 4, 30.0)
    carried = with_snapshots(ward, tmp_path)
    direct = outcome(ward, pack, limit)
    assert direct and any(status == "fail" for _, _, status, _ in direct)
    assert outcome(carried, pack, limit) == direct


def test_with_snapshots_points_every_host_at_the_folder(ward: Inventory, tmp_path: Path) -> None:
    carried = with_snapshots(ward, tmp_path / "carry")
    assert len(carried.hosts) == len(ward.hosts)
    for before, after in zip(ward.hosts, carried.hosts, strict=True):
        assert after.transport == "snapshot"
        assert after.snapshot == str((tmp_path / "carry" / f"{before.name}.json").resolve())
        assert (after.zone, after.role, after.labels, after.os) == (
            before.zone,
            before.role,
            before.labels,
            before.os,
        )
    assert carried.zones == ward.zones and carried.path == ward.path


def test_a_failed_host_has_no_snapshot_and_scans_as_an_error(
    ward: Inventory, pack: Pack, tmp_path: Path
) -> None:
    good, bad = subset(ward, "gw-01", "fs-01")
    broken = dataclasses.replace(bad, snapshot=str(tmp_path / "nowhere.json"))
    inventory = dataclasses.replace(ward, hosts=(good, broken))
    out = tmp_path / "carry"
    out.mkdir()
    stale = out / "fs-01.json"
    stale.write_bytes((WARD / "snapshots" / "fs-01.json").read_bytes())  # from an earlier run
    results = collect_to_folder(inventory, pack, [good, broken], out, 2, 30.0)
    assert [(r.name, r.status) for r in results] == [("gw-01", COLLECTED), ("fs-01", "error")]
    assert "nowhere.json" in results[1].message
    assert not stale.exists()
    assert summary(out)["counts"] == {"collected": 1, "unreachable": 0, "error": 1}
    run, raws = scan(with_snapshots(inventory, out), pack, [], Options(today=TODAY))
    statuses = {h.name: h.status for h in run.hosts}
    assert statuses == {"gw-01": "assessed", "fs-01": "error"}
    assert set(raws) == {"gw-01"}
    assert not [f for f in run.findings if f.host == "fs-01" and f.status.value == "pass"]


def test_files_transport_collects_a_tree_to_the_folder(pack: Pack, tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc" / "ssh").mkdir(parents=True)
    (root / "etc" / "ssh" / "sshd_config").write_text("PermitRootLogin yes\n")
    host = Host(name="cfg-repo", zone="lgwan", role="server", transport="files", root=str(root))
    inventory = Inventory(path=tmp_path / "inv.yaml", name="t", zones={}, sites={}, hosts=(host,))
    out = tmp_path / "carry"
    [result] = collect_to_folder(inventory, pack, [host], out, 1, 30.0)
    assert result.status == COLLECTED and result.evidence_file == "cfg-repo.json"
    raw = snapshot.load(out / "cfg-repo.json", "cfg-repo")
    item = raw.file("/etc/ssh/sshd_config")
    assert item is not None and item.data == b"PermitRootLogin yes\n"
    assert raw.probe("sshd-T") is None  # the files transport runs no probe, and none is invented


def test_local_transport_collects_this_machine(pack: Pack, tmp_path: Path) -> None:
    # Only the root-login control: a real run of the collector script, kept short.
    small = dataclasses.replace(pack, controls={"ACC-04": pack.controls["ACC-04"]})
    host = Host(name="me", zone="mgmt", role="server", transport="local")
    inventory = Inventory(path=tmp_path / "inv.yaml", name="t", zones={}, sites={}, hosts=(host,))
    [result] = collect_to_folder(inventory, small, [host], tmp_path / "carry", 1, 60.0)
    assert result.status == COLLECTED, result.message
    raw = snapshot.load(tmp_path / "carry" / "me.json", "me")
    assert raw.collector["name"] == "kijun-local"
    config = raw.file("/etc/ssh/sshd_config")
    assert config is not None and config.data == Path("/etc/ssh/sshd_config").read_bytes()
    assert raw.probe("sshd-T") is not None
    assert not any(i.kind == "probe" and i.id != "probe:sshd-T" for i in raw.items.values())


@pytest.mark.parametrize("name", ["../evil", ".hidden", "collect", "a/b"])
def test_names_that_cannot_be_files_are_refused_before_collecting(
    ward: Inventory, pack: Pack, tmp_path: Path, name: str
) -> None:
    [good] = subset(ward, "gw-01")
    bad = dataclasses.replace(good, name=name)  # "collect" would overwrite the summary, collect.json
    with pytest.raises(ValueError, match="cannot name a snapshot file"):
        collect_to_folder(ward, pack, [good, bad], tmp_path / "out", 2, 30.0)
    assert not (tmp_path / "out").exists()


def test_results_keep_host_fields(ward: Inventory, pack: Pack, tmp_path: Path) -> None:
    [host] = subset(ward, "juki-ap-01")
    [result] = collect_to_folder(ward, pack, [host], tmp_path, 1, 30.0)
    assert isinstance(result, HostResult)
    assert (result.zone, result.role, result.transport, result.owner) == (
        host.zone,
        host.role,
        host.transport,
        host.owner,
    )
    assert result.collected_at == snapshot.load(Path(host.snapshot), host.name).collected_at
