"""Japanese and English labels, orderings and value formatting shared by every reporter."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from scanner.register_words import ZONE_NAMES
from scanner.report.expected import sentence
from scanner.results import CheckResult, Finding, Run, Severity, Status

# Area key (Finding.area) -> (ja, en). The order here is the order of every summary table.
AREA_LABELS: dict[str, tuple[str, str]] = {
    "logging": ("ログ", "Logging"),
    "access_control": ("アクセス制御", "Access control"),
    "network": ("強靭性(ネットワーク分離)", "Network separation"),
    "backup": ("バックアップ", "Backup"),
    "mfa": ("二要素認証", "Two-factor authentication"),
    "dlp": ("持ち出し不可", "No take-out (removable media)"),
    "malware": ("不正プログラム対策", "Malware and patches"),
    "exception": ("例外措置", "Exceptions (waivers)"),
    "audit": ("監査", "Audit"),
    "physical": ("物理的セキュリティ", "Physical security"),
}

# The standard zones' names, as the inventory register spells them.
ZONE_LABELS: dict[str, tuple[str, str]] = ZONE_NAMES

ROLE_LABELS: dict[str, tuple[str, str]] = {
    "server": ("サーバ", "server"),
    "terminal": ("端末", "terminal"),
    "network_device": ("ネットワーク機器", "network device"),
    "log_server": ("ログサーバ", "log server"),
    "backup_storage": ("バックアップ装置", "backup storage"),
    "bastion": ("踏み台", "bastion"),
    "proxy": ("プロキシ", "proxy"),
}

STATUS_EN: dict[Status, str] = {
    Status.PASS: "pass",
    Status.FAIL: "fail",
    Status.ERROR: "error",
    Status.UNREACHABLE: "unreachable",
    Status.WAIVED: "waived",
    Status.MANUAL: "manual",
    Status.NOT_APPLICABLE: "n/a",
}

# Column order of the summary tables: what needs action first.
STATUS_ORDER: tuple[Status, ...] = (
    Status.FAIL,
    Status.ERROR,
    Status.UNREACHABLE,
    Status.WAIVED,
    Status.MANUAL,
    Status.NOT_APPLICABLE,
    Status.PASS,
)

SEVERITY_JA: dict[Severity, str] = {
    Severity.CRITICAL: "緊急",
    Severity.HIGH: "高",
    Severity.MEDIUM: "中",
    Severity.LOW: "低",
    Severity.INFO: "情報",
}

HOST_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "assessed": ("評価済", "assessed"),
    "unreachable": ("未到達", "unreachable"),
    "error": ("収集エラー", "collection error"),
}

MODE_LABELS: dict[str, tuple[str, str]] = {
    "scheduled": ("定期点検", "scheduled"),
    "self-inspection": ("自己点検", "self-inspection"),
    "audit": ("監査", "audit"),
    "ci": ("CI", "CI"),
    "on-demand": ("随時点検", "on-demand"),
    "on-demand-request": ("報告要求", "on-demand request"),
    "incident-evidence": ("事故証跡", "incident evidence"),
}

EXIT_MEANINGS: dict[int, tuple[str, str]] = {
    0: (
        "問題なし(全ホスト評価済、基準以上の不適合なし)",
        "clean: every host assessed, no failure at or above fail-on",
    ),
    1: ("基準以上の重要度の不適合あり", "a finding at or above fail-on failed"),
    2: ("入力または使用方法の誤り", "bad input or usage"),
    3: (
        "点検が不完全(未到達またはエラー)、不適合なし",
        "incomplete scan (unreachable or error), nothing failed",
    ),
}


def area_label(area: str) -> tuple[str, str]:
    """Return the (ja, en) label of an area, falling back to the raw key."""
    return AREA_LABELS.get(area, (area, area))


def zone_label(zone: str) -> tuple[str, str]:
    """Return the (ja, en) label of a zone, falling back to the raw name."""
    return ZONE_LABELS.get(zone, (zone, zone))


def role_label(role: str) -> tuple[str, str]:
    """Return the (ja, en) label of a host role, falling back to the raw name."""
    return ROLE_LABELS.get(role, (role, role))


def host_status_label(status: str) -> tuple[str, str]:
    """Return the (ja, en) label of a host's collection status."""
    return HOST_STATUS_LABELS.get(status, (status, status))


