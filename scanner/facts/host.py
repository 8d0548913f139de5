"""Facts of subject 'host': what the inventory says about the host (no raw items)."""

from __future__ import annotations

from typing import Any

from scanner.facts import Context, Subject
from scanner.rawfacts import RawFacts


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    host = ctx.host
    return {
        "name": host.name,
        "zone": host.zone,
        "role": host.role,
        "site": host.site,
        "site_kind": ctx.inventory.site_kind(host.site),
        "owner": host.owner,
        "classification": host.classification,
        "os": host.os,
        "system": host.system,
        "labels": dict(host.labels),
        "vars": dict(host.vars),
    }


SUBJECT = Subject(name="host", parse=parse)
