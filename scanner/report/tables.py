"""The tables of the 自己点検, リスク登録簿, management review and 例外措置 list: headings and rows.

csv.py writes them as CSV and xlsx.py lays them out as workbooks; sheets.py reads a run's
findings once into their rows.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from scanner.report.labels import SEVERITY_JA, value_text, zone_label
from scanner.results import Finding, Run, Status
from scanner.yamlsrc import load_yaml

ORGANIZATION = "全庁"  # the workbook of findings that belong to no host's 課 (organization level)
MAX_CELL = 2000


@dataclass(frozen=True)
class Table:
    """A title, bilingual column headings and rows of plain values."""

    title: str
    headers: list[str]
    rows: Collection[list[Any]]  # a list, or rows spooled to disk (report/sheets.py)
    widths: list[int] = field(default_factory=list)
    inputs: dict[str, list[str] | str] = field(default_factory=dict)  # column → choices, or "date"/"text"
    hidden: tuple[str, ...] = ()  # columns a reader needs and a person does not (kept hidden)
    answer_columns: tuple[str, ...] = ()  # input columns open only on rows that take an answer


@dataclass(frozen=True)
class Scales:
    """Risk scales (the seeds fix none): likelihood by zone, impact by class and severity, due days."""

    likelihood_levels: dict[int, str]
    impact_levels: dict[int, str]
    likelihood_by_zone: dict[str, int]
    impact_by_classification: dict[str, int]
    impact_by_severity: dict[str, int]
    due_days: dict[str, int]
    default_likelihood: int = 2
    default_impact: int = 2


DEFAULT_SCALES = Scales(
    likelihood_levels={1: "低", 2: "中", 3: "高"},
    impact_levels={1: "低", 2: "中", 3: "高"},
    likelihood_by_zone={"internet": 3, "lgwan": 2, "mynumber": 2, "mgmt": 2, "dc": 1},
    impact_by_classification={"機密性3": 3, "機密性2": 2, "機密性1": 1},
    impact_by_severity={"critical": 3, "high": 3, "medium": 2, "low": 1, "info": 1},
    due_days={"critical": 7, "high": 30, "medium": 90, "low": 180, "info": 365},
)


def load_scales(path: Path) -> Scales:
    """Load risk scales from YAML with the field names of Scales; absent keys keep the defaults."""
    doc = load_yaml(path) or {}  # regular files only, aliases bounded (LoadError otherwise)
    names = {f.name for f in fields(Scales)}
    if not isinstance(doc, dict) or set(doc) - names:
        raise ValueError(f"expected a mapping with keys among {', '.join(sorted(names))}")
    typed: dict[str, Any] = {}
    for key, value in doc.items():
        if key.endswith("_levels"):
            typed[key] = {int(k): str(v) for k, v in value.items()}
        elif isinstance(value, dict):
            typed[key] = {str(k): int(v) for k, v in value.items()}
        else:
            typed[key] = int(value)
    return replace(DEFAULT_SCALES, **typed)


def run_date(run: Run) -> date:
    """Return the date the run judges against (its waiver date, else its start)."""
    return date.fromisoformat(str(run.envelope.get("waiver_date") or run.started_at[:10]))


def targets(run: Run) -> dict[str, dict[str, Any]]:
    """Return each host's recorded target details (system, owner, department, classification)."""
    out = {t["name"]: dict(t) for t in run.envelope.get("scope", {}).get("targets", [])}
    for h in run.hosts:
        out.setdefault(h.name, {"name": h.name, "zone": h.zone, "role": h.role, "owner": h.owner})
        out[h.name]["evidence_file"] = h.evidence_file
    return out


def owner_of(f: Finding) -> str:
    return f.owner or ORGANIZATION


def owner_role(run: Run) -> str:
    """Return the profile's title of the role that owns remediation."""
    role = run.envelope.get("roles", {}).get("remediation_owner", "")
    return "・".join(map(str, role)) if isinstance(role, list) else str(role)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def observed(f: Finding) -> str:
    """Return what was observed: the checks that did not pass, else all checks."""
    shown = [c for c in f.checks if c.status is not Status.PASS] or list(f.checks)
    return _cut("; ".join(f"{c.check_id}: {value_text(c.observed)}" for c in shown) or f.message)


def evidence_ref(run: Run, f: Finding, info: dict[str, dict[str, Any]]) -> str:
    """Return where the raw evidence of a finding is: run, file and item ids."""
    items = sorted({e for c in f.checks for e in c.evidence})
    file = info.get(f.host, {}).get("evidence_file", "")
    if not file:
        return run.run_id
    return f"{run.run_id}/{file}" + (f": {', '.join(items)}" if items else "")


def open_since(run: Run, f: Finding) -> str:
    return str(run.envelope.get("open_since", {}).get(f.key, "") or run_date(run).isoformat())


