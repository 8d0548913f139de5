"""The HTML dashboard as a file: summary first, one strict CSP, data embedded once and safely.

What the page does in a browser (search, filters, drill-down, hostile text) is tested in real
headless Chromium in test_report_browser.py.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from scanner.report import html
from scanner.results import CheckResult, Run, Status

HOSTILE = "<script>alert(1)</script>"


class _Doc(HTMLParser):
    """Collect tags, attributes, text, and the contents of script elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._in: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in = dict(attrs)
            self.scripts.append((self._in, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            attrs, body = self.scripts[-1]
            self.scripts[-1] = (attrs, body + data)
        else:
            self.text.append(data)


def _parse(page: str) -> _Doc:
    doc = _Doc()
    doc.feed(page)
    doc.close()
    return doc


def _data(page: str) -> dict[str, Any]:
    (body,) = [b for a, b in _parse(page).scripts if a.get("type") == "application/json"]
    return dict(json.loads(body))


@pytest.fixture
def page(run: Run) -> str:
    return html.render(run)


def test_two_scripts_ours_and_data(page: str) -> None:
    scripts = _parse(page).scripts
    assert [a for a, _ in scripts] == [{"type": "application/json", "id": "kijun-data"}, {}]
    assert page.lower().count("<script") == 2  # the hostile strings are all escaped


def test_csp_allows_only_this_page_by_hash(page: str) -> None:
    doc = _parse(page)
    (csp,) = [
        a["content"] for t, a in doc.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert csp is not None
    code = doc.scripts[1][1]
    style = page[page.index("<style>") + 7 : page.index("</style>")]
    digest = lambda text: base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()  # noqa: E731
    assert f"script-src 'sha256-{digest(code)}'" in csp
    assert f"style-src 'sha256-{digest(style)}'" in csp
    assert csp.startswith("default-src 'none';")
    assert "http" not in csp and "unsafe" not in csp


def test_nothing_from_the_network(page: str) -> None:
    doc = _parse(page)
    assert not [t for t, _ in doc.tags if t in ("link", "img", "iframe", "object", "embed", "base")]
    for _, attrs in doc.tags:
        assert "src" not in attrs
        href = attrs.get("href")
        assert href is None or href.startswith("#")
    style = page[page.index("<style>") : page.index("</style>")]
    assert "url(" not in style and "@import" not in style


def test_data_block_cannot_close_itself(run: Run) -> None:
    nasty = "</script><script>alert(2)</script>\u2028\u2029<!--&"
    f = dataclasses.replace(run.findings[1], message=nasty)
    page = html.render(dataclasses.replace(run, findings=(f,)))
    (body,) = [b for a, b in _parse(page).scripts if a.get("type") == "application/json"]
    assert "<" not in body and ">" not in body and "&" not in body
    assert "\u2028" not in body and "\u2029" not in body
    assert _data(page)["details"][0][0] == nasty  # the text survives, as data


def test_summary_comes_first(page: str) -> None:
    order = [
        page.index(m)
        for m in (
            'id="verdict"',
            'id="by-severity"',
            'id="trend"',
            'id="heat"',
            'id="host-table"',
            'id="evidence"',
        )
    ]
    assert order == sorted(order)
    text = re.sub(r"\s+", " ", " ".join(_parse(page).text))
    assert "終了コード 1" in text and "3 / 5" in text


def test_failures_by_severity_with_age(run: Run) -> None:
    run = dataclasses.replace(
        run, envelope={**run.envelope, "open_since": {"mn-term-01/DLP-01": "2025-05-01"}}
    )
    text = re.sub(r"\s+", " ", " ".join(_parse(html.render(run)).text))
    assert "緊急 critical 1 1 2025-05-01 32" in text  # 2025-05-01 → 2025-06-02
    assert "高 high 2 2 2025-06-02 0" in text


def test_heat_map_cells(page: str) -> None:
    heat = page[page.index('id="heat"') : page.index("</table>", page.index('id="heat"'))]
    text = re.sub(r"<[^>]+>", " ", heat)
    assert "ログ" in text and "マイナンバー利用事務系" in text
    # logging × mynumber: LOG-02 fail + LOG-01 error = 1 failure of 2 assessed
    assert 'title="1 / 2 (50.0%)"' in heat


def test_trend_from_earlier_runs(run: Run) -> None:
    earlier = [
        {
            "run_id": f"r{i}",
            "started_at": f"2025-05-0{i}T09:00:00+09:00",
            "counts": {"fail": i},
            "coverage": {"ratio": 1.0},
        }
        for i in range(1, 4)
    ]
    page = html.render(run, trend=earlier)
    svg = page[page.index('id="trend"') : page.index("</svg>", page.index('id="trend"'))]
    assert svg.count("<circle") == 4
    (fails,) = re.findall(r'points="([^"]+)" class="l-fail"', svg)
    assert len(fails.split()) == 4
    assert "2025-05-01 r1" in svg


def test_payload_is_compact_and_complete(run: Run, page: str) -> None:
    data = _data(page)
    assert len(data["f"]) == 4 * len(run.findings)
    assert len(data["controls"]) == len({f.control_id for f in run.findings})
    assert [h[0] for h in data["hosts"]] == [h.name for h in run.hosts]
    fail = data["st"].index("fail")
    assert sum(h[8][fail] for h in data["hosts"]) == sum(1 for f in run.findings if f.status is Status.FAIL)
    citations = [c for control in data["controls"] for c in control[7]]
    assert ["文京区情報セキュリティに関する規則", "第25条", "アクセス記録を取得し、保存する"] in citations


def test_expected_is_a_sentence(run: Run) -> None:
    check = CheckResult(
        "sshd-root-login-disabled", Status.FAIL, observed="yes", expected="sshd.permitrootlogin == 'no'"
    )
    f = dataclasses.replace(run.findings[5], checks=(check,))
    data = _data(html.render(dataclasses.replace(run, findings=(f,))))
    (shown,) = data["details"][0][2]
    assert shown[3:5] == ["sshd.permitrootlogin が no である", "sshd.permitrootlogin is no"]
    assert shown[2] == '"yes"'


def test_findings_are_read_once(run: Run, page: str) -> None:
    once = dataclasses.replace(run, findings=iter(run.findings))  # type: ignore[arg-type]
    assert html.render(once) == page


def test_print_stylesheet_for_a4(page: str) -> None:
    style = page[page.index("<style>") : page.index("</style>")]
    assert "@media print" in style and "size: A4" in style


def test_changes_against_previous(run: Run) -> None:
    before = dataclasses.replace(run, run_id="20250501T090000-0000", findings=run.findings[:2])
    text = " ".join(_parse(html.render(run, previous=before)).text)
    assert "20250501T090000-0000" in text and "新規" in text


def test_diff_from_the_same_single_pass(run: Run) -> None:
    before = dataclasses.replace(run, run_id="20250501T090000-0000", findings=run.findings[:2])
    once = dataclasses.replace(run, findings=iter(run.findings))  # type: ignore[arg-type]
    assert html.render(once, previous=before) == html.render(run, previous=before)
