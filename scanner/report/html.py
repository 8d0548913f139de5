"""The HTML dashboard: one self-contained, bilingual (ja first) file; summary first, details on demand.

The summary (verdict, coverage, failures by severity with their age, the area × zone heat map, the
trend, the controls, manual controls, changes and the evidence envelope) is written as HTML by
templates/report.html.j2 with every value escaped. The host table, a page per control and a host's
drill-down are drawn by templates/report.js from one JSON payload (dashboard.py) embedded as data
(``<script type="application/json">``, with ``<``, ``>``, ``&`` and U+2028/9 escaped). The page's
Content-Security-Policy allows only its own script and style (by hash) and nothing from the network.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from scanner import compact
from scanner.diff import Diff, diff, old_side
from scanner.netdev.report import section
from scanner.report import dashboard, labels
from scanner.report.csv import WAIVER_STATES
from scanner.results import Finding, Run, Severity, Status

# What a data block must not hold as such; the JSON \u escapes keep the meaning.
_EMBED = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))
MAX_CHANGES = 200  # rows per change list; the counts are always complete


def render(
    run: Run,
    allow_incomplete: bool = False,
    previous: Run | None = None,
    trend: list[dict[str, Any]] | None = None,
    gathered: dashboard.Gathering | None = None,
) -> str:
    """Render a run as the dashboard (with the diff against ``previous`` and earlier ``trend`` points).

    ``gathered``: the findings already read for it (made with ``failing_before(previous)``).

    >>> Path("report.html").write_text(render(run), encoding="utf-8")
    """
    if gathered is None:
        summary, payload = dashboard.gather(run, failing_before(previous))
    else:
        summary, payload = gathered.summary, gathered.payload
    code = summary.exit_code(run, allow_incomplete)
    verdict_ja, verdict_en = labels.EXIT_MEANINGS[code]
    coverage = run.coverage()
    counts = {s.value: n for s, n in summary.counts.items()}
    today = run.started_at[:10]
    controls = payload.controls
    css, js = _asset("report.css"), _asset("report.js")
    rows = [
        (controls[i], summary.controls[i]) for i in sorted(summary.controls, key=lambda i: controls[i][0])
    ]
    manual = dashboard.STATUSES.index(Status.MANUAL)
    points = [
        *(trend or []),
        {"run_id": run.run_id, "started_at": run.started_at, "counts": counts, "coverage": coverage},
    ]
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            run=run,
            css=Markup(css),
            js=Markup(js),
            csp=_csp(css, js),
            coverage=coverage,
            counts=counts,
            statuses=dashboard.STATUSES,
            verdict={"code": code, "ja": verdict_ja, "en": verdict_en},
            severities=_severities(summary, today),
            failing=_failing(summary, controls, today),
            heat=_heat(summary),
            trend=_trend(points),
            control_rows=rows,
            manual=[(c, n[manual]) for c, n in rows if n[manual]],
            # the findings a diff reads were kept in the one pass; the run's stream is not read again
            changes=_changes(previous, run, summary.changed) if previous is not None else None,
            max_changes=MAX_CHANGES,
            env=run.envelope,
            waiver_states=WAIVER_STATES,
            data=Markup(_embed(run, payload)),
            netdev=Markup(section(run.envelope)),  # escaped by scanner/netdev/report.py
        )
    )


def failing_before(previous: Run | None) -> frozenset[str]:
    """Return the keys of the previous run's failures (what the diff looks at besides today's)."""
    return compact.failing(previous) if previous is not None else frozenset()


def _changes(previous: Run, run: Run, changed: list[Finding]) -> Diff:
    """The diff against the previous run, reading of it only the findings a diff can look at."""
    now = dataclasses.replace(run, findings=tuple(changed))
    return diff(old_side(previous, now), now)


def _embed(run: Run, payload: dashboard.Payload) -> str:
    """Serialise the payload for a data block: nothing in it can close the element or run as script."""
    doc = {
        **payload.to_json(),
        "run": {"id": run.run_id, "started": run.started_at},
        "st": [s.value for s in dashboard.STATUSES],
        "stja": [s.label_ja for s in dashboard.STATUSES],
        "zones": {z: labels.zone_label(z) for z in labels.zone_order({h[1] for h in payload.hosts})},
        "areas": {a: labels.area_label(a) for a in sorted({c[1] for c in payload.controls})},
        "sevja": {s.value: labels.SEVERITY_JA[s] for s in Severity},
    }
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in _EMBED:  # str.replace per character: far faster than str.translate here
        text = text.replace(raw, escaped)
    return text


def _severities(summary: dashboard.Summary, today: str) -> list[dict[str, Any]]:
    """Return one row per severity that failed: failures, hosts, oldest open since and its age."""
    rows = []
    for sev in sorted(summary.severity, key=lambda s: -s.rank):
        fails, hosts, oldest = summary.severity[sev]
        rows.append(
            {
                "sev": sev,
                "ja": labels.SEVERITY_JA[sev],
                "fails": fails,
                "hosts": len(hosts),
                "oldest": oldest,
                "age": dashboard.age_days(oldest, today),
            }
        )
    return rows


def _failing(summary: dashboard.Summary, controls: list[list[Any]], today: str) -> list[dict[str, Any]]:
    """Return the failing controls, worst severity first, then most hosts, with the oldest age."""
    fail = dashboard.STATUSES.index(Status.FAIL)
    rows = [
        {
            "c": controls[i],
            "fails": n[fail],
            "oldest": summary.oldest.get(i, today),
            "age": dashboard.age_days(summary.oldest.get(i, today), today),
        }
        for i, n in summary.controls.items()
        if n[fail]
    ]
    return sorted(rows, key=lambda r: (-Severity(r["c"][2]).rank, -r["fails"], r["c"][0]))


def _heat(summary: dashboard.Summary) -> dict[str, Any]:
    """Return the area × zone grid: failures / assessed findings per cell and a heat level 0-5."""
    areas = labels.area_order({a for a, _ in summary.area_zone})
    zones = labels.zone_order({z for _, z in summary.area_zone})
    cells = {}
    for key, (fails, assessed) in summary.area_zone.items():
        ratio = fails / assessed if assessed else 0.0
        level = 0 if not fails else min(5, 1 + int(ratio * 20))
        cells[key] = {"fails": fails, "assessed": assessed, "level": level, "pct": round(ratio * 100, 1)}
    return {"areas": areas, "zones": zones, "cells": cells}


def _trend(points: list[dict[str, Any]]) -> dict[str, Any]:
    """Lay the runs out as SVG polylines: failures (left scale) and coverage % (right scale)."""
    width, height, pad = 640, 170, 30
    top = max([1] + [p["counts"].get("fail", 0) + p["counts"].get("error", 0) for p in points])
    step = (width - 2 * pad) / max(1, len(points) - 1)
    marks = []
    for i, p in enumerate(points):
        x = pad + i * step if len(points) > 1 else width / 2
        fails = p["counts"].get("fail", 0)
        errors = p["counts"].get("error", 0) + p["counts"].get("unreachable", 0)
        ratio = float(p["coverage"].get("ratio", 0) or 0)
        marks.append(
            {
                "x": round(x, 1),
                "yf": round(height - pad - (height - 2 * pad) * fails / top, 1),
                "ye": round(height - pad - (height - 2 * pad) * min(errors, top) / top, 1),
                "yc": round(height - pad - (height - 2 * pad) * ratio, 1),
                "run": p["run_id"],
                "date": str(p["started_at"])[:10],
                "fails": fails,
                "errors": errors,
                "pct": round(ratio * 100, 1),
            }
        )
    line = {k: " ".join(f"{m['x']},{m[k]}" for m in marks) for k in ("yf", "ye", "yc")}
    return {"marks": marks, "line": line, "top": top, "width": width, "height": height, "pad": pad}


def _csp(css: str, js: str) -> str:
    """Allow this page's own style and script (by hash) and nothing else."""
    return (
        f"default-src 'none'; script-src '{_sha256(js)}'; style-src '{_sha256(css)}'; "
        "base-uri 'none'; form-action 'none'"
    )


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


@cache
def _asset(name: str) -> str:
    return files("scanner.report").joinpath("templates", name).read_text(encoding="utf-8")


@cache
def _env() -> Environment:
    """Build the Jinja2 environment once: autoescape always on, undefined names are errors."""
    env = Environment(
        loader=PackageLoader("scanner.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["val"] = labels.value_text
    env.filters["cite"] = labels.citation_text
    env.globals.update(
        area_label=labels.area_label,
        zone_label=labels.zone_label,
        mode_label=labels.mode_label,
        host_status_label=labels.host_status_label,
        severity_ja=labels.SEVERITY_JA,
        status_en=labels.STATUS_EN,
    )
    return env
