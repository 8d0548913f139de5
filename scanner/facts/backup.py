"""Facts of subject 'backup' (stub: to be implemented per docs/facts.md)."""

from __future__ import annotations

from typing import Any

from scanner.facts import Context, Subject
from scanner.rawfacts import RawFacts


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    raise NotImplementedError("parser backup is not implemented yet")


SUBJECT = Subject(name="backup", parse=parse)