def mode_label(mode: str) -> tuple[str, str]:
    """Return the (ja, en) label of a run mode."""
    return MODE_LABELS.get(mode, (mode, mode))


def value_text(value: Any) -> str:
    """Render an observed or expected value as compact JSON (control characters stay escaped)."""
    if value is None:
        return "—"
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def expected_text(expected: Any) -> tuple[str, str]:
    """Return what a check expects as a (ja, en) sentence, not the engine's expression."""
    return sentence(expected)


def origin(check: CheckResult) -> tuple[str, int] | None:
    """Return (file, line) of the line that decided a check, when the parser recorded one (line 0: unknown)."""
    where = check.origin or {}
    file, line = where.get("file"), where.get("line")
    if not isinstance(file, str) or not file:
        return None
    return file, line if isinstance(line, int) and line > 0 else 0


def origin_text(check: CheckResult) -> str:
    """Return ``file:line`` of the deciding line, or an empty string."""
    where = origin(check)
    if where is None:
        return ""
    return f"{where[0]}:{where[1]}" if where[1] else where[0]


def utc_text(stamp: str) -> str:
    """Return an ISO time as UTC ``YYYY-MM-DDTHH:MM:SS`` without a zone (a zone-less time is taken as UTC)."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return "1970-01-01T00:00:00"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def citation_text(citation: dict[str, str]) -> str:
    """Render a citation dict (doc, article, text, ...) as one line."""
    head = " ".join(citation[k] for k in ("doc", "article") if citation.get(k))
    rest = [f"{k}: {v}" for k, v in citation.items() if k not in ("doc", "article", "text") and v]
    parts = [p for p in (head, citation.get("text", ""), *rest) if p]
    return " — ".join(parts)


def area_order(areas: set[str]) -> list[str]:
    """Order areas as in AREA_LABELS, unknown ones last and alphabetically."""
    known = [a for a in AREA_LABELS if a in areas]
    return known + sorted(areas - set(AREA_LABELS))


def zone_order(zones: set[str]) -> list[str]:
    """Order zones as in ZONE_LABELS, unknown ones last and alphabetically."""
    known = [z for z in ZONE_LABELS if z in zones]
    return known + sorted(zones - set(ZONE_LABELS))


def severity_sorted(findings: list[Finding]) -> list[Finding]:
    """Sort findings by severity (worst first), then host and control id."""
    return sorted(findings, key=lambda f: (-f.severity.rank, f.host, f.control_id))


def status_sorted(findings: list[Finding]) -> list[Finding]:
    """Sort findings by status (as in STATUS_ORDER), then severity (worst first) and control id."""
    return sorted(
        findings, key=lambda f: (STATUS_ORDER.index(f.status), -f.severity.rank, f.control_id, f.host)
    )


def count_table(findings: list[Finding], key: str) -> dict[str, dict[Status, int]]:
    """Count findings per status for each value of a Finding attribute (``area`` or ``zone``)."""
    out: dict[str, dict[Status, int]] = {}
    for f in findings:
        row = out.setdefault(getattr(f, key), dict.fromkeys(Status, 0))
        row[f.status] += 1
    return out


def exit_meaning(run: Run, allow_incomplete: bool = False) -> tuple[int, str, str]:
    """Return the run's exit code and its (ja, en) meaning."""
    code = run.exit_code(allow_incomplete=allow_incomplete)
    ja, en = EXIT_MEANINGS[code]
    return code, ja, en