def due(run: Run, f: Finding, scales: Scales) -> date:
    """Return the remediation due date: open since + the days the scales give this severity."""
    days = scales.due_days.get(f.severity.value, 90)
    return date.fromisoformat(open_since(run, f)[:10]) + timedelta(days=days)


def zone_of(f: Finding) -> str:
    return zone_label(f.zone)[0] if f.zone else ""


ANSWER = "回答 answer (要確認のみ manual only)"
KEY = "キー key"
SELF_HEADERS = [
    "ホスト host", "システム system", "ゾーン zone", "管理策 control", "表題 title", "重要度 severity", "状態 status",
    "観測値 observed", "証跡 evidence", "是正方法 remediation", "是正責任者 owner role", "例外措置 waiver",
    "対応状況 action taken", "課長確認 sign-off (課長)", "確認日 date", ANSWER, "回答者 attested by",
    "役職 role", "回答日 attested on", "有効期限 valid until", KEY
]  # fmt: skip
SELF_WIDTHS = [16, 18, 14, 9, 36, 8, 14, 48, 36, 48, 20, 14, 24, 16, 12, 16, 16, 20, 12, 12, 24]
ACTIONS = ["未着手 open", "対応中 in progress", "完了 done", "例外措置申請 waiver requested"]
ANSWERS = {"適合 pass": "pass", "不適合 fail": "fail", "該当なし not applicable": "not_applicable"}


ATTESTED = "回答による attested"
ANSWER_COLUMNS = (ANSWER, "回答者 attested by", "役職 role", "回答日 attested on", "有効期限 valid until")


def _answered(f: Finding) -> list[str]:
    """Return the answer cells of a row: the attestation in force, for renewal, or blanks."""
    if not f.attested:
        return ["", "", "", "", ""]
    a = f.attested
    label = next((k for k, v in ANSWERS.items() if v == a.get("answer")), "")
    return [label, str(a.get("attested_by", "")), str(a.get("role", "")), str(a.get("attested_on", "")),
            str(a.get("valid_until", ""))]  # fmt: skip


def self_inputs(run: Run) -> dict[str, list[str] | str]:
    """Return what a person fills in a 自己点検票: choice lists, dates and names."""
    roles: list[str | Any] = []
    for value in run.envelope.get("roles", {}).values():
        roles += value if isinstance(value, list) else [value]
    return {
        "対応状況 action taken": ACTIONS,
        "課長確認 sign-off (課長)": "text",
        "確認日 date": "date",
        ANSWER: list(ANSWERS),
        "回答者 attested by": "text",
        "役職 role": [str(r) for r in dict.fromkeys(roles)] or "text",
        "回答日 attested on": "date",
        "有効期限 valid until": "date",
    }


def self_row(run: Run, f: Finding, info: dict[str, dict[str, Any]], role: str) -> list[Any]:
    """Return the 自己点検 row of one finding."""
    system = info.get(f.host, {}).get("system", "")
    status = f"{f.status.label_ja} ({f.status.value})" + (f" {ATTESTED}" if f.attested else "")
    return [f.host, system, zone_of(f), f.control_id, f.title_ja, SEVERITY_JA[f.severity], status, observed(f),
            evidence_ref(run, f, info), f.remediation_ja, role, f.waiver.id if f.waiver else "", "", "", "",
            *_answered(f), f.key]  # fmt: skip


def self_table(owner: str, rows: Collection[list[Any]], inputs: dict[str, list[str] | str]) -> Table:
    """Return the 自己点検 table of one owner 課 over its rows (a list, or rows spooled to disk)."""
    return Table(f"自己点検票 {owner}", SELF_HEADERS, rows, SELF_WIDTHS, inputs, (KEY,), ANSWER_COLUMNS)


def answerable(status: str) -> bool:
    """Say whether a 自己点検 row takes an answer: a manual control, or one decided by an earlier answer."""
    return "(manual)" in status or ATTESTED in status


RISK_HEADERS = [
    "リスクID risk id", "資産 asset", "システム system", "ゾーン zone", "格付 classification", "管理策 control",
    "リスク内容 risk", "重要度 severity", "発生可能性 likelihood", "影響度 impact", "リスク値 score", "所管課 owner",
    "リスク所有者 owner role", "対応方針 treatment", "発見日 open since", "対応期限 due", "期限超過 overdue",
    "部長承認 approved (部長)", "承認日 approval date"
]  # fmt: skip
RISK_WIDTHS = [28, 16, 18, 14, 10, 9, 56, 8, 10, 10, 8, 14, 20, 24, 12, 12, 12, 16, 12]


