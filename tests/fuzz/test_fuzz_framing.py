"""A short fuzz run of the framing parser over real collector output: FramingError or whole facts, never partial.

The output is the real collector script run by dash over the awkward tree of tests/collect
(binary, forged frames, a file cut at the size limit, keys, links, odd modes).
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from scanner.collect import Plan
from scanner.collect.framing import FramingError, parse_output
from scanner.rawfacts import RawFacts
from tests.collect.conftest import NONCE, make_tree, run_plan, tree_plan


@cache
def output() -> tuple[bytes, RawFacts]:
    root = Path(tempfile.mkdtemp(prefix="kijun-fuzz-")) / "root"
    make_tree(root)
    plan = tree_plan(str(root))
    return run_plan(Plan(files=plan.files, stats=plan.stats, probes=("ss-listen",)))


def parse(data: bytes) -> RawFacts:
    return parse_output(
        data, NONCE, "test-host", "2026-11-01T09:00:00+09:00", {"name": "test", "version": "0"}
    )


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    data = output()[0]
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "insert", "delete", "repeat-line", "swap-lines"]))
        if action == "flip" and data:
            i = min(at, len(data) - 1)
            data = data[:i] + bytes([data[i] ^ draw(st.integers(1, 255))]) + data[i + 1 :]
        elif action == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=12)) + data[at:]
        elif action == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 64)) :]
        else:
            lines = data.split(b"\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            if action == "repeat-line":
                lines.insert(i, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
    return data


@given(st.integers(min_value=0))
def test_every_cut_raises(at: int) -> None:
    data = output()[0]
    cut = data[: at % len(data)]
    try:
        parse(cut)
    except FramingError:
        return
    raise AssertionError(f"a stream cut at byte {len(cut)} of {len(data)} parsed as whole facts")


@given(damaged())
def test_damage_raises_or_parses_whole(data: bytes) -> None:
    whole = output()[1]
    try:
        raw = parse(data)
    except FramingError:
        return
    # Parsed: the damage fell where the grammar allows it (before START, or a swap of whole records),
    # so every item is one the collector sent, with its content intact.
    assert set(raw.items) <= set(whole.items)
    for item_id, item in raw.items.items():
        assert item.data == whole.items[item_id].data, item_id
