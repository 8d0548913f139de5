"""The inventory's YAML is read once, folders are resolved once, and the anchor-free fast path of
check_expansion decides exactly what the full walk decides (issue 12: a 10,000-host inventory)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
import yaml

from scanner import inventories, inventory, yamlsrc
from scanner.errors import LoadError

EXAMPLE = Path(__file__).resolve().parents[2] / "inventories" / "example-ward" / "inventory.yaml"


def test_a_yaml_inventory_file_is_parsed_once_and_loads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    real = yamlsrc.load_yaml

    def counting(path: Path, *args: object) -> object:
        calls.append(Path(path))
        return real(path, *args)  # type: ignore[arg-type]

    before = inventory.load(EXAMPLE)  # the plain loader, which reads the file itself
    monkeypatch.setattr(inventories, "load_yaml", counting)
    monkeypatch.setattr(inventory, "load_yaml", counting)
    after = inventories.load(EXAMPLE)
    assert [c.name for c in calls] == ["inventory.yaml"]
    assert after == before


def test_a_broken_yaml_inventory_still_names_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "inventory.yaml"
    bad.write_text("zones:\n  lgwan: {cidrs: [10.0.0.0/8]}\nhosts:\n  - name: a\n    zone: [\n", "utf-8")
    with pytest.raises(LoadError) as caught:
        inventories.load(bad)
    assert caught.value.path == str(bad) and caught.value.line is not None


def _tree(root: Path, rng: random.Random) -> list[Path]:
    """A folder tree with real folders, links to folders, links to files, dangling links, and '..'."""
    (root / "real" / "snaps").mkdir(parents=True)
    (root / "other").mkdir(parents=True)
    (root / "real" / "snaps" / "a.json").write_text("{}")
    (root / "other" / "b.json").write_text("{}")
    os.symlink(root / "real" / "snaps", root / "linked")
    os.symlink(root / "other" / "b.json", root / "real" / "snaps" / "b.json")
    os.symlink(root / "nowhere", root / "real" / "snaps" / "dangling.json")
    os.symlink("../other", root / "real" / "up")
    names = ["a.json", "b.json", "dangling.json", "missing.json", "..", "."]
    folders = ["real/snaps", "linked", "real/up", "real/snaps/../snaps", "linked/..", "absent", "."]
    return [root / rng.choice(folders) / rng.choice(names) for _ in range(200)]


def test_resolved_is_path_resolve(tmp_path: Path) -> None:
    rng = random.Random(12)
    for path in _tree(tmp_path / "each", rng):
        inventory.forget_folders()
        assert inventory.resolved(path) == str(path.resolve()), path
    inventory.forget_folders()
    for path in _tree(tmp_path / "kept", rng):  # the folders' cache kept over many paths
        assert inventory.resolved(path) == str(path.resolve()), path


def test_each_inventory_read_resolves_folders_anew(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    os.symlink(tmp_path / "one", tmp_path / "snapshots")
    doc = {
        "zones": {"lgwan": {"cidrs": ["10.0.0.0/8"]}},
        "hosts": [{"name": "h1", "zone": "lgwan", "role": "server", "transport": "snapshot"}],
    }
    (tmp_path / "inventory.yaml").write_text(yaml.safe_dump(doc), "utf-8")
    first = inventories.load(tmp_path).hosts[0].snapshot
    (tmp_path / "snapshots").unlink()
    os.symlink(tmp_path / "two", tmp_path / "snapshots")
    second = inventories.load(tmp_path).hosts[0].snapshot
    assert first == str(tmp_path / "one" / "h1.json")
    assert second == str(tmp_path / "two" / "h1.json")


def _random_yaml(rng: random.Random) -> str:
    """Nested block and flow YAML, sometimes with anchors and aliases, sometimes too deep or too big."""
    depth = rng.choice([3, 10, yamlsrc.MAX_DEPTH - 1, yamlsrc.MAX_DEPTH, yamlsrc.MAX_DEPTH + 1])
    text = "[" * depth + "1" + "]" * depth
    if rng.random() < 0.5:
        text = "a: &x " + text + "\nb: *x\nc: [*x, *x]\n"
    else:
        text = "a: " + text + "\nb: 'R and D'\n"
    if rng.random() < 0.3:
        text += "d: &y [" + ", ".join(["*x"] * 3 if "&x" in text else ["1"] * 3) + "]\n"
    return text


@pytest.mark.parametrize("seed", range(40))
def test_the_fast_expansion_check_decides_as_the_full_walk(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _random_yaml(random.Random(seed))

    def outcome() -> object:
        try:
            return ("ok", yamlsrc.parse_yaml(text, "doc.yaml"))
        except LoadError as exc:
            return ("error", exc.line, exc.message)

    fast = outcome()
    monkeypatch.setattr(yamlsrc, "_plain_tree_fits", lambda root: False)
    assert outcome() == fast


def test_too_many_nodes_without_anchors_is_refused_by_the_full_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlsrc, "MAX_NODES", 50)
    with pytest.raises(LoadError, match="more than 50 nodes"):
        yamlsrc.parse_yaml("[" + ", ".join(["1"] * 60) + "]", "big.yaml")
    assert yamlsrc.parse_yaml("[" + ", ".join(["1"] * 40) + "]", "small.yaml") == [1] * 40
