"""Every report lists the 例外措置 in force, lapsed (by date, used or not), refused, and unused."""

from __future__ import annotations

from datetime import date

from scanner.results import Finding, Severity, Status, WaiverRef
from scanner.waivers import Waiver, summary


def waiver(wid: str, expires: date) -> Waiver:
    return Waiver(
        id=wid, control="ACC-04", host_names=("srv-*",), selector=None, justification="保守作業のため",
        compensating=(), requested_by="税務課長", approver="架空 一郎", approver_role="統括情報セキュリティ責任者",
        approved_on=date(2026, 4, 1), expires=expires, ticket="", file="w.yaml", line=1,
    )  # fmt: skip


def finding(host: str, status: Status, ref: WaiverRef | None) -> Finding:
    return Finding(host, "ACC-04", status, Severity.HIGH, "access_control", "t", "t", waiver=ref)


def test_waivers_are_sorted_into_in_force_lapsed_not_applied_and_unused() -> None:
    active, expired, idle, refused = (
        waiver("EXC-1", date(2027, 3, 31)), waiver("EXC-2", date(2026, 9, 30)),
        waiver("EXC-3", date(2027, 3, 31)), waiver("EXC-4", date(2027, 3, 31)),
    )  # fmt: skip
    expired_unused = waiver("EXC-5", date(2026, 10, 31))
    findings = [
        finding("srv-01", Status.WAIVED, WaiverRef("EXC-1", True)),
        finding(
            "srv-02", Status.FAIL, WaiverRef("EXC-2", False, "waiver EXC-2 lapsed on 2026-09-30 (期限切れ)")
        ),
        finding("srv-03", Status.FAIL, WaiverRef("EXC-4", False, "compensating control ACC-07 is fail")),
    ]
    out = summary([active, expired, idle, refused, expired_unused], findings, date(2026, 11, 20))
    ids = {state: [w["id"] for w in entries] for state, entries in out.items()}
    assert ids == {
        "in_force": ["EXC-1"],
        "lapsed": ["EXC-2", "EXC-5"],
        "not_applied": ["EXC-4"],
        "unused": ["EXC-3"],
    }
    assert out["lapsed"][0]["reason"] == "lapsed on 2026-09-30 (期限切れ)"
    assert out["not_applied"][0]["reason"] == "compensating control ACC-07 is fail"
    assert [w["findings"] for w in out["lapsed"]] == [1, 0]


def test_on_its_expiry_date_a_waiver_is_still_in_force() -> None:
    out = summary([waiver("EXC-1", date(2026, 11, 20))], [finding("srv-01", Status.WAIVED, WaiverRef("EXC-1", True))],
                  date(2026, 11, 20))  # fmt: skip
    assert [w["id"] for w in out["in_force"]] == ["EXC-1"] and out["lapsed"] == []
