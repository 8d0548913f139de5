"""Facts of subject 'logs': how recently logs were written (remote logs on a log server, else local)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scanner.facts import Context, Subject, elapsed
from scanner.rawfacts import Item, RawFacts

_REMOTE = ("/var/log/remote/*", "/var/log/remote/*/*")
_LOCAL = "/var/log/*"


def _stats(raw: RawFacts, pattern: str) -> list[Item]:
    # A collector may send full file items for these paths too; their metadata is the same.
    return [it for it in raw.glob(pattern, kind="stat") + raw.glob(pattern) if it.mtime is not None]


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return ``newest_age_hours, files, source`` (source: the folder the answer comes from)."""
    remote = {it.path: it for pattern in _REMOTE for it in _stats(raw, pattern)}
    if remote:
        found, source = remote, "/var/log/remote"
    else:
        # raw.glob's "*" also crosses "/", so /var/log/* covers the remote tree as well: fine here.
        found, source = {it.path: it for it in _stats(raw, _LOCAL)}, "/var/log"
    if not found:
        return {}
    now = datetime.fromisoformat(raw.collected_at)
    newest = max(found.values(), key=lambda it: it.mtime or 0)
    when = datetime.fromtimestamp(newest.mtime or 0, tz=now.tzinfo)
    age = elapsed(when, now, f"modification time of {newest.path}")
    return {"newest_age_hours": round(age / 3600, 3), "files": len(found), "source": source}


SUBJECT = Subject(name="logs", parse=parse, stats=(_LOCAL, *_REMOTE))
