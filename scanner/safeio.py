"""Read the files kijun is given: regular files only, opened without blocking, bounded in size and depth.

Every file the scanner side reads (inventories, waivers, snapshots, profiles, zone policies, risk
scales, keys, manifests, results.json) goes through here, so a FIFO, a device such as /dev/zero, a
directory or a huge file is a ``file: not a regular file`` / ``file: too large`` LoadError (exit 2,
or an ``error`` for one host) instead of a hang or an out-of-memory kill.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scanner.errors import LoadError

MiB = 1 << 20
CONFIG_LIMIT = 32 * MiB  # inventories, waivers, profiles, policies, zone policies, keys, scales
SNAPSHOT_LIMIT = 512 * MiB  # one host's raw facts
RUN_LIMIT = 4096 * MiB  # results.json and manifest.json of a run of 10,000+ hosts
MAX_DEPTH = 64  # nesting of JSON and YAML documents; kijun's own formats stay under 12

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a file")


def _open(name: str, limit: int) -> int:
    """Open a regular file of at most ``limit`` bytes for reading and return its descriptor."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise LoadError(name, None, "no such file / ファイルがありません") from None
    except OSError as exc:
        raise LoadError(name, None, f"cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise LoadError(
                name, None, f"not a regular file ({_kind(info.st_mode)}) / 通常のファイルではありません"
            )
        if info.st_size > limit:
            raise LoadError(name, None, _too_large(info.st_size, limit))
    except BaseException:
        os.close(fd)
        raise
    return fd


def _blocks(path: Path | str, limit: int) -> Iterator[bytes]:
    name = str(path)
    fd = _open(name, limit)
    try:
        total = 0
        while chunk := os.read(fd, min(MiB, limit + 1 - total)):
            total += len(chunk)
            if total > limit:  # the file grew while being read
                raise LoadError(name, None, _too_large(total, limit))
            yield chunk
    except OSError as exc:
        raise LoadError(name, None, f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def read_bytes(path: Path | str, limit: int = CONFIG_LIMIT) -> bytes:
    """Return a regular file's bytes, refusing anything else or anything over ``limit`` bytes.

    >>> read_bytes("/dev/zero")  # doctest: +SKIP
    LoadError: /dev/zero: not a regular file (a character device)
    """
    return b"".join(_blocks(path, limit))


def sha256(path: Path | str, limit: int = RUN_LIMIT) -> str:
    """Return the sha256 of a regular file, read in blocks (same refusals as read_bytes)."""
    digest = hashlib.sha256()
    for block in _blocks(path, limit):
        digest.update(block)
    return digest.hexdigest()


def _too_large(size: int, limit: int) -> str:
    return f"too large ({size:,} bytes; the limit is {limit:,}) / ファイルが大きすぎます"


def decode(data: bytes, path: Path | str) -> str:
    """Decode UTF-8 (a BOM is dropped), raising LoadError at the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LoadError(str(path), line, "not UTF-8 text / UTF-8 ではありません") from None


def read_text(path: Path | str, limit: int = CONFIG_LIMIT) -> str:
    """Return a regular file's UTF-8 text (see read_bytes)."""
    return decode(read_bytes(path, limit), path)


def check_depth(doc: Any, path: Path | str, limit: int = MAX_DEPTH) -> None:
    """Raise LoadError when a loaded document nests lists and mappings deeper than ``limit``."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            line = getattr(node, "line", None) or None
            raise LoadError(str(path), line, f"nested deeper than {limit} levels / 入れ子が深すぎます")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, dict | list))


def parse_json(data: bytes | str, path: Path | str) -> Any:
    """Parse JSON, raising LoadError (file:line) on a syntax error or nesting beyond MAX_DEPTH."""
    doc = loads(data, path)
    check_depth(doc, path)
    return doc


def loads(data: bytes | str, path: Path | str) -> Any:
    """Parse JSON with the C decoder, raising LoadError (file:line) on a syntax error; depth unchecked.

    The caller checks the depth (check_depth) unless it has checked the document's whole shape.
    """
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise LoadError(str(path), exc.lineno, f"JSON: {exc.msg}") from None
    except UnicodeDecodeError:
        raise LoadError(str(path), None, "not UTF-8 text / UTF-8 ではありません") from None
    except RecursionError:
        raise LoadError(
            str(path), None, f"nested deeper than {MAX_DEPTH} levels / 入れ子が深すぎます"
        ) from None


def load_json(path: Path | str, limit: int = CONFIG_LIMIT) -> Any:
    """Read and parse one JSON file (see read_bytes and parse_json)."""
    return parse_json(read_bytes(path, limit), path)
