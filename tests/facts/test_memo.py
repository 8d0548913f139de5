"""The per-process memo of parsed facts: kept only when the parse read nothing its key does not cover."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from scanner.facts import Context, Subject, memo
from scanner.inventory import local_host
from scanner.rawfacts import RawFacts, build_raw

INV = local_host()
CTX = Context(INV.hosts[0], INV)
calls: list[str] = []


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    memo.clear()
    calls.clear()
    yield
    memo.clear()


def _declared(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    calls.append("declared")
    files = [it.path for it in raw.glob("/etc/demo.d/*.conf")]
    item = raw.file("/etc/demo.conf")
    return {"text": item.text if item else None, "files": files, "list": [1]}


def _undeclared(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    calls.append("undeclared")
    item = raw.file("/etc/other.conf")
    return {"other": item.text if item else None}


def _clock(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    calls.append("clock")
    return {"at": raw.collected_at}


def _context(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    calls.append("context")
    return {"host": ctx.host.name}


DECLARED = Subject("demo", _declared, files=("/etc/demo.conf", "/etc/demo.d/*"))
UNDECLARED = Subject("undeclared", _undeclared, files=("/etc/demo.conf",))
CLOCK = Subject("clock", _clock, files=("/etc/demo.conf",))
CONTEXT = Subject("context", _context, files=("/etc/demo.conf",))


def raw(text: str = "a\n", other: str = "x", at: str = "2026-11-01T09:00:00+09:00", **more: str) -> RawFacts:
    return build_raw(collected_at=at, files={"/etc/demo.conf": text, "/etc/other.conf": other, **more})


def test_same_content_is_parsed_once_and_each_caller_gets_a_copy() -> None:
    first = memo.parse(DECLARED, raw(), CTX)
    first["list"].append(2)  # a caller changing its facts does not change the next host's
    second = memo.parse(DECLARED, raw(other="y"), CTX)  # an item the subject does not declare
    assert calls == ["declared"]
    assert second == {"text": "a\n", "files": [], "list": [1]}


def test_different_content_absence_or_a_new_covered_file_is_parsed_again() -> None:
    assert memo.parse(DECLARED, raw(), CTX)["text"] == "a\n"
    assert memo.parse(DECLARED, raw("b\n"), CTX)["text"] == "b\n"
    assert memo.parse(DECLARED, build_raw(absent=["/etc/demo.conf"]), CTX)["text"] == ""
    found = memo.parse(DECLARED, raw(**{"/etc/demo.d/10-x.conf": "z"}), CTX)
    assert found["files"] == ["/etc/demo.d/10-x.conf"]  # a glob below a declared "<dir>/*"
    assert calls == ["declared"] * 4


def test_a_read_outside_the_key_is_never_kept() -> None:
    assert memo.parse(UNDECLARED, raw(other="x"), CTX) == {"other": "x"}
    assert memo.parse(UNDECLARED, raw(other="y"), CTX) == {"other": "y"}
    later = "2026-11-02T09:00:00+09:00"
    assert memo.parse(CLOCK, raw(), CTX) == {"at": "2026-11-01T09:00:00+09:00"}
    assert memo.parse(CLOCK, raw(at=later), CTX) == {"at": later}
    assert memo.parse(CONTEXT, raw(), CTX) == {"host": CTX.host.name}
    assert calls == ["undeclared", "undeclared", "clock", "clock", "context"]


def test_a_subject_that_keeps_reading_outside_is_no_longer_tried() -> None:
    for n in range(memo.GIVE_UP + 2):
        assert memo.parse(CLOCK, raw(at=f"2026-11-0{n + 1}T09:00:00+09:00"), CTX)["at"].startswith(
            "2026-11-0"
        )
    assert memo._MEMO.misses["clock"] == memo.GIVE_UP and "clock" not in memo._MEMO.stored


def test_a_failing_parse_raises_every_time() -> None:
    def broken(raw: RawFacts, ctx: Context) -> dict[str, Any]:
        calls.append("broken")
        raise ValueError("bad line")

    subject = Subject("broken", broken, files=("/etc/demo.conf",))
    for _ in range(2):
        with pytest.raises(ValueError, match="bad line"):
            memo.parse(subject, raw(), CTX)
    assert calls == ["broken", "broken"]
