"""The per-process memo of parsed facts: kept only when the parse read nothing its key does not cover."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import scanner.facts as factsmod
from scanner.facts import Context, Subject, memo
from scanner.inventory import load, local_host
from scanner.rawfacts import RawFacts, build_raw

EXAMPLE = Path(__file__).resolve().parents[2] / "inventories" / "example-ward"
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


def _split_content(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    calls.append("content")
    item = raw.file("/etc/demo.conf")
    if item is not None and item.text == "bad\n":
        raise ValueError("bad content")
    return {"text": item.text if item else None, "_keep": 1}


def _split_finish(facts: dict[str, Any], raw: RawFacts, ctx: Context) -> dict[str, Any]:
    calls.append("finish")
    if raw.collected_at.startswith("2099"):
        raise ValueError("after the collection time")
    facts.pop("_keep")
    return {**facts, "at": raw.collected_at}


def _split_whole(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    calls.append("whole")
    return _split_finish(_split_content(raw, ctx), raw, ctx)


SPLIT = Subject(
    "split", _split_whole, files=("/etc/demo.conf",), content=_split_content, finish=_split_finish
)


def test_a_split_subject_keeps_its_content_and_finishes_it_for_every_host() -> None:
    first = memo.parse(SPLIT, raw(at="2026-11-01T09:00:00+09:00"), CTX)
    second = memo.parse(SPLIT, raw(at="2026-11-02T09:00:00+09:00"), CTX)
    assert first == {"text": "a\n", "at": "2026-11-01T09:00:00+09:00"}
    assert second == {"text": "a\n", "at": "2026-11-02T09:00:00+09:00"}
    assert calls == ["content", "finish", "finish"]
    for _ in range(2):  # the clock's error is raised every time, though the content is kept
        with pytest.raises(ValueError, match="after the collection"):
            memo.parse(SPLIT, raw(at="2099-01-01T00:00:00+09:00"), CTX)
    calls.clear()
    for _ in range(2):  # the content's error: the whole parser raises it, every time
        with pytest.raises(ValueError, match="bad content"):
            memo.parse(SPLIT, raw("bad\n"), CTX)
    assert calls == ["content", "whole", "content"] * 2


def test_a_file_item_under_a_stat_pattern_is_in_the_key() -> None:
    def newest(raw: RawFacts, ctx: Context) -> dict[str, Any]:
        calls.append("newest")
        return {"files": [it.path for it in raw.glob("/var/log/*", "stat") + raw.glob("/var/log/*")]}

    subject = Subject("newest", newest, stats=("/var/log/*",))
    assert memo.parse(subject, raw(**{"/var/log/syslog": "x"}), CTX) == {"files": ["/var/log/syslog"]}
    assert memo.parse(subject, raw(**{"/var/log/syslog": "x"}), CTX) == {"files": ["/var/log/syslog"]}
    assert memo.parse(subject, raw(**{"/var/log/messages": "x"}), CTX) == {"files": ["/var/log/messages"]}
    assert calls == ["newest", "newest"] and "newest" in memo._MEMO.stored


def _ward() -> list[tuple[RawFacts, Context]]:
    inventory = load(EXAMPLE)
    out = []
    for host in inventory.hosts:
        path = EXAMPLE / "snapshots" / f"{host.name}.json"
        if path.is_file():
            out.append((RawFacts.from_json(json.loads(path.read_text("utf-8"))), Context(host, inventory)))
    return out


def _later(found: RawFacts, days: int) -> RawFacts:
    when = datetime.fromisoformat(found.collected_at) + timedelta(days=days)
    return replace(found, collected_at=when.isoformat())


def test_every_subject_of_the_example_ward_gives_what_its_parser_gives() -> None:
    ward = _ward()
    # Each host twice, the second time read later (the kept content finished with another clock),
    # and once with a hand-written id whose evidence is tested by the item's fields.
    hosts = [*ward, *[(_later(found, 400), ctx) for found, ctx in ward]]
    odd = ward[0][0]
    odd_item = replace(next(iter(odd.items.values())), id="file:/odd")
    hosts.append((replace(odd, items={**odd.items, "file:/odd": odd_item}), ward[0][1]))
    for found, ctx in hosts:
        facts = factsmod.build(found, ctx)
        for name, subject in factsmod.SUBJECTS.items():
            assert facts.evidence[name] == subject.evidence(found), name
            try:
                want = subject.parse(found, ctx)
            except Exception as exc:
                assert name in facts.errors and str(exc) in facts.errors[name]
                continue
            want.pop(factsmod.ORIGINS, None)
            assert facts.tree[name] == want, (found.host, name)
    assert {"accounts", "network", "packages", "logs", "logrotate"} <= memo._MEMO.stored


def test_an_item_differing_in_any_one_field_is_parsed_again() -> None:
    """The key holds every field of every covered item: metadata, rc, stderr, a cut, not only the content."""

    def everything(raw: RawFacts, ctx: Context) -> dict[str, Any]:
        calls.append("everything")
        item = raw.file("/etc/demo.conf")
        return {"item": repr(item)}

    subject = Subject("everything", everything, files=("/etc/demo.conf",))
    base = raw()
    item = base.items["file:/etc/demo.conf"]
    changes: dict[str, Any] = {
        "exists": False,
        "data": b"b\n",  # the same claimed sha256, another content: parsed again, never the kept facts
        "mode": "0600",
        "uid": 1000,
        "gid": 1000,
        "mtime": 1,
        "size": 99,
        "sha256": "0" * 64,
        "truncated": True,
        "stderr": "warn",
        "redacted": 1,
        "cmd": "cat",
        "rc": 1,
    }
    assert set(changes) | {"id", "kind", "path"} == {f.name for f in dataclasses.fields(item)}
    want = [memo.parse(subject, base, CTX)]
    for name, value in changes.items():
        changed = replace(item, **{name: value})
        other = replace(base, items={**base.items, item.id: changed})
        assert memo.parse(subject, other, CTX) == subject.parse(other, CTX), name
    assert calls.count("everything") == 1 + 2 * len(changes)  # each parsed again (and once directly)
    assert memo.parse(subject, base, CTX) == want[0] and calls.count("everything") == 1 + 2 * len(changes)


def _ssh(address: str, host_key: str, text: str = "a\n") -> RawFacts:
    """Raw facts as the SSH collector writes its header: who the host is differs on every host."""
    base = raw(text)
    collector = {"name": "kijun-ssh", "version": "1", "address": address, "user": "kijun", "command": "sh -s"}
    collector |= {"host_key": host_key, "follow": "sshd", "connect_s": "0.050"}
    return dataclasses.replace(base, collector=collector)


def _follows(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    calls.append("follows")
    item = raw.file("/etc/demo.conf")
    return {"follow": raw.collector.get("follow", ""), "text": item.text if item else None}


def _address(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    calls.append("address")
    return {"address": raw.collector["address"]}


def _whole_header(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    calls.append("whole")
    return {"header": json.dumps(raw.collector, sort_keys=True)}


def test_who_an_ssh_host_is_stays_out_of_the_key_and_a_parser_reading_it_is_not_kept() -> None:
    follows = Subject("follows", _follows, files=("/etc/demo.conf",))
    one = memo.parse(follows, _ssh("10.0.0.1:22", "ssh-ed25519 AAAA1"), CTX)
    two = memo.parse(follows, _ssh("10.0.0.2:22", "ssh-ed25519 AAAA2"), CTX)
    assert one == two == {"follow": "sshd", "text": "a\n"} and calls == ["follows"]  # one parse, two hosts
    address = Subject("address", _address, files=("/etc/demo.conf",))
    assert memo.parse(address, _ssh("10.0.0.1:22", "k1"), CTX) == {"address": "10.0.0.1:22"}
    assert memo.parse(address, _ssh("10.0.0.2:22", "k2"), CTX) == {"address": "10.0.0.2:22"}
    whole = Subject("whole", _whole_header, files=("/etc/demo.conf",))
    assert "10.0.0.1:22" in memo.parse(whole, _ssh("10.0.0.1:22", "k1"), CTX)["header"]
    assert "10.0.0.2:22" in memo.parse(whole, _ssh("10.0.0.2:22", "k2"), CTX)["header"]
    assert calls == ["follows", "address", "address", "whole", "whole"]