def risk_row(
    run: Run, f: Finding, info: dict[str, dict[str, Any]], role: str, today: date, scales: Scales
) -> list[Any]:
    """Return the リスク登録簿 row of a failing or waived finding."""
    t = info.get(f.host, {})
    cls = str(t.get("classification", ""))
    like = scales.likelihood_by_zone.get(f.zone, scales.default_likelihood)
    impact = max(scales.impact_by_classification.get(cls, scales.default_impact),
                 scales.impact_by_severity.get(f.severity.value, scales.default_impact))  # fmt: skip
    accepted = f.status is Status.WAIVED and f.waiver is not None
    treatment = f"受容 accept (例外措置 {f.waiver.id})" if f.waiver and accepted else "低減 reduce"
    deadline = due(run, f, scales)
    overdue = "超過 overdue" if f.status is Status.FAIL and today > deadline else ""
    return [f.key, f.host, t.get("system", ""), zone_of(f), cls, f.control_id,
            _cut(f"{f.status.label_ja}: {f.title_ja} / 観測値: {observed(f)}"), SEVERITY_JA[f.severity],
            f"{like} {scales.likelihood_levels.get(like, '')}".strip(),
            f"{impact} {scales.impact_levels.get(impact, '')}".strip(), like * impact, owner_of(f), role,
            treatment, open_since(run, f), deadline.isoformat(), overdue, "", ""]  # fmt: skip


def risk_table(rows: Collection[list[Any]]) -> Table:
    return Table("リスク登録簿 risk register", RISK_HEADERS, rows, RISK_WIDTHS)


def lapsed_ids(run: Run) -> set[str]:
    return {str(w["id"]) for w in run.envelope.get("waivers", {}).get("lapsed", [])}


REVIEW_HEADERS = [
    "区分 dimension", "対象 group", "対象ホスト hosts", "評価済 assessed", "網羅率 coverage", "適合 pass", "不適合 fail",
    "例外措置中 waived", "未評価・エラー error/unreachable", "適合率 pass rate", "例外措置(有効) open waivers",
    "例外措置(期限切れ) lapsed", "期限超過 overdue"
]  # fmt: skip


def review_row(
    run: Run,
    dim: str,
    group: str,
    counts: dict[Status, int],
    hosts: set[str] | None,
    lapsed: int,
    overdue: int,
) -> list[Any]:
    """Return one management-review row from the counts of its findings (``hosts`` None: an area)."""
    judged = counts[Status.PASS] + counts[Status.FAIL] + counts[Status.WAIVED]
    unassessed = counts[Status.ERROR] + counts[Status.UNREACHABLE]
    shown: list[Any] = ["", ""]
    if hosts is None:  # an area: coverage is of findings, not of hosts
        total = sum(counts.values())
        assessed = total - unassessed
    else:
        total, assessed = len(hosts), sum(1 for h in run.hosts if h.name in hosts and h.assessed)
        shown = [total, assessed]
    return [
        dim, group, *shown, round(assessed / total, 4) if total else "", counts[Status.PASS],
        counts[Status.FAIL], counts[Status.WAIVED], unassessed, round(counts[Status.PASS] / judged, 4) if judged else "",
        counts[Status.WAIVED], lapsed, overdue,
    ]  # fmt: skip


def department(info: dict[str, dict[str, Any]], f: Finding) -> str:
    """Return the 部 and 課 a finding belongs to, for the review."""
    return " ".join(p for p in (info.get(f.host, {}).get("department", ""), owner_of(f)) if p)


REVIEW_WIDTHS = [16, 28, 10, 10, 10, 8, 8, 10, 12, 10, 12, 12, 10]


def review_table(rows: Collection[list[Any]]) -> Table:
    return Table("マネジメントレビュー資料 management review", REVIEW_HEADERS, rows, REVIEW_WIDTHS)


WAIVER_HEADERS = [
    "区分 state", "例外措置ID waiver", "管理策 control", "対象 hosts", "理由 justification", "代替措置 compensating",
    "承認者 approver", "承認者の役職 approver role", "承認日 approved on", "期限 expires", "該当件数 findings", "備考 note"
]  # fmt: skip
WAIVER_STATES = {
    "in_force": "有効 in force",
    "lapsed": "期限切れ lapsed",
    "not_applied": "不適用 not applied",
    "unused": "未使用 unused",
}


def waivers(run: Run) -> Table:
    """Return the 例外措置 in force, lapsed, not applied and unused, as the run recorded them."""
    summary, rows = run.envelope.get("waivers", {}), []
    for state, label in WAIVER_STATES.items():
        for w in summary.get(state, []):
            by = w.get("approved_by", {})
            rows.append(
                [label, w.get("id", ""), w.get("control", ""), ", ".join(map(str, w.get("hosts", []))),
                 w.get("justification", ""), ", ".join(w.get("compensating_controls", [])), by.get("name", ""),
                 by.get("role", ""), w.get("approved_on", ""), w.get("expires", ""), w.get("findings", ""),
                 w.get("reason", "")]
            )  # fmt: skip
    return Table("例外措置一覧 waivers", WAIVER_HEADERS, rows, [16, 16, 9, 20, 40, 16, 12, 20, 12, 12, 8, 36])
