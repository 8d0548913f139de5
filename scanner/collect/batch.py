"""The collector's batch record: every listed item, one stat over them all, and one read of the plain files.

``DATA list`` holds ``<kind> <state> <path>`` lines (a absent, u unknown, s stat only, n not a
regular file, r unreadable, x-<why> refused, c content), ``DATA stat`` the output of
``stat -L -c '%a %u %g %Y %s %n'`` over the existing paths, and ``DATA content`` the output of
``head -v -c <limit+1>`` over the plain files: a ``==> path <==`` line before each file, whose
length is the one stat gave. A file that changed size in between breaks the expected layout; it
and every file after it are then not collected (an error for their facts, never a pass).

The collector sends all of it, and its probes, as one ``DATA stream`` (one encoder pass); decoded,
it is a series of segments, each opened by the run's marker ``==KIJUN:<nonce>:`` and a word::

    <marker>list\n<list>  <marker>stat\n<stat lines>
    <marker>probe <name>\n<stdout>  <marker>rc <name> <rc>\n    (a probe the timeout cut and that
    <marker>stderr\n<encoded stderr of a probe phase>              runs again has no rc the first time)
    <marker>content\n<head -v output>                             (last: delimited by the stat sizes)

The nonce is random per run and on no command line, so no output the host could prepare holds it;
file contents, last, are split by their sizes and may hold anything. A phase's stderr (masked on the
host) is one encoded text with ``\n<marker>probe <name>\n`` before each probe's part.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from scanner.collect.plan import CollectError
from scanner.rawfacts import Item


class Meta(NamedTuple):
    """The stat fields every existing file or stat item carries."""

    mode: str
    uid: int
    gid: int
    mtime: int | None
    size: int


ItemMaker = Callable[..., Item]


class Probe(NamedTuple):
    """One probe's result as the stream gives it."""

    stdout: bytes
    rc: int
    stderr: bytes


def split_stream(
    data: bytes, marker: bytes, decode: Callable[[bytes], bytes], fail: Callable[[str], CollectError]
) -> tuple[dict[str, bytes], dict[str, Probe]]:
    """Split a decoded batch stream into the batch's blocks and the probes that completed."""
    blocks: dict[str, bytes] = {}
    probes: dict[str, Probe] = {}
    stderr: dict[bytes, bytes] = {}
    open_probe: tuple[bytes, bytes] | None = None
    pos = 0
    while True:
        eol = data.find(b"\n", pos)
        if not data.startswith(marker, pos) or eol < 0:
            raise fail(f"batch stream: no segment at byte {pos}")
        words = data[pos + len(marker) : eol].split(b" ")
        start = eol + 1
        if words == [b"content"]:
            blocks["content"] = data[start:]
            break
        end = data.find(marker, start)
        if end < 0:
            raise fail("batch stream: no content segment (truncated)")
        body = data[start:end]
        if len(words) == 1 and words[0] in (b"list", b"stat") and words[0].decode() not in blocks:
            blocks[words[0].decode()] = body
        elif len(words) == 2 and words[0] == b"probe":
            open_probe = (words[1], body)  # replaces a run the timeout cut: only a complete run counts
        elif len(words) == 3 and words[0] == b"rc" and words[2].isdigit() and not body:
            if open_probe is None or open_probe[0] != words[1]:
                raise fail(f"batch stream: rc of {words[1][:40]!r} without its probe")
            probes[words[1].decode()] = Probe(open_probe[1], int(words[2]), b"")
            open_probe = None
        elif words == [b"stderr"]:
            for part in decode(body).split(b"\n" + marker + b"probe ")[1:]:
                name, _, text = part.partition(b"\n")
                stderr[name] = text
        else:
            raise fail(f"batch stream: unexpected segment {data[pos:eol][:80]!r}")
        pos = end
    if "list" not in blocks or "stat" not in blocks:
        raise fail("batch stream: no list or stat segment")
    out = {name: p._replace(stderr=stderr.get(name.encode(), b"")) for name, p in probes.items()}
    return blocks, out


def _stats(text: bytes, fail: Callable[[str], CollectError]) -> dict[bytes, Meta]:
    out: dict[bytes, Meta] = {}
    for line in text.split(b"\n"):
        if not line:
            continue
        fields = line.split(b" ", 5)
        if len(fields) != 6 or not all(f.isdigit() for f in fields[:5]):
            raise fail(f"batch: bad stat line {line[:80]!r}")
        uid, gid, mtime, size = (int(f) for f in fields[1:5])
        out.setdefault(fields[5], Meta(fields[0].decode().zfill(4), uid, gid, mtime, size))
    return out


def _contents(data: bytes, stats: dict[bytes, Meta], limit: int) -> dict[bytes, bytes]:
    """Split head -v output by the sizes stat gave; stop at the first file whose layout does not hold."""
    out: dict[bytes, bytes] = {}
    pos = 0
    while pos < len(data):
        head = b"==> " if pos == 0 else b"\n==> "
        if not data.startswith(head, pos):
            break
        end = data.find(b" <==\n", pos + len(head))
        if end < 0:
            break
        name = data[pos + len(head) : end]
        meta = stats.get(name)
        if meta is None:
            break
        start = end + len(b" <==\n")
        size = min(meta.size, limit + 1)
        if start + size > len(data) or not (
            start + size == len(data) or data.startswith(b"\n==> ", start + size)
        ):
            break
        out.setdefault(name, data[start : start + size])
        pos = start + size
    return out


def items(
    blocks: dict[str, bytes], limit: int, make: ItemMaker, fail: Callable[[str], CollectError]
) -> list[Item]:
    """Return the items of one batch record (``make`` is framing.file_item)."""
    stats = _stats(blocks.get("stat", b""), fail)
    contents = _contents(blocks.get("content", b""), stats, limit)
    out: list[Item] = []
    for line in blocks.get("list", b"").split(b"\n"):
        if not line:
            continue
        kind, state, raw_path = [*line.split(b" ", 2), b"", b""][:3]
        path = raw_path.decode("utf-8", errors="replace")
        if kind not in (b"file", b"stat") or not path.startswith("/"):
            raise fail(f"batch: bad list line {line[:80]!r}")
        what, meta = kind.decode(), stats.get(raw_path)
        if state == b"a":
            out.append(make(what, path, None))
        elif state == b"u" or meta is None:
            continue  # unknown, or gone before stat: not collected
        elif state == b"s":
            out.append(make("stat", path, meta))
        elif state in (b"n", b"r") or state.startswith(b"x-"):
            reason = {b"n": "not-regular", b"r": "unreadable"}.get(state, "refused-" + state[2:].decode())
            out.append(make(what, path, meta, error=reason))
        elif state == b"c":
            if raw_path in contents:
                out.append(make(what, path, meta, contents[raw_path], limit=limit))
        else:
            raise fail(f"batch: unknown state {state!r}")
    return out
