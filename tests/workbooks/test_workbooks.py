"""Workbooks and CSV: 自己点検票 per 課, リスク登録簿, management review; LibreOffice opens them intact."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from evidence.ward import copy_ward, scan
from openpyxl import load_workbook

from scanner import history
from scanner.report import csv as tables
from scanner.report import xlsx
from scanner.results import CheckResult, Run, Status


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("books")
    return scan(
        copy_ward(tmp), tmp / "reports", "--operator", "架空 四郎", "--operator-role", "情報システム管理者"
    )


@pytest.fixture(scope="module")
def run(run_dir: Path) -> Run:
    return history.load_run(run_dir)[0]


def rows(path: Path, sheet: int = 0) -> tuple[list[str], list[dict[str, object]]]:
    """Return the header and the data rows of a sheet (the header is the row that starts with ホスト or リスクID)."""
    ws = load_workbook(path).worksheets[sheet]
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    head = next(
        i for i, r in enumerate(values) if r[0] in ("ホスト host", "リスクID risk id", "区分 dimension")
    )
    header = [str(h) for h in values[head]]
    return header, [dict(zip(header, r, strict=True)) for r in values[head + 1 :]]


def test_one_self_inspection_workbook_per_owner(run_dir: Path, run: Run) -> None:
    owners = {f.owner or "全庁" for f in run.findings if f.status is not Status.NOT_APPLICABLE}
    books = {p.stem for p in (run_dir / "workbooks" / "self-inspection").glob("*.xlsx")}
    assert books == owners
    for owner in owners:
        header, data = rows(run_dir / "workbooks" / "self-inspection" / f"{owner}.xlsx")
        expected = [
            f for f in run.findings if (f.owner or "全庁") == owner and f.status is not Status.NOT_APPLICABLE
        ]
        assert len(data) == len(expected), owner
        assert {"課長確認 sign-off (課長)", "確認日 date", "是正責任者 owner role", "証跡 evidence"} <= set(
            header
        )
        assert all(r["課長確認 sign-off (課長)"] is None and r["確認日 date"] is None for r in data)


def test_the_self_inspection_row_of_a_failure(run_dir: Path) -> None:
    _, data = rows(run_dir / "workbooks" / "self-inspection" / "税務課.xlsx")
    row = next(r for r in data if r["ホスト host"] == "zei-ap-01" and r["管理策 control"] == "ACC-07")
    assert row["状態 status"] == "不適合 (fail)"
    assert "180" in str(row["観測値 observed"])
    assert str(row["証跡 evidence"]).startswith(f"{run_dir.name}/evidence/zei-ap-01.json: ")
    assert (run_dir / "evidence" / "zei-ap-01.json").is_file()
    assert "PASS_MAX_DAYS" in str(row["是正方法 remediation"])
    assert row["是正責任者 owner role"] == "情報システム管理者"
    assert row["例外措置 waiver"] == "EXC-2026-0003"


def test_every_failure_is_a_risk_candidate(run_dir: Path, run: Run) -> None:
    _, data = rows(run_dir / "workbooks" / "risk-register.xlsx")
    failing = sorted(f.key for f in run.findings if f.status is Status.FAIL)
    assert (
        sorted(str(r["リスクID risk id"]) for r in data if r["対応方針 treatment"] == "低減 reduce")
        == failing
    )
    waived = next(r for r in data if r["リスクID risk id"] == "kikan-db-01/MAL-03")
    assert waived["対応方針 treatment"] == "受容 accept (例外措置 EXC-2026-0007)"
    root = next(r for r in data if r["リスクID risk id"] == "koseki-ap-01/ACC-04")
    assert (root["ゾーン zone"], root["格付 classification"], root["所管課 owner"]) == (
        "マイナンバー利用事務系",
        "機密性3",
        "戸籍住民課",
    )
    assert (root["発生可能性 likelihood"], root["影響度 impact"], root["リスク値 score"]) == (
        "2 中",
        "3 高",
        6,
    )
    opened = date.fromisoformat(str(root["発見日 open since"]))
    assert root["対応期限 due"] == (opened + timedelta(days=30)).isoformat()  # high: 30 days


def test_risk_scales_are_configurable(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "scales.yaml"
    path.write_text("likelihood_levels: {1: まれ, 2: 時々, 3: 頻繁, 4: 常時}\nlikelihood_by_zone: {mynumber: 4}\n"
                    "due_days: {high: 14}\n", "utf-8")  # fmt: skip
    scales = tables.load_scales(path)
    row = next(r for r in tables.risk_register(run, scales).rows if r[0] == "koseki-ap-01/ACC-04")
    assert row[8] == "4 常時" and row[10] == 12
    assert row[15] == (date.fromisoformat(row[14]) + timedelta(days=14)).isoformat()
    path.write_text("likelyhood: {}\n", "utf-8")
    with pytest.raises(ValueError, match="keys among"):
        tables.load_scales(path)


def test_management_review_rolls_up_by_owner_zone_and_area(run_dir: Path, run: Run) -> None:
    _, data = rows(run_dir / "workbooks" / "management-review.xlsx")
    dims = {str(r["区分 dimension"]) for r in data}
    assert dims == {"部/課 department", "ゾーン zone", "領域 area", "全体 total"}
    total = next(r for r in data if r["区分 dimension"] == "全体 total")
    counts = run.counts()
    assert (
        total["対象ホスト hosts"] == run.coverage()["in_scope"]
        and total["網羅率 coverage"] == run.coverage()["ratio"]
    )
    assert (
        total["不適合 fail"] == counts["fail"]
        and total["例外措置(有効) open waivers"] == counts["waived"] == 1
    )
    assert total["適合率 pass rate"] == round(
        counts["pass"] / (counts["pass"] + counts["fail"] + counts["waived"]), 4
    )
    zei = next(r for r in data if r["区分 dimension"] == "部/課 department" and r["対象 group"] == "税務課")
    assert zei["例外措置(期限切れ) lapsed"] == 1
    assert total["期限超過 overdue"] == 0  # every failure was found today


def test_findings_open_past_their_due_date_are_counted(run: Run) -> None:
    high = next(f for f in run.findings if f.status is Status.FAIL and f.severity.value == "high")
    medium = next(f for f in run.findings if f.status is Status.FAIL and f.severity.value == "medium")
    long_ago = (
        tables.run_date(run) - timedelta(days=31)
    ).isoformat()  # past 30 days (high), within 90 (medium)
    aged = replace(run, envelope={**run.envelope, "open_since": {high.key: long_ago, medium.key: long_ago}})
    assert tables.review(aged).rows[-1][-1] == 1
    register = {r[0]: r for r in tables.risk_register(aged).rows}
    assert (register[high.key][16], register[medium.key][16]) == ("超過 overdue", "")


def test_csv_is_utf8_with_bom_and_never_a_formula(run: Run) -> None:
    finding = next(f for f in run.findings if f.status is Status.FAIL)
    hostile = CheckResult("sshd-root-login-disabled", Status.FAIL, observed='=HYPERLINK("http://x")')
    evil = replace(run, findings=(replace(finding, checks=(hostile,), title_ja="=1+1"),))
    data = tables.render(evil)["csv/risk-register.csv"]
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert parsed[0][0] == "リスクID risk id"
    assert not any(cell.startswith("=") for row in parsed for cell in row)
    sheet = load_workbook(io.BytesIO(xlsx.render(evil)["workbooks/risk-register.xlsx"])).worksheets[0]
    cells = [
        c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value
    ]
    assert cells and all(c.data_type == "s" for c in cells)


def test_control_characters_from_hosts_do_not_break_a_workbook(run: Run) -> None:
    finding = next(f for f in run.findings if f.status is Status.FAIL)
    evil = replace(run, findings=(replace(finding, remediation_ja="再起動\x1b[2J\x00してください"),))
    for data in xlsx.render(evil).values():
        load_workbook(io.BytesIO(data))


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice is not installed (apt-get install libreoffice-calc-nogui)"
)
def test_libreoffice_opens_every_workbook_with_japanese_intact(run_dir: Path, tmp_path: Path) -> None:
    assert SOFFICE is not None
    books = sorted((run_dir / "workbooks").rglob("*.xlsx"))
    profile = f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}"
    done = subprocess.run([SOFFICE, profile, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"),
                           *map(str, books)], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    for book in books:
        pdf = tmp_path / "pdf" / f"{book.stem}.pdf"
        assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF"), book
    sheet = run_dir / "workbooks" / "self-inspection" / "税務課.xlsx"
    done = subprocess.run([SOFFICE, profile, "--headless", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76",
                           "--outdir", str(tmp_path / "csv"), str(sheet)], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "csv" / "税務課.csv").read_text("utf-8")
    for phrase in (
        "自己点検票 税務課",
        "課長確認 sign-off (課長)",
        "マイナンバー利用事務系",
        "不適合 (fail)",
        "架空 四郎",
    ):
        assert phrase in text, phrase
    if shutil.which("pdftotext"):
        pdf_text = subprocess.run(["pdftotext", str(tmp_path / "pdf" / "税務課.pdf"), "-"], capture_output=True,
                                  text=True, check=True).stdout  # fmt: skip
        assert "自己点検票 税務課" in pdf_text
        assert "情報システム管理者" in pdf_text


def test_kijun_report_re_renders_a_run(run_dir: Path, tmp_path: Path) -> None:
    from evidence.ward import kijun

    result = kijun("report", run_dir, "--format", "csv", "--format", "xlsx", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "csv" / "risk-register.csv").read_bytes() == (
        run_dir / "csv" / "risk-register.csv"
    ).read_bytes()
    assert json.loads((run_dir / "envelope.json").read_bytes())["run_id"] == run_dir.name
    refused = kijun("report", run_dir, "--out", run_dir)
    assert refused.exit_code == 2 and "is a run folder" in refused.output
