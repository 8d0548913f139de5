"""Raw facts: what a collector brought back from one host, unparsed (the evidence format).

Item ids are ``file:<absolute path>``, ``stat:<absolute path>`` (metadata only) and
``probe:<probe name>``. A file that does not exist on the host is an item with ``exists: false``;
an item that was never collected is simply absent, and parsers treat that as a missing fact.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import fnmatch
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class Item:
    """One collected file, stat or probe output."""

    id: str
    kind: str  # "file" | "stat" | "probe"
    exists: bool = True
    path: str | None = None
    cmd: str | None = None
    rc: int | None = None
    data: bytes = b""
    mode: str | None = None  # octal string, e.g. "0644"
    uid: int | None = None
    gid: int | None = None
    mtime: int | None = None  # epoch seconds
    size: int | None = None
    sha256: str | None = None
    truncated: bool = False
    stderr: str = ""
    redacted: int = 0  # lines in which the collector replaced a secret (scanner/collect/secrets.py)

    @property
    def text(self) -> str:
        """Decode content as UTF-8, replacing undecodable bytes."""
        return self.data.decode("utf-8", errors="replace")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "exists": self.exists}
        if self.path is not None:
            out["path"] = self.path
        if self.cmd is not None:
            out["cmd"] = self.cmd
        if self.rc is not None:
            out["rc"] = self.rc
        if self.kind != "stat" and self.exists:
            key = "stdout" if self.kind == "probe" else "content"
            try:
                out[key] = self.data.decode("utf-8")
            except UnicodeDecodeError:
                out[key] = base64.b64encode(self.data).decode("ascii")
                out["encoding"] = "base64"
        for name in ("mode", "uid", "gid", "mtime", "size", "sha256"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.truncated:
            out["truncated"] = True
        if self.redacted:
            out["redacted"] = self.redacted
        if self.stderr:
            out["stderr"] = self.stderr
        return out

    @classmethod
    def from_json(cls, item_id: str, obj: dict[str, Any]) -> Item:
        """Return the Item of one item of a valid snapshot (see rawfacts.schema.json)."""
        # Every field set at once (the frozen dataclass's __init__, a setattr per field, was a hot
        # spot at scale): the defaults, what the item says, then what is not said as it is stored.
        fields = {**_BLANK, **obj}
        raw = fields.pop("content", _UNSAID)
        stdout = fields.pop("stdout", "")
        if raw is _UNSAID:
            raw = stdout
        if fields.pop("encoding", None) == "base64":
            data = base64.b64decode(raw)
        else:
            data = (raw if type(raw) is str else str(raw)).encode("utf-8")
        if not fields["sha256"] and fields["exists"] and fields["kind"] != "stat":
            fields["sha256"] = hashlib.sha256(data).hexdigest()
        elif not fields["sha256"]:
            fields["sha256"] = None
        fields["id"], fields["data"] = item_id, data
        item = object.__new__(cls)
        object.__setattr__(item, "__dict__", fields)
        return item


_UNSAID = object()
_BLANK = {f.name: f.default for f in dataclasses.fields(Item) if f.default is not dataclasses.MISSING}


@dataclass(frozen=True)
class RawFacts:
    """All items collected from one host in one round trip."""

    host: str
    collected_at: str  # ISO 8601 with offset
    collector: dict[str, str]
    items: dict[str, Item] = field(default_factory=dict)
    # to_json() as a snapshot stored it (see keep_form); a copy or a changed RawFacts starts without it.
    _form: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def file(self, path: str) -> Item | None:
        """Return the ``file:`` item for a path (None when it was not collected)."""
        return self.items.get("file:" + path)

    def probe(self, name: str) -> Item | None:
        """Return the ``probe:`` item for a probe name (None when it was not collected)."""
        return self.items.get("probe:" + name)

    def stat(self, path: str) -> Item | None:
        return self.items.get("stat:" + path) or self.items.get("file:" + path)

    def phase_times(self) -> dict[str, float]:
        """Return the phase times a transport put in the collector header (``connect_s``: "0.120" → connect)."""
        out: dict[str, float] = {}
        for key, value in self.collector.items():
            if key.endswith("_s"):
                with contextlib.suppress(ValueError):
                    out[key.removesuffix("_s")] = round(float(value), 3)
        return out

    def glob(self, pattern: str, kind: str = "file") -> list[Item]:
        """Return existing items whose path matches a glob, sorted by path (as the shell would)."""
        prefix, match = _glob(pattern)
        found = [
            it
            for it in self.items.values()
            if it.kind == kind
            and it.exists
            and it.path is not None
            and it.path.startswith(prefix)
            and match(it.path)
        ]
        return sorted(found, key=lambda it: it.path or "")

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "collected_at": self.collected_at,
            "collector": dict(self.collector),
            "items": {k: v.to_json() for k, v in sorted(self.items.items())},
        }

    def keep_form(self, form: dict[str, Any]) -> RawFacts:
        """Keep ``form`` as what ``stored_form`` returns: the caller vouches it equals ``to_json()``."""
        object.__setattr__(self, "_form", form)
        return self

    def stored_form(self) -> dict[str, Any]:
        """Return ``to_json()``, or the equal document kept from the snapshot that was read."""
        return self._form if self._form is not None else self.to_json()

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> RawFacts:
        return cls(
            host=obj["host"],
            collected_at=obj["collected_at"],
            collector=dict(obj.get("collector", {})),
            items={k: Item.from_json(k, v) for k, v in obj.get("items", {}).items()},
        )


@lru_cache(maxsize=512)
def _glob(pattern: str) -> tuple[str, Callable[[str], Any]]:
    """Return a glob's literal prefix and its compiled test (fnmatchcase's, without a call per path)."""
    cut = min((i for i, ch in enumerate(pattern) if ch in "*?["), default=len(pattern))
    return pattern[:cut], re.compile(fnmatch.translate(pattern)).match


def _epoch(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return int(value)
    from datetime import datetime

    return int(datetime.fromisoformat(str(value)).timestamp())


def _owner_mode_time(meta: dict[str, Any]) -> dict[str, Any]:
    """Return a test spec's mode, uid, gid and mtime with their defaults (0644, root, root, no time)."""
    return {
        "mode": str(meta.get("mode", "0644")),
        "uid": int(meta.get("uid", 0)),
        "gid": int(meta.get("gid", 0)),
        "mtime": _epoch(meta.get("mtime")),
    }


