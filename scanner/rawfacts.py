"""Raw facts: what a collector brought back from one host, unparsed (the evidence format).

Item ids are ``file:<absolute path>``, ``stat:<absolute path>`` (metadata only) and
``probe:<probe name>``. A file that does not exist on the host is an item with ``exists: false``;
an item that was never collected is simply absent, and parsers treat that as a missing fact.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
from dataclasses import dataclass, field
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
        if self.stderr:
            out["stderr"] = self.stderr
        return out

    @classmethod
    def from_json(cls, item_id: str, obj: dict[str, Any]) -> Item:
        raw = obj.get("content", obj.get("stdout", ""))
        data = base64.b64decode(raw) if obj.get("encoding") == "base64" else str(raw).encode("utf-8")
        return cls(
            id=item_id,
            kind=obj["kind"],
            exists=obj.get("exists", True),
            path=obj.get("path"),
            cmd=obj.get("cmd"),
            rc=obj.get("rc"),
            data=data,
            mode=obj.get("mode"),
            uid=obj.get("uid"),
            gid=obj.get("gid"),
            mtime=obj.get("mtime"),
            size=obj.get("size"),
            sha256=obj.get("sha256") or (hashlib.sha256(data).hexdigest() if obj.get("exists", True) and obj["kind"] != "stat" else None),
            truncated=obj.get("truncated", False),
            stderr=obj.get("stderr", ""),
        )


@dataclass(frozen=True)
class RawFacts:
    """All items collected from one host in one round trip."""

    host: str
    collected_at: str  # ISO 8601 with offset
    collector: dict[str, str]
    items: dict[str, Item] = field(default_factory=dict)

    def file(self, path: str) -> Item | None:
        """Return the ``file:`` item for a path (None when it was not collected)."""
        return self.items.get("file:" + path)

    def probe(self, name: str) -> Item | None:
        """Return the ``probe:`` item for a probe name (None when it was not collected)."""
        return self.items.get("probe:" + name)

    def stat(self, path: str) -> Item | None:
        return self.items.get("stat:" + path) or self.items.get("file:" + path)

    def glob(self, pattern: str, kind: str = "file") -> list[Item]:
        """Return existing items whose path matches a glob, sorted by path (as the shell would)."""
        found = [
            it
            for it in self.items.values()
            if it.kind == kind and it.exists and it.path is not None and fnmatch.fnmatchcase(it.path, pattern)
        ]
        return sorted(found, key=lambda it: it.path or "")

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "collected_at": self.collected_at,
            "collector": dict(self.collector),
            "items": {k: v.to_json() for k, v in sorted(self.items.items())},
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> RawFacts:
        return cls(
            host=obj["host"],
            collected_at=obj["collected_at"],
            collector=dict(obj.get("collector", {})),
            items={k: Item.from_json(k, v) for k, v in obj.get("items", {}).items()},
        )
