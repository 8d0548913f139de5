"""The terminal summary of a run: coverage, counts per area and zone, failures, exit code (ja/en)."""

from __future__ import annotations

import heapq
import re
import unicodedata
from typing import Any, Protocol

from scanner.report.labels import (
    SEVERITY_JA,
    STATUS_EN,
    STATUS_ORDER,
    area_label,
    area_order,
    exit_meaning,
    host_status_label,
    mode_label,
    severity_sorted,
    value_text,
    zone_label,
    zone_order,
)
from scanner.results import Finding, Run, Status

_COLORS: dict[Status, str] = {
    Status.FAIL: "31",
    Status.ERROR: "35",
    Status.UNREACHABLE: "33",
    Status.WAIVED: "36",
    Status.MANUAL: "34",
    Status.NOT_APPLICABLE: "2",
    Status.PASS: "32",
}

# Errors are listed in full in the HTML and JUnit reports; a terminal shows the first few.
MAX_ERRORS = 20

# Control characters and bidi overrides in host-supplied text could rewrite the terminal.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def render(run: Run, color: bool = False, allow_incomplete: bool = False) -> str:
    """Render a run as a plain (or ANSI-coloured) terminal summary in Japanese and English.

    >>> print(render(run, color=sys.stdout.isatty()))
    """
    paint = _painter(color)
    table, errors = _read(run)
    lines = _header(run) + _coverage(run) + _summary(run, table, paint) + _failures(run, paint)
    lines += _errors(errors, paint)
    code, ja, en = exit_meaning(run, allow_incomplete)
    status = Status.FAIL if code == 1 else Status.UNREACHABLE if code == 3 else Status.PASS
    lines.append(paint(f"終了コード exit code {code}: {ja} / {en} (fail-on: {run.fail_on.value})", status))
    return "\n".join(lines) + "\n"


def _clean(text: object) -> str:
    """Escape characters that a terminal would interpret."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _width(text: str) -> int:
    """Return the number of terminal columns a string takes (wide CJK characters take two)."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def _pad(text: str, width: int) -> str:
    """Left-align text in a column of the given terminal width."""
    return text + " " * max(0, width - _width(text))


class _Paint(Protocol):
    """Colour text by status (or not at all)."""

    def __call__(self, text: str, status: Status | None = None, bold: bool = False) -> str: ...


def _plain(text: str, status: Status | None = None, bold: bool = False) -> str:
    """Return text unchanged."""
    return text


def _ansi(text: str, status: Status | None = None, bold: bool = False) -> str:
    """Wrap text in ANSI colour codes for its status."""
    codes = [c for c in ("1" if bold else "", _COLORS[status] if status else "") if c]
    return f"\x1b[{';'.join(codes)}m{text}\x1b[0m" if codes else text


def _painter(color: bool) -> _Paint:
    """Return a function that colours text by status, or leaves it alone."""
    return _ansi if color else _plain


def _header(run: Run) -> list[str]:
    """Return the title and the run identity lines."""
    muni = " ".join(v for v in (run.municipality.get("name_ja"), run.municipality.get("name_en")) if v)
    mode_ja, mode_en = mode_label(run.mode)
    return [
        _clean(f"kijun 点検結果 / scan results: {muni}".rstrip()),
        _clean(
            f"実行ID run {run.run_id} | {mode_ja} {mode_en} | {run.started_at} - {run.finished_at}"
            f" | プロファイル profile {run.profile} | scanner {run.scanner_version}"
        ),
        "",
    ]


def _coverage(run: Run) -> list[str]:
    """Return the coverage line and the hosts not assessed with their reason."""
    cov = run.coverage()
    lines = [
        f"対象範囲 coverage: {cov['assessed']}/{cov['in_scope']} ホスト評価済 hosts assessed"
        f" ({cov['ratio'] * 100:.1f}%)"
    ]
    missing = [h for h in run.hosts if not h.assessed]
    if missing:
        lines.append("  未評価 not assessed (適合とはみなさない / never counted as pass):")
        name_w = max(_width(_clean(h.name)) for h in missing)
        for h in missing:
            ja, en = host_status_label(h.status)
            lines.append(
                _clean(f"    {_pad(h.name, name_w)}  {_zone_text(h.zone)}  {ja} {en}: {h.message or '-'}")
            )
    return [*lines, ""]


def _zone_text(zone: str) -> str:
    """Return a zone as 'key (ja)' for one-line output."""
    ja, _ = zone_label(zone)
    return zone if ja == zone else f"{zone} ({ja})"


Counts = dict[str, dict[str, dict[Status, int]]]