def build_raw(
    host: str = "case-host",
    collected_at: str = "2026-11-01T09:00:00+09:00",
    files: dict[str, Any] | None = None,
    absent: list[str] | None = None,
    stats: dict[str, dict[str, Any]] | None = None,
    probes: dict[str, Any] | None = None,
) -> RawFacts:
    """Build raw facts from plain data (test cases, fixtures, `kijun verify`).

    ``files`` maps a path to its content, or to ``{content, mode, uid, gid, mtime, size, truncated}``;
    ``absent`` lists paths collected but not present; ``stats`` maps a path to metadata;
    ``probes`` maps a probe name to its stdout, or to ``{stdout, rc, stderr}``.

    >>> build_raw(files={"/etc/login.defs": "PASS_MAX_DAYS 90\\n"}).file("/etc/login.defs").text
    'PASS_MAX_DAYS 90\\n'
    """
    items: dict[str, Item] = {}
    for path, spec in (files or {}).items():
        meta = spec if isinstance(spec, dict) else {"content": spec}
        data = str(meta.get("content", "")).encode("utf-8")
        items["file:" + path] = Item(
            id="file:" + path,
            kind="file",
            path=path,
            data=data,
            **_owner_mode_time(meta),
            size=int(meta.get("size", len(data))),
            sha256=hashlib.sha256(data).hexdigest(),
            truncated=bool(meta.get("truncated", False)),
        )
    for path in absent or []:
        items["file:" + path] = Item(id="file:" + path, kind="file", path=path, exists=False)
    for path, meta in (stats or {}).items():
        items["stat:" + path] = Item(
            id="stat:" + path,
            kind="stat",
            path=path,
            exists=bool(meta.get("exists", True)),
            **_owner_mode_time(meta),
            size=meta.get("size"),
        )
    for name, spec in (probes or {}).items():
        meta = spec if isinstance(spec, dict) else {"stdout": spec}
        data = str(meta.get("stdout", "")).encode("utf-8")
        items["probe:" + name] = Item(
            id="probe:" + name,
            kind="probe",
            cmd=name,
            rc=int(meta.get("rc", 0)),
            data=data,
            stderr=str(meta.get("stderr", "")),
            sha256=hashlib.sha256(data).hexdigest(),
        )
    return RawFacts(
        host=host, collected_at=collected_at, collector={"name": "build_raw", "version": "1"}, items=items
    )
