"""The batch record: listing, one stat, one head -v read, split back into items exactly or not at all."""

from __future__ import annotations

import pytest

from scanner.collect.batch import items
from scanner.collect.framing import FramingError, file_item
from scanner.rawfacts import Item


def _blocks(content: bytes, sizes: dict[str, int]) -> dict[str, bytes]:
    listing = "file a /etc/gone\nstat s /etc/dir\nfile n /etc/fifo\nfile r /etc/locked\nfile x-shadow /etc/cron.d/zz\n"
    listing += "".join(f"file c {name}\n" for name in sizes)
    stats = "755 0 0 1700000000 4096 /etc/dir\n644 0 0 1 0 /etc/fifo\n600 0 0 1 3 /etc/locked\n"
    stats += "640 0 42 1 99 /etc/cron.d/zz\n"
    stats += "".join(f"644 0 0 1700000000 {size} {name}\n" for name, size in sizes.items())
    return {"list": listing.encode(), "stat": stats.encode(), "content": content}


def _by_id(blocks: dict[str, bytes]) -> dict[str, Item]:
    return {i.id: i for i in items(blocks, 1000, file_item, FramingError)}


def test_every_state_and_exact_contents() -> None:
    content = b"==> /etc/a.conf <==\nabc\n==> /etc/with space <==\n\n==> /etc/empty <==\n"
    got = _by_id(_blocks(content, {"/etc/a.conf": 3, "/etc/with space": 0, "/etc/empty": 0}))
    a = got["file:/etc/a.conf"]
    assert a.data == b"abc" and a.size == 3 and a.mode == "0644"
    assert got["file:/etc/with space"].data == b""
    assert got["file:/etc/gone"].exists is False
    assert got["stat:/etc/dir"].mode == "0755"
    assert "not-regular" in got["stat:/etc/fifo"].stderr
    assert "unreadable" in got["stat:/etc/locked"].stderr
    assert "refused-shadow" in got["stat:/etc/cron.d/zz"].stderr


def test_a_file_that_changed_size_and_those_after_it_are_not_collected() -> None:
    # stat said 3 bytes; the read found 5 (the file grew in between): no guess at where it ends.
    content = b"==> /etc/a.conf <==\nabcde\n==> /etc/b.conf <==\nxy"
    got = _by_id(_blocks(content, {"/etc/a.conf": 3, "/etc/b.conf": 2}))
    assert "file:/etc/a.conf" not in got and "file:/etc/b.conf" not in got
    # Content that forges a header with the next name cannot move the split either.
    forged = b"==> /etc/a.conf <==\nab\n==> /etc/b.conf <==\nxy\n==> /etc/b.conf <==\nzz"
    got = _by_id(_blocks(forged, {"/etc/a.conf": 3, "/etc/b.conf": 2}))
    assert "file:/etc/a.conf" not in got


def test_damaged_batch_is_a_framing_error() -> None:
    with pytest.raises(FramingError, match="bad stat line"):
        items({"stat": b"rw 0 0 1 2 /x\n"}, 10, file_item, FramingError)
    with pytest.raises(FramingError, match="unknown state"):
        items({"list": b"file q /x\n", "stat": b"644 0 0 1 2 /x\n"}, 10, file_item, FramingError)
    with pytest.raises(FramingError, match="bad list line"):
        items({"list": b"probe c x\n"}, 10, file_item, FramingError)
