"""The run envelope: who, when, in which role, what scope, which pack — in results, envelope and reports."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from scanner import compact

from .ward import AS_OF, copy_ward, kijun, scan

PROFILE = """\
municipality: {name_ja: 架空区(試験), name_en: Kaku (test)}
extends: base
scope:
  exclude:
    - match: {os: [windows]}
      reason: Windows端末は資産管理ツールで別途点検する
      citation: 架空区情報セキュリティ対策基準 第3条第2項
"""


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Scan a copy of the ward in audit mode, one Windows host excluded and one snapshot missing."""
    tmp = tmp_path_factory.mktemp("audit")
    ward = copy_ward(tmp)
    (ward / "snapshots" / "fs-01.json").unlink()
    profile = tmp / "kaku-test.yaml"
    profile.write_text(PROFILE, "utf-8")
    run = scan(ward, tmp / "reports", "--profile", profile, "--mode", "audit", "--operator", "架空 三郎",
               "--operator-role", "統括情報セキュリティ責任者")  # fmt: skip
    return run, ward


def envelope(run: Path) -> dict[str, object]:
    doc = json.loads((run / "envelope.json").read_bytes())
    assert isinstance(doc, dict)
    return doc


def test_who_when_and_in_which_role(audited: tuple[Path, Path]) -> None:
    env = envelope(audited[0])
    assert env["run_id"] == audited[0].name
    assert env["mode"] == "audit"
    assert (env["operator"], env["operator_role"]) == ("架空 三郎", "統括情報セキュリティ責任者")
    started = datetime.fromisoformat(str(env["started_at"]))
    finished = datetime.fromisoformat(str(env["finished_at"]))
    assert str(env["started_at"]).endswith("+09:00") and str(env["finished_at"]).endswith("+09:00")
    assert started.utcoffset() == timedelta(hours=9)
    assert started <= finished
    assert env["scanner_version"] and len(str(env["scanner_sha256"])) == 64


def test_the_scanner_clock_is_recorded_and_never_assumed(audited: tuple[Path, Path]) -> None:
    sync = envelope(audited[0])["time_sync"]
    assert isinstance(sync, dict)
    assert sync["state"] in ("synchronized", "unsynchronized", "unknown")
    if sync["state"] != "synchronized":
        assert sync["reason"]


def test_scope_lists_excluded_with_reason_and_not_assessed(audited: tuple[Path, Path]) -> None:
    scope = envelope(audited[0])["scope"]
    assert isinstance(scope, dict)
    assert scope["excluded"] == [{"host": "lg-term-w01", "reason": "Windows端末は資産管理ツールで別途点検する",
                                  "citation": "架空区情報セキュリティ対策基準 第3条第2項"}]  # fmt: skip
    assert "lg-term-w01" not in scope["hosts_in_scope"]
    assert [(n["host"], n["status"]) for n in scope["not_assessed"]] == [("fs-01", "error")]
    targets = {t["name"]: t for t in scope["targets"]}
    assert targets["zei-ap-01"]["owner"] == "税務課"
    assert targets["zei-ap-01"]["classification"] == "機密性3"
    env = envelope(audited[0])
    assert env["coverage"] == {"in_scope": len(scope["hosts_in_scope"]), "assessed": len(scope["hosts_in_scope"]) - 1,
                               "ratio": round((len(scope["hosts_in_scope"]) - 1) / len(scope["hosts_in_scope"]), 4)}  # fmt: skip


def test_hashes_of_inventory_pack_and_profile(audited: tuple[Path, Path]) -> None:
    hashes = envelope(audited[0])["hashes"]
    assert isinstance(hashes, dict)
    inventory = (audited[1] / "inventory.yaml").read_bytes()
    assert hashes["inventory"] == hashlib.sha256(inventory).hexdigest()
    assert {"pack", "profile", "checks", "policies"} <= set(hashes)
    assert all(len(v) == 64 for v in hashes.values())


def test_results_json_carries_the_same_envelope(audited: tuple[Path, Path]) -> None:
    run = compact.load(audited[0] / "results.json")
    env = envelope(audited[0])
    assert run.envelope["scope"] == env["scope"] and run.envelope["hashes"] == env["hashes"]
    assert run.envelope["signature"] == {
        "signed": False,
        "reason": "no signing key given (--sign-key / KIJUN_SIGN_KEY)",
    }


def test_waivers_in_force_lapsed_and_unused_are_listed(audited: tuple[Path, Path]) -> None:
    waivers = envelope(audited[0])["waivers"]
    assert isinstance(waivers, dict)
    assert [w["id"] for w in waivers["in_force"]] == ["EXC-2026-0007"]
    assert [w["id"] for w in waivers["lapsed"]] == ["EXC-2026-0003"]
    assert waivers["unused"] == [] and waivers["not_applied"] == []


def test_the_html_report_shows_the_envelope_and_waivers(audited: tuple[Path, Path]) -> None:
    html = (audited[0] / "report.html").read_text("utf-8")
    for text in (
        "架空 三郎",
        "統括情報セキュリティ責任者",
        "Windows端末は資産管理ツールで別途点検する",
        "架空区情報セキュリティ対策基準 第3条第2項",
        "時刻同期",
        "EXC-2026-0003",
        "期限切れ lapsed",
        "有効 in force",
        "未使用 unused",
        envelope(audited[0])["hashes"]["inventory"],
    ):  # type: ignore[index]
        assert text in html, text


def test_every_workbook_opens_with_the_run_and_the_role(audited: tuple[Path, Path]) -> None:
    books = sorted((audited[0] / "workbooks").rglob("*.xlsx"))
    assert len(books) >= 3
    for path in books:
        sheet = load_workbook(path).worksheets[0]
        heading = [str(sheet.cell(row=r, column=1).value) for r in range(1, 9)]
        assert any(audited[0].name in line for line in heading), path
        assert any("架空 三郎 / 統括情報セキュリティ責任者" in line for line in heading), path


def test_a_role_the_profile_does_not_name_is_refused(tmp_path: Path) -> None:
    result = kijun("scan", copy_ward(tmp_path), "--out", tmp_path / "reports", "--as-of", AS_OF,
                   "--operator-role", "情報政策課長")  # fmt: skip
    assert result.exit_code == 2
    assert "is not a role of this profile" in result.output
    assert not (tmp_path / "reports").exists()
