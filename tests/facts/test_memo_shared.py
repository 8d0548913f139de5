"""Kept fact trees are shared by every host with the same content: nothing in a scan may change one.

facts.build hands each host the memo's own tree (no copy per host), so a finisher, the engine, the
finding lines, the evidence or the probes changing a fact would change the next host's facts. The
whole example ward is scanned twice in this process (every host after the first of its kind reads
kept trees) with the memo watching, and every kept tree must still be what it was when kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import scanner.facts as factsmod
from scanner import content, stream
from scanner import run as runmod
from scanner.facts import Context, Subject, memo
from scanner.inventory import load, local_host
from scanner.policy import load_pack
from scanner.rawfacts import RawFacts, build_raw
from scanner.waivers import load_waivers


class _Here:
    """A pool that runs each job at once in this process (so the jobs share this process's memo)."""

    def submit(self, fn: Any, *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args))
        return future

    def __enter__(self) -> _Here:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.fixture(autouse=True)
def watched() -> Iterator[None]:
    memo.watch()
    memo.clear()
    yield
    memo.watch(False)
    memo.clear()


def test_a_scan_of_the_example_ward_changes_no_kept_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "_start", lambda workers: _Here())
    inv = load(content.example_inventory())
    pack = load_pack(inv.profile or "base")
    waivers = load_waivers(inv.waivers_dir, pack)
    counts = []
    for n in range(2):
        options = runmod.Options(today=date(2026, 11, 20), workers=1, probe=False)
        run = stream.scan(inv, pack, waivers, options, tmp_path / str(n))[0]
        counts.append(run.counts())  # type: ignore[attr-defined]
    assert counts[0] == counts[1] and counts[0]["fail"] == 12
    assert len(memo._MEMO.watched or {}) > 100  # the ward's distinct contents were kept and watched
    assert {"accounts", "backup", "malware", "network", "pam", "sshd"} <= memo._MEMO.stored
    assert memo.changed() == []


def _listed(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    item = raw.file("/etc/demo.conf")
    return {"lines": (item.text if item else "").split(), "on": True}


LISTED = Subject("listed", _listed, files=("/etc/demo.conf",))


def test_a_change_to_a_shared_tree_is_detected() -> None:
    ctx = Context(local_host().hosts[0], local_host())
    first = memo.parse(LISTED, build_raw(files={"/etc/demo.conf": "a b\n"}), ctx, share=True)
    again = memo.parse(LISTED, build_raw(host="other", files={"/etc/demo.conf": "a b\n"}), ctx, share=True)
    assert again is first and memo.changed() == []  # shared, not copied
    first["on"] = 1  # equal to True, but not the same fact
    assert memo.changed() == ["listed"]
    first["on"] = True
    first["lines"].append("c")
    assert memo.changed() == ["listed"]


def test_build_gives_origins_without_changing_the_kept_tree() -> None:
    inv = load(content.example_inventory())
    host = inv.hosts[0]
    path = Path(str(host.snapshot))
    from scanner.collect import snapshot

    raw = snapshot.load(path, host.name)
    first = factsmod.build(raw, Context(host, inv))
    second = factsmod.build(raw, Context(host, inv))
    assert first.origins and first.origins == second.origins and first.tree == second.tree
    assert all(factsmod.ORIGINS not in tree for tree in second.tree.values() if isinstance(tree, dict))
    assert memo.changed() == []
