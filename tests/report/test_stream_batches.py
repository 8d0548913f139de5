"""Snapshot hosts go to the pool a few per task at scale: the run folder is the same byte for byte."""

from __future__ import annotations

import gc
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from scanner import content, stream
from scanner import run as runmod
from scanner.inventory import load
from scanner.policy import load_pack
from scanner.results import HostResult
from scanner.waivers import load_waivers

AS_OF = date(2026, 11, 20)


@pytest.fixture(scope="module")
def ward() -> tuple[Any, Any, list[Any]]:
    inv = load(content.example_inventory())
    pack = load_pack(inv.profile or "base")
    return inv, pack, load_waivers(inv.waivers_dir, pack)


def _scan(ward: tuple[Any, Any, list[Any]], folder: Path, ticks: list[tuple[int, str]]) -> Any:
    inv, pack, waivers = ward

    def progress(done: int, total: int, host: HostResult) -> None:
        ticks.append((done, host.name))

    options = runmod.Options(today=AS_OF, workers=2)
    return stream.scan(inv, pack, waivers, options, folder, progress)[0]


def test_batch_size_grows_with_the_hosts_and_stays_small() -> None:
    assert stream._batch(36, 2) == 1  # the example ward: a host per task, as before
    assert stream._batch(1008, 2) == stream.BATCH == stream._batch(10080, 2)
    assert stream._batch(100, 1) == 6 and stream._batch(0, 2) == 1


def test_hosts_in_batches_give_the_same_bytes_and_progress(
    ward: tuple[Any, Any, list[Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one: list[tuple[int, str]] = []
    five: list[tuple[int, str]] = []
    _scan(ward, tmp_path / "one", one)
    monkeypatch.setattr(stream, "_batch", lambda hosts, workers: 5)  # 36 hosts: 7 tasks of 5 and one of 1
    run = _scan(ward, tmp_path / "five", five)
    assert run.counts()["fail"] == 12 and len(run.hosts) == 36
    lines = (tmp_path / "one" / "findings.jsonl").read_bytes()
    assert lines == (tmp_path / "five" / "findings.jsonl").read_bytes() and lines.count(b"\n") == 1356
    evidence = sorted(p.name for p in (tmp_path / "five" / "evidence").iterdir())
    assert evidence == sorted(p.name for p in (tmp_path / "one" / "evidence").iterdir())
    for path in (tmp_path / "one" / "evidence").iterdir():
        assert path.read_bytes() == (tmp_path / "five" / "evidence" / path.name).read_bytes()
    # Progress is told of every host once, counting up, whatever the batches.
    assert [done for done, _ in five] == list(range(1, 37)) == [done for done, _ in one]
    assert sorted(name for _, name in five) == sorted(h.name for h in run.hosts)


def test_workers_collect_garbage_less_often_and_skip_the_scans_state() -> None:
    for context, initializer, args in (
        ("fork", stream._orphan_guard, (os.getpid(),)),
        ("spawn", stream._begin, (os.getpid(), {"marker": list(range(1000))})),
    ):
        pool = ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context(context), initializer=initializer, initargs=args
        )
        with pool:
            threshold = pool.submit(gc.get_threshold).result()
            frozen = pool.submit(gc.get_freeze_count).result()
        assert threshold[0] == stream.YOUNG > 700
        if context == "spawn":
            assert frozen > 1000  # the state given to a started worker is out of the collector's sight
