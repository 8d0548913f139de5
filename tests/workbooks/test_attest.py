"""自己点検票 as input: data validation, A4 pages, protection; answers read back by `kijun attest`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from evidence.ward import copy_ward, kijun, scan
from openpyxl import load_workbook

from scanner import compact, keys
from scanner.report.csv import ANSWER, KEY

BOOK = "workbooks/self-inspection/全庁.xlsx"
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
SCHEMA = Path(__file__).resolve().parents[2] / "scanner" / "schemas" / "results.schema.json"


@pytest.fixture(scope="module")
def ward(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_ward(tmp_path_factory.mktemp("attest"))


@pytest.fixture(scope="module")
def run_dir(ward: Path) -> Path:
    return scan(ward, ward.parent / "reports")


def columns(ws: object) -> tuple[int, dict[str, int]]:
    rows = list(ws.iter_rows(values_only=True))  # type: ignore[attr-defined]
    head = next(i for i, r in enumerate(rows) if r[0] == "ホスト host")
    return head + 1, {str(n): i for i, n in enumerate(rows[head])}


def fill(src: Path, dst: Path, answers: dict[str, dict[str, str]]) -> None:
    """Answer the rows whose key is given, as a 課 would in Excel."""
    wb = load_workbook(src)
    ws = wb.worksheets[0]
    head, col = columns(ws)
    for row in ws.iter_rows(min_row=head + 1):
        values = answers.get(str(row[col[KEY]].value))
        for name, value in (values or {}).items():
            row[col[name]].value = value
    wb.save(dst)


def answer(text: str, on: str = "2026-11-01", until: str = "2027-03-31") -> dict[str, str]:
    return {
        ANSWER: text,
        "回答者 attested by": "架空 花子",
        "役職 role": "統括情報セキュリティ責任者",
        "回答日 attested on": on,
        "有効期限 valid until": until,
    }


def findings(run_dir: Path) -> list[dict[str, Any]]:
    """Return a run's findings in their canonical JSON form (results.json + findings.jsonl)."""
    return [f.to_json() for f in compact.load(run_dir / "results.json").findings]


def manual_keys(run_dir: Path) -> list[str]:
    return sorted(f["host"] + "/" + f["control"] for f in findings(run_dir) if f["status"] == "manual"
                  and f["host"] == "(organization)")  # fmt: skip


def test_the_self_inspection_workbook_takes_answers_only_where_a_person_decides(run_dir: Path) -> None:
    wb = load_workbook(run_dir / BOOK)
    ws = wb.worksheets[0]
    head, col = columns(ws)
    assert int(ws.page_setup.paperSize) == 9  # A4 in OOXML's paper size codes
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    assert ws.oddHeader.left.text  # the ward's name
    assert ws.protection.sheet, "computed columns are protected"
    assert ws.column_dimensions[chr(ord("A") + col[KEY])].hidden
    rules = {str(r.sqref).split(":")[0].rstrip("0123456789"): r for r in ws.data_validations.dataValidation}
    letter = chr(ord("A") + col[ANSWER])
    assert rules[letter].type == "list" and "選択肢" in rules[letter].formula1
    assert rules[chr(ord("A") + col["回答日 attested on"])].type == "date"
    assert "選択肢" in wb.sheetnames and wb["選択肢"].sheet_state == "hidden"
    assert wb.sheetnames[-1] == "選択肢"  # the sheets people read keep their places
    seen = {"manual": 0, "other": 0}
    for book in (run_dir / "workbooks" / "self-inspection").glob("*.xlsx"):
        ws = load_workbook(book).worksheets[0]
        head, col = columns(ws)
        for row in ws.iter_rows(min_row=head + 1):
            manual = "(manual)" in str(row[col["状態 status"]].value)
            assert row[col[ANSWER]].protection.locked is not manual
            assert row[col["対応状況 action taken"]].protection.locked is False
            assert row[col["観測値 observed"]].protection.locked is True
            seen["manual" if manual else "other"] += 1
    assert seen["manual"] and seen["other"]


@pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice is not installed (apt-get install libreoffice-calc-nogui)"
)
def test_answers_read_back_through_libreoffice_turn_manual_into_attested(run_dir: Path, ward: Path) -> None:
    assert SOFFICE is not None
    first, second = manual_keys(run_dir)[:2]
    tmp = ward.parent / "lo"
    fill(run_dir / BOOK, tmp / "filled.xlsx" if tmp.mkdir() is None else tmp, {
        first: answer("適合 pass"), second: answer("不適合 fail")})  # fmt: skip
    # A 課 saves the answered book in LibreOffice (as Excel would): the answers must survive that.
    done = subprocess.run([SOFFICE, f"-env:UserInstallation=file://{tmp / 'profile'}", "--headless",
                           "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(tmp / "saved"),
                           str(tmp / "filled.xlsx")], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    saved = tmp / "saved" / "filled.xlsx"
    kept = load_workbook(saved).worksheets[0]
    assert kept.data_validations.dataValidation, "LibreOffice kept the choice lists"
    key = keys.generate(tmp / "attest.key")[0]
    result = kijun(
        "attest", saved, "--out", ward / "attestations", "--sign-key", key, "--as-of", "2026-11-20"
    )
    assert result.exit_code == 0, result.output
    assert "2 件の回答" in result.output and "signed" in result.output
    after = scan(ward, ward.parent / "reports", "--attestation-key", f"{key}.pub")
    defs = json.loads(SCHEMA.read_text("utf-8"))["$defs"]
    by_key = {f["host"] + "/" + f["control"]: f for f in findings(after)}
    for finding in by_key.values():
        jsonschema.validate(finding, {"$ref": "#/$defs/finding", "$defs": defs})
    assert by_key[first]["status"] == "pass" and by_key[second]["status"] == "fail"
    for k in (first, second):
        assert by_key[k]["attested"]["attested_by"] == "架空 花子"
        assert by_key[k]["attested"]["signer"] == keys.fingerprint(keys.load_public(Path(f"{key}.pub")))
        assert "by attestation" in by_key[k]["message"]
    # The next cycle's workbook shows the answer in force, ready to renew.
    ws = load_workbook(after / BOOK).worksheets[0]
    head, col = columns(ws)
    row = next(r for r in ws.iter_rows(min_row=head + 1, values_only=True) if r[col[KEY]] == first)
    assert row[col[ANSWER]] == "適合 pass" and "attested" in str(row[col["状態 status"]])
    # After the attestation expires, the control is manual again and says why.
    expired = kijun("scan", ward, "--out", ward.parent / "reports", "--quiet", "--as-of", "2027-04-01")
    assert expired.exit_code in (0, 1, 3), expired.output
    gone = next(
        f for f in findings(ward.parent / "reports" / "latest") if f["host"] + "/" + f["control"] == first
    )
    assert gone["status"] == "manual" and "expired on 2027-03-31" in gone["message"]
    shutil.rmtree(ward / "attestations")


def bad_book(run_dir: Path, tmp: Path, values: dict[str, str], key: str | None = None) -> Path:
    path = tmp / "bad.xlsx"
    fill(run_dir / BOOK, path, {key or manual_keys(run_dir)[0]: values})
    return path


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (answer("たぶん"), "answer must be one of"),
        (answer("適合 pass", on="2026-12-24"), "after today"),
        (answer("適合 pass", until="2026-10-01"), "is not after"),
        (answer("適合 pass", until="2028-12-31"), "more than 400 days"),
        ({**answer("適合 pass"), "回答者 attested by": ""}, "needs who"),
        ({**answer("適合 pass"), "回答日 attested on": "someday"}, "required dates"),
    ],
)
def test_a_bad_answer_is_refused_with_its_cell(
    run_dir: Path, tmp_path: Path, values: dict[str, str], message: str
) -> None:
    result = kijun(
        "attest", bad_book(run_dir, tmp_path, values), "--out", tmp_path / "a", "--as-of", "2026-11-20"
    )
    assert result.exit_code == 2
    assert message in result.output and "bad.xlsx:自己点検!" in result.output
    assert not (tmp_path / "a").exists(), "nothing is written when any row is bad"


def test_a_machine_verdict_takes_no_answer(run_dir: Path, tmp_path: Path) -> None:
    failed_finding = next(f for f in findings(run_dir) if f["status"] == "fail")
    failed, owner = failed_finding["host"] + "/" + failed_finding["control"], failed_finding["owner"]
    path = tmp_path / "fail.xlsx"
    fill(run_dir / "workbooks" / "self-inspection" / f"{owner}.xlsx", path, {failed: answer("適合 pass")})
    result = kijun("attest", path, "--out", tmp_path / "a", "--as-of", "2026-11-20")
    assert result.exit_code == 2 and "only manual controls take an answer" in result.output


def test_not_a_workbook_and_a_fifo_are_clear_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 not really")
    fifo = tmp_path / "fifo.xlsx"
    __import__("os").mkfifo(fifo)
    for path, message in ((junk, "not an .xlsx workbook"), (fifo, "not a regular file")):
        result = kijun("attest", path, "--out", tmp_path / "a")
        assert result.exit_code == 2 and message in result.output, result.output


def test_an_edited_or_foreign_attestation_stops_the_scan(run_dir: Path, ward: Path, tmp_path: Path) -> None:
    key = keys.generate(tmp_path / "k.key")[0]
    other = keys.generate(tmp_path / "other.key")[0]
    folder = tmp_path / "att"
    book = bad_book(run_dir, tmp_path, answer("適合 pass"))
    assert kijun("attest", book, "--out", folder, "--sign-key", key, "--as-of", "2026-11-20").exit_code == 0
    # signed by another key than the one required
    result = kijun("scan", ward, "--attestations", folder, "--attestation-key", f"{other}.pub", "--quiet")
    assert result.exit_code == 2 and "not by the attestation key" in result.output
    # edited after signing: fail → pass
    path = next(folder.glob("*.json"))
    path.write_text(path.read_text("utf-8").replace('"pass"', '"fail"'), "utf-8")
    result = kijun("scan", ward, "--attestations", folder, "--quiet")
    assert result.exit_code == 2 and "does not verify" in result.output
    # a role the profile does not know
    doc = json.loads(path.read_text("utf-8"))
    del doc["signature"]
    doc["attestations"][0]["role"] = "通りすがり"
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    result = kijun("scan", ward, "--attestations", folder, "--quiet")
    assert result.exit_code == 2 and "is not a role of this profile" in result.output
