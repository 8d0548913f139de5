"""Facts of subject 'netdev': a firewall's or router's configuration as the rule model (``os: network`` hosts).

The verdicts (scanner/netdev) re-read the same raw item; these facts are what ``kijun facts``
shows: interfaces, routes, rule sets in order and the lines not understood.
"""

from __future__ import annotations

from typing import Any

from scanner.facts import Context, Subject
from scanner.netdev import device
from scanner.rawfacts import RawFacts


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    if ctx.host.os != "network":
        return {}  # only firewalls and routers have a rule model (kijun facts asks every subject)
    model = device.parse(raw, ctx.host)
    return {"file": model.file, **model.to_json()}


SUBJECT = Subject(name="netdev", parse=parse, files=(device.CONFIG_PATH,), probes=())
