"""The HTML reporter: one self-contained, bilingual (ja first) file from templates/report.html.j2."""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from scanner.diff import diff
from scanner.netdev.report import section
from scanner.report import labels
from scanner.report.csv import WAIVER_STATES
from scanner.results import Finding, HostResult, Run, Status


def render(
    run: Run,
    group_by: Literal["host", "control"] = "host",
    allow_incomplete: bool = False,
    previous: Run | None = None,
) -> str:
    """Render a run as one HTML page (with the diff against ``previous``); every value is escaped.

    >>> Path("report.html").write_text(render(run), encoding="utf-8")
    """
    code, verdict_ja, verdict_en = labels.exit_meaning(run, allow_incomplete)
    findings = list(run.findings)
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            run=run,
            coverage=run.coverage(),
            counts=run.counts(),
            statuses=labels.STATUS_ORDER,
            verdict={"code": code, "ja": verdict_ja, "en": verdict_en},
            area_rows=_rows(findings, "area", labels.area_order, labels.area_label),
            zone_rows=_rows(findings, "zone", labels.zone_order, labels.zone_label),
            hosts=_hosts(run),
            group_by=group_by,
            groups=_by_host(run) if group_by == "host" else _by_control(findings),
            manual=_manual(findings),
            env=run.envelope,
            waiver_states=WAIVER_STATES,
            changes=diff(previous, run) if previous is not None else None,
            netdev=Markup(section(run.envelope)),  # escaped by scanner/netdev/report.py
        )
    )


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
        role_label=labels.role_label,
        mode_label=labels.mode_label,
        host_status_label=labels.host_status_label,
        severity_ja=labels.SEVERITY_JA,
        status_en=labels.STATUS_EN,
    )
    return env


def _rows(findings: list[Finding], key: str, order: Any, label: Any) -> list[dict[str, Any]]:
    """Return one summary row (labels and counts per status) per area or zone."""
    table = labels.count_table(findings, key)
    return [
        {"key": k, "ja": label(k)[0], "en": label(k)[1], "counts": table[k], "total": sum(table[k].values())}
        for k in order(set(table))
    ]


def _hosts(run: Run) -> list[dict[str, Any]]:
    """Return the host table rows with the number of failures on each host."""
    fails: dict[str, int] = {}
    for f in run.findings:
        if f.status is Status.FAIL:
            fails[f.host] = fails.get(f.host, 0) + 1
    return [{"host": h, "fails": fails.get(h.name, 0)} for h in run.hosts]


def _by_host(run: Run) -> list[dict[str, Any]]:
    """Group findings by host, hosts in inventory order, findings by status then severity."""
    hosts = {h.name: h for h in run.hosts}
    grouped: dict[str, list[Finding]] = {name: [] for name in hosts}
    for f in run.findings:
        grouped.setdefault(f.host, []).append(f)
    return [_group(name, hosts.get(name), fs) for name, fs in grouped.items()]


def _by_control(findings: list[Finding]) -> list[dict[str, Any]]:
    """Group findings by control, controls in id order, findings by status then host."""
    grouped: dict[str, list[Finding]] = {}
    for f in sorted(findings, key=lambda f: f.control_id):
        grouped.setdefault(f.control_id, []).append(f)
    return [_group(cid, None, fs) for cid, fs in grouped.items()]


def _group(key: str, host: HostResult | None, findings: list[Finding]) -> dict[str, Any]:
    """Return one group of findings with its status counts."""
    counts = dict.fromkeys(Status, 0)
    for f in findings:
        counts[f.status] += 1
    return {"key": key, "host": host, "findings": labels.status_sorted(findings), "counts": counts}


def _manual(findings: list[Finding]) -> list[dict[str, Any]]:
    """Return each manual control once, with its attestation and the hosts it is asked for."""
    out: dict[str, dict[str, Any]] = {}
    for f in findings:
        if f.status is Status.MANUAL:
            row = out.setdefault(f.control_id, {"finding": f, "hosts": []})
            row["hosts"].append(f.host)
    return [out[k] for k in sorted(out)]
