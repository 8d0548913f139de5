"""Every parser, fed mutated real inputs, returns facts or raises its documented error (ValueError), nothing else.

Seeds are the example ward's snapshots (every subject's items for a Linux server, a log server, a
backup host, terminals on Linux and Windows) and the recorded real outputs in tests/facts/outputs/.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanner import facts as factsmod
from scanner.collect import snapshot
from scanner.facts import Context
from scanner.inventories import load
from scanner.inventory import Inventory
from scanner.netdev.device import CONFIG_PATH
from scanner.rawfacts import Item, RawFacts, build_raw

from .mutate import mutated

REPO = Path(__file__).resolve().parents[2]
WARD = REPO / "inventories" / "example-ward"
OUTPUTS = REPO / "tests" / "facts" / "outputs"
SEEDS = ("fs-01", "log-lg-01", "backup-dc-01", "gw-01", "mn-term-01", "lg-term-w01", "proxy-01")
NETDEV = REPO / "inventories" / "example-ward-netdev"  # network devices: exported configurations
DEVICES = ("fw-01", "cat-core-01", "rtx-kita-01")


@cache
def ward(name: str) -> Inventory:
    return load(NETDEV if name in DEVICES else WARD)


@cache
def seed(name: str) -> RawFacts:
    if name in DEVICES:
        config = (NETDEV / "devices" / name / "running-config").read_text("utf-8")
        return build_raw(host=name, files={CONFIG_PATH: config})
    return snapshot.load(WARD / "snapshots" / f"{name}.json", name)


@cache
def recorded(subject: str) -> tuple[str, ...]:
    """Return the recorded real outputs of a subject (tests/facts/outputs/<subject>/**)."""
    folder = OUTPUTS / subject
    if not folder.is_dir():
        return ()
    return tuple(
        p.read_bytes().decode("utf-8", "replace")
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.stat().st_size < 200_000
    )


def cases() -> list[tuple[str, str]]:
    """Return (subject, seed host) pairs where the seed holds items the subject reads."""
    out = []
    for name, subject in sorted(factsmod.SUBJECTS.items()):
        for host in (*SEEDS, *DEVICES):
            raw = seed(host)
            if subject.evidence(raw):
                out.append((name, host))
                break
    return out


def with_content(raw: RawFacts, item: Item, data: bytes, **changes: object) -> RawFacts:
    new = dataclasses.replace(
        item, data=data, size=len(data), sha256=hashlib.sha256(data).hexdigest(), **changes
    )
    return dataclasses.replace(raw, items={**raw.items, item.id: new})


def context(host: str) -> Context:
    inv = ward(host)
    found = inv.host(host)
    assert found is not None
    return Context(found, inv)


CASES = cases()


def test_the_harness_covers_every_parser() -> None:
    covered = {name for name, _ in CASES}
    assert covered >= set(factsmod.SUBJECTS) - {"host", "declared"}, set(factsmod.SUBJECTS) - covered


@pytest.mark.parametrize(("name", "host"), CASES)
@given(data=st.data())
def test_a_parser_raises_only_its_documented_error(name: str, host: str, data: st.DataObject) -> None:
    subject = factsmod.SUBJECTS[name]
    raw = seed(host)
    item = raw.items[data.draw(st.sampled_from(subject.evidence(raw)))]
    if item.kind == "stat" or not item.exists:  # metadata only: odd times, sizes, modes, presence
        changes = {
            "exists": data.draw(st.booleans()),
            "mtime": data.draw(st.one_of(st.none(), st.integers(-(2**40), 2**40))),
            "mode": data.draw(st.sampled_from(["0644", "0777", "0000", "4755", "7777", ""])),
            "size": data.draw(st.integers(0, 2**40)),
        }
        changed = dataclasses.replace(raw, items={**raw.items, item.id: dataclasses.replace(item, **changes)})
    else:
        base = data.draw(st.sampled_from((item.data.decode("utf-8", "replace"), *recorded(name))))
        changed = with_content(raw, item, data.draw(mutated(base)).encode("utf-8", "surrogatepass"))
    with contextlib.suppress(ValueError):  # the documented error: an error finding, never a pass
        subject.parse(changed, context(host))


@pytest.mark.parametrize(("name", "host"), CASES)
def test_a_truncated_item_is_never_read_as_whole(name: str, host: str) -> None:
    """An item the collector cut at its size limit makes the subject an error (issue 9.1), never facts."""
    subject = factsmod.SUBJECTS[name]
    raw = seed(host)
    for item_id in subject.evidence(raw):
        item = raw.items[item_id]
        if item.kind == "stat" or not item.exists:
            continue
        cut = item.data[: len(item.data) // 2]
        built = factsmod.build(with_content(raw, item, cut, truncated=True), context(host), [name])
        assert name in built.errors, f"{name} read the truncated {item_id} as if whole"
