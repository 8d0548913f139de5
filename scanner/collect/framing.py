"""Parse the collector script's framed output into RawFacts, strictly: a damaged stream raises FramingError.

The grammar is documented in scanner/collect/script.py. Anything printed before the START line
(a chatty login shell) is ignored; everything after it must be well formed and end with DONE.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from scanner.collect import batch
from scanner.collect.batch import Meta
from scanner.collect.plan import CollectError
from scanner.collect.probes import PROBES
from scanner.collect.script import STDERR_BYTES
from scanner.rawfacts import Item, RawFacts

_META_KEYS = {
    "file": {"exists", "mode", "uid", "gid", "mtime", "size", "truncated", "sha256", "error"},
    "stat": {"exists", "mode", "uid", "gid", "mtime", "size", "error"},
    "probe": {"rc"},
    "batch": set(),
}
_META_KEYS["file"].add("redacted")
_BLOCKS = {
    "file": {"content"},
    "stat": set(),
    "probe": {"stdout", "stderr"},
    "batch": {"list", "stat", "content", "stream"},
}
_HEADER_KEYS = {"time", "enc", "limit", "euid", "node", "follow"}
_ALPHABET = {"base64": re.compile(r"^[A-Za-z0-9+/=]*$"), "hex": re.compile(r"^[0-9a-f]*$")}
_MODE = re.compile(r"^[0-7]{1,4}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class FramingError(CollectError):
    """The collector output is damaged or incomplete; the host becomes an error, never a pass."""

    def __init__(self, message: str) -> None:
        super().__init__("error", f"collector output: {message}")


@dataclass
class _Record:
    kind: str
    id: str
    line: int
    meta: dict[str, str] = field(default_factory=dict)
    blocks: dict[str, list[str]] = field(default_factory=dict)


def host_time(text: str) -> str:
    """Convert `date +%Y-%m-%dT%H:%M:%S%z` output to ISO 8601 with a colon offset.

    >>> host_time("2026-11-01T09:00:00+0900")
    '2026-11-01T09:00:00+09:00'
    """
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z").isoformat()
    except ValueError as exc:
        raise FramingError(f"host time {text!r} is not YYYY-mm-ddTHH:MM:SS+hhmm") from exc


def decode(lines: list[str], enc: str, what: str) -> bytes:
    """Decode one data block, raising FramingError when it is not valid for the encoding."""
    text = "".join(lines)
    try:
        return base64.b64decode(text, validate=True) if enc == "base64" else bytes.fromhex(text)
    except (binascii.Error, ValueError) as exc:
        raise FramingError(f"{what}: bad {enc} data ({exc})") from exc


def _int(record: _Record, key: str, allow_unknown: bool = False) -> int | None:
    value = record.meta.get(key)
    if value is None or (allow_unknown and value == "-"):
        return None
    if not value.isdigit():
        raise FramingError(f"{record.id}: {key} {value!r} is not a number")
    return int(value)


def _meta(record: _Record) -> Meta:
    mode = record.meta.get("mode", "")
    if not _MODE.match(mode):
        raise FramingError(f"{record.id}: mode {mode!r} is not octal")
    uid, gid, size = (_int(record, k) for k in ("uid", "gid", "size"))
    if uid is None or gid is None or size is None:
        raise FramingError(f"{record.id}: uid, gid or size missing")
    return Meta(mode.zfill(4), uid, gid, _int(record, "mtime", allow_unknown=True), size)


def file_item(
    kind: str,
    path: str,
    meta: Meta | None,
    data: bytes = b"",
    error: str = "",
    limit: int = 0,
    truncated: bool = False,
    sha256: str | None = None,
    redacted: int = 0,
) -> Item:
    """Build a file or stat item (``meta`` None: the path does not exist).

    A file whose content was not read becomes a ``stat:`` item carrying the reason, so parsers see
    the file as not collected (its facts go missing) rather than as an empty file.
    """
    if meta is None:
        return Item(id=f"{kind}:{path}", kind=kind, path=path, exists=False)
    if kind == "stat" or error:
        reason = f"content not collected: {error}" if error else ""
        return Item(
            id=f"stat:{path}",
            kind="stat",
            path=path,
            stderr=reason,
            **meta._asdict(),
        )
    if limit and len(data) > limit:
        data, truncated = data[:limit], True
    return Item(
        id=f"file:{path}",
        kind="file",
        path=path,
        data=data,
        truncated=truncated,
        redacted=redacted,
        # A complete file is hashed here, over exactly the bytes kept as evidence.
        sha256=sha256 if truncated else hashlib.sha256(data).hexdigest(),
        **meta._asdict(),  # mode, uid, gid, mtime, size
    )


def probe_item(name: str, stdout: bytes, rc: int, stderr: bytes) -> Item:
    """Build a probe's item (stderr kept to its first 4 KiB)."""
    if name not in PROBES:
        raise FramingError(f"probe:{name}: not a known probe")
    return Item(
        id=f"probe:{name}",
        kind="probe",
        cmd=PROBES[name],
        rc=rc,
        data=stdout,
        stderr=stderr[:STDERR_BYTES].decode("utf-8", errors="replace"),
        sha256=hashlib.sha256(stdout).hexdigest(),
    )


