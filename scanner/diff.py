"""Own the comparison of two runs: new, regressed, fixed and persisting failures, and coverage change.

A finding is keyed by host and control. Only FAIL counts as failing: a waiver that hides a
failure, an error or an unreachable host is never reported as fixed. Every other change of status
that touches a failure is listed under ``changed`` so that nothing moves silently.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from scanner import compact
from scanner.results import Finding, Run, Status


@dataclass(frozen=True)
class Change:
    """One finding key and its status in the old and the new run (empty when absent)."""

    host: str
    control: str
    old: str
    new: str
    severity: str
    title_ja: str
    title_en: str

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "control": self.control,
            "old": self.old,
            "new": self.new,
            "severity": self.severity,
            "title": {"ja": self.title_ja, "en": self.title_en},
        }


@dataclass(frozen=True)
class Diff:
    """What changed between two runs."""

    old_run: str
    new_run: str
    new: list[Change] = field(default_factory=list)  # failing now, unknown or unassessed before
    regressed: list[Change] = field(default_factory=list)  # failing now, passed or was waived before
    fixed: list[Change] = field(default_factory=list)  # failed before, passes now
    persisting: list[Change] = field(default_factory=list)  # failing in both
    changed: list[Change] = field(default_factory=list)  # any other status change touching a failure
    coverage: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        lists = ("new", "regressed", "fixed", "persisting", "changed")
        return {
            "old_run": self.old_run,
            "new_run": self.new_run,
            "coverage": self.coverage,
            **{name: [c.to_json() for c in getattr(self, name)] for name in lists},
        }


_WAS_OK = frozenset({Status.PASS, Status.WAIVED})


def _change(key: str, old: Finding | None, new: Finding | None) -> Change:
    shown = new or old
    assert shown is not None
    return Change(
        shown.host,
        shown.control_id,
        old.status.value if old else "",
        new.status.value if new else "",
        shown.severity.value,
        shown.title_ja,
        shown.title_en,
    )


def _coverage(old: Run, new: Run) -> dict[str, Any]:
    """Return both coverages and which hosts entered, left, or changed collection status."""
    before = {h.name: h.status for h in old.hosts}
    return _coverage_of(old.coverage(), new.coverage(), before, {h.name: h.status for h in new.hosts})


def _coverage_of(
    old: dict[str, Any], new: dict[str, Any], before: dict[str, str], after: dict[str, str]
) -> dict[str, Any]:
    return {
        "old": old,
        "new": new,
        "hosts_added": sorted(set(after) - set(before)),
        "hosts_removed": sorted(set(before) - set(after)),
        "hosts_status_changed": [
            {"host": n, "old": before[n], "new": after[n]}
            for n in sorted(set(before) & set(after))
            if before[n] != after[n]
        ],
    }


def old_side(old: Run, new: Run) -> Run:
    """Return ``old`` with only the findings ``diff(old, new)`` can look at: its failures and ``new``'s keys.

    For a report's diff against the previous run, where ``new`` holds only the findings that fail or
    failed (dashboard's ``changed``): the previous run's other findings, 95 % of 370,000 lines at
    10,000 hosts, are then never built nor held.
    """
    if not isinstance(old.findings, compact.FindingLog):
        return old
    wanted = compact.failing(old) | {f.key for f in new.findings}
    return dataclasses.replace(old, findings=tuple(old.findings.select(wanted)))


def diff(old: Run, new: Run) -> Diff:
    """Compare two runs finding by finding (host/control).

    >>> d = diff(load_run("reports/20261119T020000-a1b2c3")[0], load_run("latest")[0])  # doctest: +SKIP
    >>> [c.control for c in d.fixed]  # doctest: +SKIP
    """
    before = {f.key: f for f in old.findings}
    after = {f.key: f for f in new.findings}
    out = Diff(old.run_id, new.run_id, coverage=_coverage(old, new))
    for key in sorted(set(before) | set(after)):
        was, now = before.get(key), after.get(key)
        failed, fails = (
            was is not None and was.status is Status.FAIL,
            now is not None and now.status is Status.FAIL,
        )
        if not failed and not fails:
            continue
        change = _change(key, was, now)
        if failed and fails:
            out.persisting.append(change)
        elif fails:
            (out.regressed if was is not None and was.status in _WAS_OK else out.new).append(change)
        elif now is not None and now.status is Status.PASS:
            out.fixed.append(change)
        else:
            out.changed.append(change)
    return out


def from_history(db: Any, old_id: str, new_id: str) -> Diff:
    """Compare two runs recorded in the findings history (scanner/ledger.py): the same Diff, by query."""
    from scanner import ledger

    cov = {
        run_id: dict(zip(("in_scope", "assessed"), row, strict=True))
        for run_id in (old_id, new_id)
        for row in db.execute("SELECT in_scope, assessed FROM runs WHERE run_id = ?", (run_id,))
    }
    if len(cov) < len({old_id, new_id}):
        raise ValueError(f"{old_id if old_id not in cov else new_id}: no such run in the history")
    for c in cov.values():
        c["ratio"] = round(c["assessed"] / c["in_scope"], 4) if c["in_scope"] else 0.0
    before_h, after_h = ledger.host_statuses(db, old_id), ledger.host_statuses(db, new_id)
    coverage = _coverage_of(cov[old_id], cov[new_id], before_h, after_h)
    before, after, names = ledger.statuses(db, old_id), ledger.statuses(db, new_id), ledger.titles(db)
    out = Diff(old_id, new_id, coverage=coverage)
    for key in sorted(set(before) | set(after), key=lambda k: f"{k[0]}/{k[1]}"):
        was, now = before.get(key), after.get(key)
        failed, fails = was is not None and was[0] == "fail", now is not None and now[0] == "fail"
        if not failed and not fails:
            continue
        shown = now or was
        assert shown is not None
        ja, en = names.get(key[1], ("", ""))
        change = Change(key[0], key[1], was[0] if was else "", now[0] if now else "", shown[1], ja, en)
        if failed and fails:
            out.persisting.append(change)
        elif fails:
            (out.regressed if was is not None and was[0] in ("pass", "waived") else out.new).append(change)
        elif now is not None and now[0] == "pass":
            out.fixed.append(change)
        else:
            out.changed.append(change)
    return out


_HEADINGS = {
    "new": ("新規の不適合", "new"),
    "regressed": ("再発・悪化した不適合", "regressed"),
    "fixed": ("是正された不適合", "fixed"),
    "persisting": ("継続している不適合", "persisting"),
    "changed": ("その他の状態変化", "other status changes"),
}


def render_text(d: Diff, show_persisting: bool = True) -> str:
    """Render a diff for the terminal, Japanese first."""
    cov_old, cov_new = d.coverage["old"], d.coverage["new"]
    lines = [
        f"比較 diff: {d.old_run} → {d.new_run}",
        f"対象範囲 coverage: {cov_old['assessed']}/{cov_old['in_scope']} → {cov_new['assessed']}/{cov_new['in_scope']}",
    ]
    for label, key in (("追加 added", "hosts_added"), ("除外 removed", "hosts_removed")):
        if d.coverage[key]:
            lines.append(f"  ホスト{label}: {', '.join(d.coverage[key])}")
    for item in d.coverage["hosts_status_changed"]:
        lines.append(f"  収集状態 collection {item['host']}: {item['old']} → {item['new']}")
    for name, (ja, en) in _HEADINGS.items():
        changes: list[Change] = getattr(d, name)
        lines.append(f"{ja} {en}: {len(changes)}")
        if name != "persisting" or show_persisting:
            lines += [
                f"  {c.host} {c.control} [{c.severity}] {c.old or '-'} → {c.new or '-'}  {c.title_ja}"
                for c in changes
            ]
    return "\n".join(lines)
