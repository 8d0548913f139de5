"""A short fuzz run of the framing parser over real collector output: FramingError or whole facts, never partial.

The output is the real collector script run by dash over the awkward tree of tests/collect
(binary, forged frames, a file cut at the size limit, keys, links, odd modes).
"""

from __future__ import annotations

import contextlib
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
def byte_damage(draw: st.DrawFn) -> bytes:
    """Flip, insert or delete bytes anywhere (ids, metadata, content)."""
    data = output()[0]
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "insert", "delete"]))
        if action == "flip":
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
        elif action == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=12)) + data[at:]
        else:
            data = data[:at] + data[at + draw(st.integers(1, 64)) :]
    return data


@st.composite
def line_damage(draw: st.DrawFn) -> bytes:
    """Lose or repeat frame lines, or interleave a chatty process's lines, as a broken pipe or buffer would.

    Lines inside a record (metadata, base64 content) are left alone here: the grammar cannot tell a
    lost ``mtime`` line or a lost 76-character content line without a size or digest check (see
    test_byte_damage_raises_only_framing_errors), which the collector does not send for whole files.
    """
    lines = output()[0].split(b"\n")
    for _ in range(draw(st.integers(1, 3))):
        frames = [i for i, line in enumerate(lines) if line.startswith(b"==KIJUN:")]
        i = draw(st.sampled_from(frames))
        action = draw(st.sampled_from(["lose", "repeat", "interleave"]))
        if action == "lose":
            del lines[i]
        elif action == "repeat":
            lines.insert(i, lines[i])
        else:  # a line with a blank is never valid metadata, base64 or hex
            junk = draw(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30))
            lines.insert(draw(st.integers(frames[0] + 1, len(lines) - 1)), f"{junk} x".encode())
    return b"\n".join(lines)


@given(st.integers(min_value=0))
def test_every_cut_raises(at: int) -> None:
    data = output()[0]
    cut = data[: at % len(data)]
    try:
        parse(cut)
    except FramingError:
        return
    raise AssertionError(f"a stream cut at byte {len(cut)} of {len(data)} parsed as whole facts")


@given(byte_damage())
def test_byte_damage_raises_only_framing_errors(data: bytes) -> None:
    # Content is not checksummed end to end (SSH's MAC guards the stream), so a flipped byte inside
    # a content block may parse; what must never happen is any exception other than FramingError.
    with contextlib.suppress(FramingError):
        parse(data)


@given(line_damage())
def test_lost_repeated_or_interleaved_lines_raise_or_parse_whole(data: bytes) -> None:
    whole = output()[1]
    try:
        raw = parse(data)
    except FramingError:
        return
    # Parsed: the damage fell where the grammar allows it (before START), so the facts are whole.
    assert raw.items == whole.items