def _read(run: Run) -> tuple[Counts, tuple[int, list[Finding]]]:
    """Read the findings once (a run may hold 10,000 hosts): counts per area × zone, and the errors.

    Of the errors only the count and the first MAX_ERRORS by severity are kept.
    """
    table: Counts = {}
    worst: list[tuple[tuple[Any, ...], Finding]] = []  # a heap of the kept errors, best first
    count = 0
    for f in run.findings:
        zones = table.get(f.area) or table.setdefault(f.area, {})
        counts = zones.get(f.zone) or zones.setdefault(f.zone, dict.fromkeys(Status, 0))
        counts[f.status] += 1
        if f.status is Status.ERROR:
            count += 1
            key = (f.severity.rank, _negate(f.host), _negate(f.control_id), -count)
            if len(worst) < MAX_ERRORS:
                heapq.heappush(worst, (key, f))
            else:
                heapq.heappushpop(worst, (key, f))
    return table, (count, [f for _key, f in sorted(worst, key=lambda item: item[0], reverse=True)])


def _negate(text: str) -> tuple[int, ...]:
    """Return a key that orders texts in reverse (the heap keeps the largest keys)."""
    return (*(-ord(ch) for ch in text), 1)


def _summary(run: Run, table: Counts, paint: _Paint) -> list[str]:
    """Return the table of status counts per area × zone, with a total row."""
    head_ja = ["領域", "ゾーン", *[s.label_ja for s in STATUS_ORDER]]
    head_en = ["area", "zone", *[STATUS_EN[s] for s in STATUS_ORDER]]
    rows: list[list[str]] = []
    for area in area_order(set(table)):
        counts = table[area]
        for zone in zone_order(set(counts)):
            rows.append(
                [f"{area_label(area)[0]} {area}", zone, *[str(counts[zone][s]) for s in STATUS_ORDER]]
            )
    totals = run.counts()
    rows.append(["合計 total", "", *[str(totals[s.value]) for s in STATUS_ORDER]])
    rows = [[_clean(c) for c in row] for row in rows]
    widths = [max(_width(r[i]) for r in [head_ja, head_en, *rows]) for i in range(len(head_ja))]

    def line(cells: list[str], bold: bool = False) -> str:
        out = []
        for i, cell in enumerate(cells):
            text = cell if i == len(cells) - 1 else _pad(cell, widths[i])
            status = STATUS_ORDER[i - 2] if i >= 2 and cell not in ("0", "") and not bold else None
            out.append(paint(text, status, bold))
        return "  ".join(out)

    body = [line(r) for r in rows]
    return [
        paint("領域×ゾーン別の件数 / findings per area and zone", bold=True),
        line(head_ja, True),
        line(head_en, True),
        *body,
        "",
    ]


def _failures(run: Run, paint: _Paint) -> list[str]:
    """Return the failing findings, worst severity first, with observed vs expected."""
    failed = severity_sorted(list(run.tally.fails))
    lines = [paint(f"不適合 failures ({len(failed)}): 重要度順 by severity", Status.FAIL, bold=True)]
    for f in failed:
        below = "" if f.severity.rank >= run.fail_on.rank else "  (fail-on 未満 below fail-on)"
        sev = f"{SEVERITY_JA[f.severity]} {f.severity.value.upper()}"
        lines.append(
            paint(
                _clean(f"  [{sev}] {f.host}  {f.control_id}  {f.title_ja} / {f.title_en}{below}"), Status.FAIL
            )
        )
        lines += _finding_details(f)
    if not failed:
        lines.append("  なし none")
    return [*lines, ""]


def _finding_details(f: Finding) -> list[str]:
    """Return the indented lines of failing checks, message and lapsed waiver of a finding."""
    lines = []
    for c in f.checks:
        if c.status is Status.FAIL:
            lines.append(
                _clean(
                    f"      {c.check_id}: 観測 observed {value_text(c.observed)}"
                    f" / 期待 expected {value_text(c.expected)}"
                )
            )
            if c.origin:
                where = f"{c.origin.get('file')}:{c.origin.get('line')}"
                lines.append(_clean(f"        {where} で設定 / set in {where}"))
    if f.message:
        lines.append(_clean(f"      {f.message}"))
    if f.waiver and not f.waiver.applied:
        lines.append(
            _clean(
                f"      例外措置 waiver {f.waiver.id} 不適用 not applied: {f.waiver.reason or '-'}"
                f" (期限 expires {f.waiver.expires or '-'})"
            )
        )
    return lines


def _errors(found: tuple[int, list[Finding]], paint: _Paint) -> list[str]:
    """Return the findings whose checks could not be evaluated (unreachable hosts are in coverage)."""
    count, errors = found
    if not errors:
        return []
    lines = [
        paint(
            f"エラー errors ({count}): 評価できなかった管理策 controls not evaluated",
            Status.ERROR,
            bold=True,
        )
    ]
    for f in errors:
        reason = f.message or "; ".join(dict.fromkeys(c.message for c in f.checks if c.message)) or "-"
        lines.append(_clean(f"  {f.host}  {f.control_id}  {f.title_ja} / {f.title_en}: {reason}"))
    if count > MAX_ERRORS:
        lines.append(f"  ... 他 {count - MAX_ERRORS} 件 and {count - MAX_ERRORS} more (see report.html)")
    return [*lines, ""]
