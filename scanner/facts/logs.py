"""Facts of subject 'logs': how recently logs were written (remote logs on a log server, else local)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scanner.facts import Context, Subject, elapsed
from scanner.rawfacts import Item, RawFacts

_REMOTE = ("/var/log/remote/*", "/var/log/remote/*/*")
_LOCAL = "/var/log/*"
_NEWEST = "_newest"  # [path, mtime] of the newest file, for finish


def _stats(raw: RawFacts, pattern: str) -> list[Item]:
    # A collector may send full file items for these paths too; their metadata is the same.
    return [it for it in raw.glob(pattern, kind="stat") + raw.glob(pattern) if it.mtime is not None]


def content(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return the newest file (its path and mtime) for ``finish``, ``files`` and ``source``."""
    remote = {it.path: it for pattern in _REMOTE for it in _stats(raw, pattern)}
    if remote:
        found, source = remote, "/var/log/remote"
    else:
        # raw.glob's "*" also crosses "/", so /var/log/* covers the remote tree as well: fine here.
        found, source = {it.path: it for it in _stats(raw, _LOCAL)}, "/var/log"
    if not found:
        return {}
    newest = max(found.values(), key=lambda it: it.mtime or 0)
    return {_NEWEST: [newest.path, newest.mtime or 0], "files": len(found), "source": source}


def finish(facts: dict[str, Any], raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Put the newest file's age at the collection time in its place."""
    if not facts:
        return facts
    path, mtime = facts[_NEWEST]
    now = datetime.fromisoformat(raw.collected_at)
    when = datetime.fromtimestamp(mtime, tz=now.tzinfo)
    age = elapsed(when, now, f"modification time of {path}")
    return {"newest_age_hours": round(age / 3600, 3), "files": facts["files"], "source": facts["source"]}


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return ``newest_age_hours, files, source`` (source: the folder the answer comes from)."""
    return finish(content(raw, ctx), raw, ctx)


SUBJECT = Subject(name="logs", parse=parse, stats=(_LOCAL, *_REMOTE), content=content, finish=finish)
