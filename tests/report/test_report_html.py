"""The HTML report: self-contained, bilingual, everything escaped, every finding and host shown."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from scanner.report import html
from scanner.results import Run, Status


class _Doc(HTMLParser):
    """Collect tags, attributes and text of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Doc:
    doc = _Doc()
    doc.feed(page)
    doc.close()
    return doc


@pytest.fixture
def page(run: Run) -> str:
    return html.render(run)


def test_no_script_and_hostile_text_is_escaped(page: str) -> None:
    assert "<script" not in page.lower()
    # the owner, the citation and the observed value all carried the payload
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4
    assert not any(tag == "script" for tag, _ in _parse(page).tags)


def test_single_self_contained_file(page: str) -> None:
    doc = _parse(page)
    assert not [t for t, _ in doc.tags if t in ("link", "script", "img", "iframe", "object", "embed")]
    for _, attrs in doc.tags:
        assert "src" not in attrs
        href = attrs.get("href")
        assert href is None or href.startswith("#")
    style = page[page.index("<style>") : page.index("</style>")]
    assert "url(" not in style and "@import" not in style


def test_japanese_first_headings(page: str) -> None:
    assert '<html lang="ja">' in page
    text = " ".join(_parse(page).text)
    for heading in (
        "情報セキュリティ対策基準 点検結果報告書",
        "対象範囲",
        "領域別",
        "ゾーン別",
        "ホスト一覧",
        "手動確認が必要な管理策",
        "ホスト別の結果",
    ):
        assert heading in text


def test_header_carries_the_run_identity_and_coverage(page: str) -> None:
    text = re.sub(r"\s+", " ", " ".join(_parse(page).text))
    for expected in ("文京区", "Bunkyo City", "20250602T090000-7f3a", "定期点検", "bunkyo", "3 / 5"):
        assert expected in text
    assert "終了コード 1" in text
    assert "connect timeout after 10s" in text and "sudo: a password is required" in text


def test_every_finding_is_shown_once_with_its_status(run: Run, page: str) -> None:
    cards = [a for t, a in _parse(page).tags if t == "details" and "finding" in (a.get("class") or "")]
    assert len(cards) == len(run.findings)
    shown = sorted((a.get("class") or "").split("st-row-")[1] for a in cards)
    assert shown == sorted(f.status.value for f in run.findings)
    # what needs reading starts open; pass, n/a and unreachable (said once per host) start collapsed
    opened = {Status.FAIL, Status.ERROR, Status.WAIVED, Status.MANUAL}
    assert sum(1 for a in cards if "open" in a) == sum(1 for f in run.findings if f.status in opened) == 7


def test_details_of_findings(page: str) -> None:
    text = " ".join(_parse(page).text)
    for expected in (
        '"loaded"',  # observed
        '"blocked"',  # expected
        "file:/etc/logrotate.d/rsyslog",  # evidence item id
        "文京区情報セキュリティに関する規則 第25条 — アクセス記録を取得し、保存する",  # citation
        "sshd_configで PermitRootLogin no を設定する。",  # remediation ja
        "Set PermitRootLogin no in sshd_config.",  # remediation en
        "EXC-2025-004",
        "2026-03-31",
        "山田 太郎",
        "入退室記録(直近3か月)の写しと管理者の確認印",  # attestation
    ):
        assert expected in text


def test_summary_counts_by_area(page: str) -> None:
    doc_text = re.sub(r"\s+", " ", " ".join(_parse(page).text))
    # ログ: fail 1, error 1, unreachable 0, waived 0, manual 0, n/a 0, pass 0, total 2
    assert "ログ Logging 1 1 0 0 0 0 0 2" in doc_text
    assert "合計 Total 4 1 2 1 1 1 3 13" in doc_text


def test_group_by_control(run: Run) -> None:
    page = html.render(run, group_by="control")
    text = " ".join(_parse(page).text)
    assert "管理策別の結果" in text
    groups = [
        a for t, a in _parse(page).tags if t == "section" and (a.get("id") or "").startswith("control-")
    ]
    assert len(groups) == len({f.control_id for f in run.findings})