def _item(record: _Record, enc: str, limit: int) -> Item | None:
    """Turn one closed record into an Item, checking that it is complete."""
    kind, meta = record.kind, record.meta
    prefix = kind + ":"
    if not record.id.startswith(prefix):
        raise FramingError(f"line {record.line}: {kind} record has id {record.id!r}")
    name = record.id[len(prefix) :]
    if kind == "probe":
        if "stdout" not in record.blocks:
            raise FramingError(f"{record.id}: no stdout")
        rc = _int(record, "rc")
        if rc is None:
            raise FramingError(f"{record.id}: no rc")
        stdout = decode(record.blocks["stdout"], enc, record.id)
        return probe_item(name, stdout, rc, decode(record.blocks.get("stderr", []), enc, record.id))
    error = meta.get("error", "")
    if error in ("unsearchable", "stat-failed"):
        return None  # whether the path exists is unknown: the item is not collected
    if meta.get("exists") not in ("0", "1"):
        raise FramingError(f"{record.id}: exists must be 0 or 1")
    if meta["exists"] == "0":
        return file_item(kind, name, None)
    stat = _meta(record)
    if kind == "file" and not error and "content" not in record.blocks:
        raise FramingError(f"{record.id}: no content")
    sha = meta.get("sha256")
    if sha is not None and not _SHA256.match(sha):
        raise FramingError(f"{record.id}: sha256 {sha!r} is not a digest")
    data = decode(record.blocks.get("content", []), enc, record.id)
    truncated = meta.get("truncated") == "1"
    redacted = _int(record, "redacted") or 0
    if kind == "file" and not error and not truncated and not redacted and 0 < stat.size != len(data):
        # A whole, unredacted file is exactly as long as stat said (procfs says 0 and is exempt):
        # a lost or added content line, or a file rewritten while read, is not collected.
        error = "changed-while-read"
    return file_item(
        kind, name, stat, data, error=error, limit=limit, truncated=truncated, sha256=sha, redacted=redacted
    )


