"""The HTML section of the network devices: per zone pair, the rules that permit flows beside the probe results.

Self-contained: ``section(envelope)`` returns an escaped HTML fragment from the run envelope's
``netdev`` table (scanner/netdev/findings.py ``table``), so any report template can embed it.
"""

from __future__ import annotations

from html import escape
from typing import Any

SHOWN = 30


def _rules(row: dict[str, Any]) -> str:
    items = []
    for flow in row.get("rules", [])[:SHOWN]:
        mark = "✗ " if flow.get("why", "").startswith(("no ", "an any")) else ""
        items.append(
            f"<li>{mark}<code>{escape(flow['rule'])}</code> {escape(flow['src'])} → {escape(flow['dst'])} "
            f"{escape(flow['service'])} <small>({escape(flow['where'])}; {escape(flow['why'])})</small></li>"
        )
    for note in row.get("declared_without_rule", []):
        items.append(f"<li>⚠ {escape(note['note'])}</li>")
    return f"<ul>{''.join(items)}</ul>" if items else "許可なし <span class='en'>nothing permitted</span>"


def _probes(row: dict[str, Any]) -> str:
    items = []
    for result in row.get("probes", []):
        paths = "".join(
            f"<li>{escape(str(p.get('from_address', '')))} → {escape(str(p.get('to_address', '')))} "
            f"{escape(str(p.get('port', '')))} {escape(str(p.get('state', '')))}: "
            f"{escape('; '.join(p.get('explained_by', [])) or 'no rule found — another path exists')}</li>"
            for p in result.get("paths", [])[:SHOWN]
        )
        items.append(
            f"<li>{escape(result['vantage'])} {escape(result['control'])}: <b>{escape(result['status'])}</b>"
            + (f"<ul>{paths}</ul>" if paths else "")
            + "</li>"
        )
    return f"<ul>{''.join(items)}</ul>" if items else "プローブなし <span class='en'>not probed</span>"


def _devices(devices: list[dict[str, Any]]) -> str:
    items = []
    for d in devices:
        parts = []
        for key, ja, en in (
            ("shadowed", "先行ルールに隠れたルール", "shadowed"),
            ("unused", "ゾーン間で使われないルール", "unused"),
            ("disabled", "無効なルール", "disabled"),
        ):
            rules = ", ".join(
                f"{escape(r['rule'])} ({escape(r['where'])}"
                + (f"; {escape(r['covered_by'])}" if r.get("covered_by") else "")
                + ")"
                for r in d.get(key, [])[:SHOWN]
            )
            if rules:
                parts.append(f"{ja} <span class='en'>{en}</span>: {rules}")
        if parts:
            items.append(f"<li>{escape(d['device'])}: {'<br>'.join(parts)}</li>")
    return f"<ul>{''.join(items)}</ul>" if items else ""


def section(envelope: dict[str, Any]) -> str:
    """Return the zone-pair table of the run's network devices ("" when the run judged none)."""
    table = envelope.get("netdev") or {}
    rows = table.get("pairs") or []
    if not rows:
        return ""
    body = "".join(
        f"<tr><td>{escape(r['device'])} <small>{escape(r['vendor'])}</small></td>"
        f"<td>{escape(r['from_zone'])} → {escape(r['to_zone'])}</td><td>{escape(r['control'] or '—')}</td>"
        f"<td>{_rules(r)}</td><td>{_probes(r)}</td></tr>"
        for r in rows
    )
    return (
        '<h2>ネットワーク機器のルールとプローブ <span class="en">Device rules and probes per zone pair</span></h2>'
        "<table><tr><th>機器 <span class='en'>Device</span></th><th>ゾーン <span class='en'>Zones</span></th>"
        "<th>管理策 <span class='en'>Control</span></th><th>許可するルール <span class='en'>Permitting rules</span></th>"
        f"<th>プローブ <span class='en'>Probes</span></th></tr>{body}</table>"
        + _devices(table.get("devices") or [])
    )
