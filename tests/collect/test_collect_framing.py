"""Strict parsing of the collector output: damage of any kind raises FramingError, never partial facts."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from scanner.collect import CollectError, Plan
from scanner.collect.framing import FramingError, host_time, parse_output
from scanner.rawfacts import RawFacts
from scanner.yamlsrc import validate
from tests.collect.conftest import NONCE, run_plan, tree_plan

FALLBACK = "2026-11-01T09:00:00+09:00"


def _parse(out: bytes, nonce: str = NONCE) -> RawFacts:
    return parse_output(out, nonce, "h", FALLBACK, {"name": "test", "version": "0"})


@pytest.fixture()
def output(tree: Path) -> bytes:
    plan = tree_plan(str(tree))
    return run_plan(Plan(files=plan.files, stats=plan.stats, probes=("ss-listen",)))[0]


def test_every_truncation_at_a_line_boundary_raises(output: bytes) -> None:
    lines = output.split(b"\n")
    assert len(lines) > 40
    for cut in range(len(lines) - 1):
        with pytest.raises(FramingError):
            _parse(b"\n".join(lines[:cut]) + b"\n")


def test_cut_mid_line_raises(output: bytes) -> None:
    with pytest.raises(FramingError, match="middle of a line"):
        _parse(output[:-3])


def test_record_missing_end_is_named(output: bytes) -> None:
    lines = output.decode().split("\n")
    first_end = lines.index(f"==KIJUN:{NONCE}:END")
    del lines[first_end]
    with pytest.raises(FramingError, match="has no END"):
        _parse("\n".join(lines).encode())


def test_wrong_nonce_raises(output: bytes) -> None:
    with pytest.raises(FramingError, match="another run's nonce"):
        _parse(output, "ffffffffffffffffffffffffffffffff")
    with pytest.raises(FramingError, match="no START"):
        _parse(b"Last login: yesterday\n")


def test_a_frame_with_a_foreign_nonce_inside_raises(output: bytes) -> None:
    forged = output.replace(f"==KIJUN:{NONCE}:END\n".encode(), b"==KIJUN:0000000000000000:END\n", 1)
    with pytest.raises(FramingError, match="wrong nonce"):
        _parse(forged)


def test_chatter_before_start_is_ignored_after_done_is_not(output: bytes) -> None:
    clean = _parse(output)
    assert _parse(b"Welcome to \xe5\x8c\xba\x00 host\n" + output).items == clean.items
    with pytest.raises(FramingError, match="after DONE"):
        _parse(output + b"bye\n")


def test_bad_data_raises(output: bytes) -> None:
    lines = output.decode().split("\n")
    data_at = next(i for i, line in enumerate(lines) if line.endswith(":DATA content")) + 1
    bad_chars = [*lines]
    bad_chars[data_at] = "!!" + bad_chars[data_at][2:]
    with pytest.raises(FramingError, match="bad characters"):
        _parse("\n".join(bad_chars).encode())
    bad_padding = [*lines]
    bad_padding[data_at] = bad_padding[data_at][:-1]
    with pytest.raises(FramingError, match="bad base64"):
        _parse("\n".join(bad_padding).encode())


def test_non_ascii_after_start_raises(output: bytes) -> None:
    with pytest.raises(FramingError, match="non-ASCII"):
        _parse(output.replace(b"\nenc base64\n", b"\nenc base64\xff\n"))


def test_record_count_must_match(output: bytes) -> None:
    text = output.decode()
    start = text.index(f"==KIJUN:{NONCE}:BEGIN")
    end = text.index(f"==KIJUN:{NONCE}:END\n", start) + len(f"==KIJUN:{NONCE}:END\n")
    with pytest.raises(FramingError, match="DONE counts"):
        _parse((text[:start] + text[end:]).encode())


def test_unknown_metadata_and_duplicates_raise(output: bytes) -> None:
    text = output.decode()
    with pytest.raises(FramingError, match="unexpected line 'owner'"):
        _parse(text.replace("\nuid 0\n", "\nowner root\n", 1).encode())
    with pytest.raises(FramingError, match="unexpected line 'mode'"):
        _parse(text.replace("\nmode 644\n", "\nmode 644\nmode 600\n", 1).encode())
    with pytest.raises(FramingError, match="not octal"):
        _parse(text.replace("\nmode 644\n", "\nmode 9z\n", 1).encode())


def _frame(*records: str, header: str = "time 2026-11-02T10:00:00+0900\nenc base64\nlimit 10\n") -> bytes:
    body = "".join(records)
    return f"==KIJUN:{NONCE}:START 1\n{header}{body}==KIJUN:{NONCE}:DONE {len(records)}\n".encode()


def _record(item_id: str, body: str) -> str:
    kind = item_id.split(":", 1)[0]
    encoded = base64.b64encode(item_id.encode()).decode()
    return f"==KIJUN:{NONCE}:BEGIN {kind} {encoded}\n{body}==KIJUN:{NONCE}:END\n"


def _file(path: str, content: bytes, extra: str = "") -> str:
    meta = f"exists 1\nmode 600\nuid 0\ngid 0\nmtime 1\nsize {len(content)}\n{extra}"
    return _record(
        f"file:{path}", f"{meta}==KIJUN:{NONCE}:DATA content\n{base64.b64encode(content).decode()}\n"
    )


def test_hand_written_stream() -> None:
    raw = _parse(
        _frame(
            _file("/etc/a", b"first"),
            _file("/etc/a", b"second"),  # overlapping globs: the first wins
            _file("/proc/x", b"0123456789ABC"),  # longer than the limit although stat said 13: cut
            _record("probe:ss-listen", f"==KIJUN:{NONCE}:DATA stdout\nb2s=\nrc 0\n"),
        )
    )
    assert raw.collected_at == "2026-11-02T10:00:00+09:00"
    a = raw.file("/etc/a")
    assert a is not None and a.data == b"first" and a.mode == "0600"
    x = raw.file("/proc/x")
    assert x is not None and x.truncated and x.data == b"0123456789" and x.sha256 is None
    probe = raw.probe("ss-listen")
    assert probe is not None and probe.text == "ok" and probe.rc == 0 and probe.stderr == ""


def test_incomplete_records_raise() -> None:
    with pytest.raises(FramingError, match="no rc"):
        _parse(_frame(_record("probe:ss-listen", f"==KIJUN:{NONCE}:DATA stdout\n")))
    with pytest.raises(FramingError, match="not a known probe"):
        _parse(_frame(_record("probe:rm-rf", f"==KIJUN:{NONCE}:DATA stdout\nrc 0\n")))
    with pytest.raises(FramingError, match="no content"):
        _parse(_frame(_record("file:/etc/a", "exists 1\nmode 600\nuid 0\ngid 0\nmtime 1\nsize 1\n")))
    with pytest.raises(FramingError, match="exists must be"):
        _parse(_frame(_record("file:/etc/a", "")))
    with pytest.raises(FramingError, match="has id"):
        _parse(_frame(_record("file:/etc/a", "exists 0\n").replace("BEGIN file", "BEGIN stat")))
    with pytest.raises(FramingError, match="unknown encoding"):
        _parse(_frame(header="enc rot13\nlimit 10\n"))
    with pytest.raises(FramingError, match="unknown encoding 'rot13'"):
        _parse(_frame(_file("/etc/a", b"x"), header="enc rot13\nlimit 10\n"))
    with pytest.raises(FramingError, match="unknown encoding ''"):
        _parse(_frame(_file("/etc/a", b"x"), header="limit 10\n"))


def test_collected_at_prefers_the_host_clock() -> None:
    assert host_time("2026-11-01T09:00:00+0900") == "2026-11-01T09:00:00+09:00"
    assert host_time("2026-03-01T23:59:59-0330") == "2026-03-01T23:59:59-03:30"
    assert _parse(_frame(header="time 2026-06-01T00:00:00+0000\nenc base64\nlimit 9\n")).collected_at == (
        "2026-06-01T00:00:00+00:00"
    )
    assert _parse(_frame(header="time \nenc base64\nlimit 9\n")).collected_at == FALLBACK
    with pytest.raises(FramingError, match="host time"):
        _parse(_frame(header="time Sun Nov  1 09:00:00 JST 2026\nenc base64\nlimit 9\n"))


def test_framing_error_is_a_host_error() -> None:
    error = FramingError("x")
    assert isinstance(error, CollectError) and error.status == "error"


def test_round_trip_through_the_schema(output: bytes) -> None:
    raw = _parse(output)
    doc = raw.to_json()
    validate(doc, "rawfacts", "<memory>")
    assert RawFacts.from_json(doc) == raw
    kinds = {item.kind for item in raw.items.values()}
    assert kinds == {"file", "stat", "probe"}
    assert any(item.truncated for item in raw.items.values())
    assert any(doc["items"][i].get("encoding") == "base64" for i in doc["items"])


def test_a_lost_content_line_of_a_whole_file_is_not_collected() -> None:
    """A whole file's content must be as long as stat said; otherwise it is not collected, never short."""
    body = base64.b64encode(b"line one\nline two\n").decode()
    for content, collected in ((body, True), (body[:12], False), (body + "bGluZQo=", False)):
        out = (
            f"==KIJUN:{NONCE}:START 2\ntime 2026-11-01T09:00:00+0900\nenc base64\nlimit 1000\n"
            f"==KIJUN:{NONCE}:BEGIN file {base64.b64encode(b'file:/etc/x').decode()}\n"
            "exists 1\nmode 644\nuid 0\ngid 0\nmtime 1\nsize 18\n"
            f"==KIJUN:{NONCE}:DATA content\n{content}\n==KIJUN:{NONCE}:END\n==KIJUN:{NONCE}:DONE 1\n"
        ).encode()
        raw = _parse(out)
        if collected:
            assert raw.file("/etc/x") is not None and raw.file("/etc/x").data == b"line one\nline two\n"
        else:
            assert raw.file("/etc/x") is None, content
            assert "changed-while-read" in raw.items["stat:/etc/x"].stderr