def parse_output(
    stdout: bytes, nonce: str, host: str, collected_at: str, collector: dict[str, str]
) -> RawFacts:
    """Parse the script's output; ``collected_at`` (the scanner's clock) is used only when the host gave none.

    >>> parse_output(b"", "0123456789abcdef", "h", "2026-11-01T09:00:00+09:00", {})  # doctest: +SKIP
    Traceback (most recent call last):
    FramingError: collector output: no START line for this run (nonce)
    """
    start = f"==KIJUN:{nonce}:START ".encode("ascii")
    at = 0 if stdout.startswith(start) else stdout.find(b"\n" + start) + 1
    if at == 0 and not stdout.startswith(start):
        other = b"==KIJUN:" in stdout
        raise FramingError(
            "output carries another run's nonce" if other else "no START line for this run (nonce)"
        )
    try:
        text = stdout[at:].decode("ascii")
    except UnicodeDecodeError as exc:
        raise FramingError(f"non-ASCII byte at offset {at + exc.start}") from exc
    if not text.endswith("\n"):
        raise FramingError("stream cut in the middle of a line (truncated)")
    prefix = f"==KIJUN:{nonce}:"
    header: dict[str, str] = {}
    records: list[_Record] = []
    current: _Record | None = None
    block: str | None = None
    done: int | None = None
    data: list[str] = []
    alphabet = _ALPHABET["hex"]
    for number, line in enumerate(text[:-1].split("\n"), start=1):
        # Most lines are encoded data inside a block: no frame (':') and no meta line (' ') can match.
        if block is not None and alphabet.match(line):
            data.append(line)
            continue
        where = f"line {number}"
        if done is not None:
            raise FramingError(f"{where}: output after DONE")
        if line.startswith("==KIJUN:") and not line.startswith(prefix):
            raise FramingError(f"{where}: frame with a wrong nonce")
        if line.startswith(prefix):
            verb, _, arg = line[len(prefix) :].partition(" ")
            if verb == "START" and number == 1:
                continue
            if verb == "BEGIN" and current is None:
                kind, _, ident = arg.partition(" ")
                if kind not in _META_KEYS:
                    raise FramingError(f"{where}: unknown record kind {kind!r}")
                item_id = decode([ident], _encoding(header), where).decode("utf-8", errors="replace")
                current, block = _Record(kind, item_id, number), None
                records.append(current)
            elif verb == "DATA" and current is not None:
                if arg not in _BLOCKS[current.kind] or arg in current.blocks:
                    raise FramingError(f"{where}: unexpected DATA {arg!r} in {current.id}")
                block = arg
                data = current.blocks[arg] = []
                alphabet = _ALPHABET[_encoding(header)]
            elif verb == "END" and current is not None:
                current, block = None, None
            elif verb == "DONE" and current is None:
                if not arg.isdigit() or int(arg) != len(records):
                    raise FramingError(f"{where}: DONE counts {arg!r} records, {len(records)} received")
                done = int(arg)
            else:
                what = (
                    f"record {current.id} has no END (stream truncated?)" if current else f"unexpected {verb}"
                )
                raise FramingError(f"{where}: {what}")
        elif " " in line:
            key, _, value = line.partition(" ")
            target = current.meta if current is not None else header
            allowed = _META_KEYS[current.kind] if current is not None else _HEADER_KEYS
            if key not in allowed or key in target:
                raise FramingError(f"{where}: unexpected line {key!r}")
            target[key] = value
        elif current is not None and block is not None:
            if not _ALPHABET[_encoding(header)].match(line):
                raise FramingError(f"{where}: bad characters in {current.id} {block}")
            current.blocks[block].append(line)
        else:
            raise FramingError(f"{where}: stray line")
    if done is None:
        open_id = f": record {current.id} has no END" if current else ""
        raise FramingError(f"stream ended before DONE (truncated){open_id}")
    return _assemble(header, records, prefix, host, collected_at, collector)


def _decoder(enc: str, what: str) -> Callable[[bytes], bytes]:
    """Return a decoder of encoded text inside a stream (a probe phase's stderr)."""

    def run(text: bytes) -> bytes:
        return decode(text.decode("ascii", errors="replace").split(), enc, what)

    return run


def _encoding(header: dict[str, str]) -> str:
    enc = header.get("enc", "")
    if enc not in _ALPHABET:
        raise FramingError(f"unknown encoding {enc!r}")
    return enc


def _assemble(
    header: dict[str, str],
    records: list[_Record],
    prefix: str,
    host: str,
    collected_at: str,
    collector: dict[str, str],
) -> RawFacts:
    """Check the header and turn records into items; the first record of an id wins (globs overlap)."""
    enc = _encoding(header)
    limit = header.get("limit", "")
    if not limit.isdigit():
        raise FramingError(f"limit {limit!r} is not a number")
    items: dict[str, Item] = {}
    for record in records:
        if record.kind == "batch":
            blocks = {k: decode(v, enc, record.id) for k, v in record.blocks.items()}
            probes: dict[str, batch.Probe] = {}
            if "stream" in blocks:
                blocks, probes = batch.split_stream(
                    blocks["stream"],
                    prefix.encode("ascii"),
                    _decoder(enc, record.id),
                    FramingError,
                )
            for listed in batch.items(blocks, int(limit), file_item, FramingError):
                items.setdefault(listed.id, listed)
            for name, probe in probes.items():
                items.setdefault(f"probe:{name}", probe_item(name, probe.stdout, probe.rc, probe.stderr))
            continue
        item = _item(record, enc, int(limit))
        if item is not None:
            items.setdefault(item.id, item)
    when = host_time(header["time"]) if header.get("time") else collected_at
    extra = {k: header[k] for k in ("euid", "node", "follow") if header.get(k) not in (None, "", "-")}
    return RawFacts(host=host, collected_at=when, collector={**collector, **extra}, items=items)
