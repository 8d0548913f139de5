"""The files transport: a directory as a host root, giving the same items as the script would."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.collect import CollectError, Plan
from scanner.collect.files import collect, gather
from scanner.inventory import Host
from scanner.rawfacts import Item
from tests.collect.conftest import LIMIT, run_plan, tree_plan


def _rebase(item: Item, prefix: str) -> Item:
    path = (item.path or "").removeprefix(prefix)
    return Item(**{**item.__dict__, "id": f"{item.kind}:{path}", "path": path})


def test_same_items_as_the_script(tree: Path) -> None:
    from_files = gather(tree, tree_plan(""), "h", LIMIT)
    _, from_script = run_plan(tree_plan(str(tree)))
    rebased = {i.id: i for i in (_rebase(item, str(tree)) for item in from_script.items.values())}
    assert from_files.items == rebased
    assert len(rebased) >= 10
    assert from_files.file("/etc/app.conf") is not None


def test_symlinks_resolve_inside_the_root(tree: Path) -> None:
    (tree / "usr/share").mkdir(parents=True)
    (tree / "usr/share/real.conf").write_text("inside\n")
    (tree / "etc/absolute.conf").symlink_to("/usr/share/real.conf")  # as on the host: into the root
    (tree / "etc/relative.conf").symlink_to("../usr/share/real.conf")
    (tree / "etc/escape.conf").symlink_to("../../outside.conf")
    (tree.parent / "outside.conf").write_text("scanner's own file\n")
    (tree / "etc/loop.conf").symlink_to("loop.conf")
    (tree / "etc/linked.d").symlink_to("/etc/app.d")  # a directory link used by a glob
    plan = Plan(
        files=(
            "/etc/absolute.conf",
            "/etc/relative.conf",
            "/etc/escape.conf",
            "/etc/loop.conf",
            "/etc/linked.d/*.conf",
        )
    )
    raw = gather(tree, plan, "h")
    for name in ("absolute", "relative"):
        item = raw.file(f"/etc/{name}.conf")
        assert item is not None and item.text == "inside\n"
    # Escaping or looping links are not followed: not collected, neither absent nor empty.
    assert "file:/etc/escape.conf" not in raw.items and "file:/etc/loop.conf" not in raw.items
    assert [i.path for i in raw.glob("/etc/linked.d/*")] == [
        "/etc/linked.d/20-forged.conf",
        "/etc/linked.d/it's odd [1].conf",
    ]


def test_no_probes_and_host_paths(tree: Path) -> None:
    host = Host(name="repo", zone="mgmt", role="server", transport="files", root=str(tree))
    raw = collect(host, Plan(files=("/etc/app.conf",), probes=("ss-listen",)), 10)
    assert raw.host == "repo" and list(raw.items) == ["file:/etc/app.conf"]
    assert raw.collector["name"] == "kijun-files"


def test_bad_roots(tmp_path: Path) -> None:
    with pytest.raises(CollectError, match="not a directory"):
        gather(tmp_path / "nope", Plan(), "h")
    with pytest.raises(CollectError, match="needs 'root'"):
        collect(Host(name="x", zone="z", role="server", transport="files"), Plan(), 1)


def test_unreadable_content_is_not_an_empty_file(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(real: Path, limit: int) -> tuple[bytes, str]:
        raise PermissionError(13, "Permission denied", str(real))

    monkeypatch.setattr("scanner.collect.files._read", denied)  # root reads everything: simulate
    raw = gather(tree, Plan(files=("/etc/locked.conf",)), "h")
    assert raw.file("/etc/locked.conf") is None
    locked = raw.stat("/etc/locked.conf")
    assert locked is not None and locked.uid == 4242 and "unreadable" in locked.stderr
