"""The dashboard in a real headless Chromium (Debian's chromium + chromium-driver, through selenium).

Search finds a failing host, filters change the rows, a host's drill-down and a control's page show
the facts, the deciding line and the remediation, and strings a host wrote stay text: the page runs
only its own script (CSP by hash) and nothing a host wrote becomes an element or runs.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from scanner.report import html
from scanner.results import CheckResult, Run, Status
from tests.report.browser import start

PAYLOAD = '<img src=x onerror="window.pwned=1">'  # would run if inserted as markup


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    profile = tempfile.mkdtemp(prefix="kijun-chromium-")
    driver = start(profile, logs=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def hostile_run(run: Run) -> Run:
    """The sample run with a host-written payload in an observed value, a message and the deciding line."""
    check = CheckResult(
        "sshd-root-login-disabled",
        Status.FAIL,
        "SSHのrootログインが禁止されている",
        "SSH root login is disabled",
        observed=PAYLOAD,
        expected="sshd.permitrootlogin == 'no'",
        message=PAYLOAD,
        evidence=("file:/etc/ssh/sshd_config",),
        origin={"file": "/etc/ssh/sshd_config.d/50-vendor.conf", "line": 2},
    )
    findings = list(run.findings)
    findings[5] = dataclasses.replace(findings[5], message=PAYLOAD, checks=(check,))  # mn-term-01 ACC-04
    return dataclasses.replace(run, findings=tuple(findings))


def _open(browser: WebDriver, run: Run, tmp_path: Path, fragment: str = "") -> None:
    page = tmp_path / "report.html"
    page.write_text(html.render(run), encoding="utf-8")
    browser.get(page.as_uri() + fragment)
    WebDriverWait(browser, 30).until(
        lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("data-ready") == "1"
    )


def _rows(browser: WebDriver) -> list[str]:
    return [
        r.get_attribute("data-host") or "" for r in browser.find_elements(By.CSS_SELECTOR, "#host-rows tr")
    ]


def test_table_lists_every_host_worst_first(browser: WebDriver, run: Run, tmp_path: Path) -> None:
    _open(browser, run, tmp_path)
    rows = _rows(browser)
    assert sorted(rows) == sorted(h.name for h in run.hosts)
    assert rows[0] == "mn-term-01"  # two failures: sorted by failures, most first
    assert "5 / 5" in browser.find_element(By.ID, "host-count").text


def test_search_finds_a_failing_host(browser: WebDriver, run: Run, tmp_path: Path) -> None:
    _open(browser, run, tmp_path)
    browser.find_element(By.ID, "q").send_keys("lg-srv")
    assert _rows(browser) == ["lg-srv-01"]
    (row,) = browser.find_elements(By.CSS_SELECTOR, "#host-rows tr")
    assert row.find_elements(By.TAG_NAME, "td")[5].text == "1"  # its failure


def test_filters_change_the_rows(browser: WebDriver, run: Run, tmp_path: Path) -> None:
    _open(browser, run, tmp_path)
    Select(browser.find_element(By.ID, "f-zone")).select_by_value("mynumber")
    assert sorted(_rows(browser)) == ["mn-srv-01", "mn-term-01"]
    Select(browser.find_element(By.ID, "f-zone")).select_by_value("")
    Select(browser.find_element(By.ID, "f-status")).select_by_value("error")
    assert sorted(_rows(browser)) == ["in-proxy-01", "lg-term-09", "mn-srv-01"]
    Select(browser.find_element(By.ID, "f-status")).select_by_value("")
    Select(browser.find_element(By.ID, "f-control")).select_by_visible_text(
        "DLP-01 USB記憶装置が使用できない"
    )
    assert _rows(browser) == ["mn-term-01"]
    Select(browser.find_element(By.ID, "f-control")).select_by_value("")
    Select(browser.find_element(By.ID, "f-owner")).select_by_value("税務課")
    assert _rows(browser) == ["lg-term-09"]


def test_sort_by_host_name(browser: WebDriver, run: Run, tmp_path: Path) -> None:
    _open(browser, run, tmp_path)
    browser.find_element(By.CSS_SELECTOR, '#host-table th[data-k="0"]').click()
    assert _rows(browser) == sorted(h.name for h in run.hosts)
    browser.find_element(By.CSS_SELECTOR, '#host-table th[data-k="0"]').click()
    assert _rows(browser) == sorted((h.name for h in run.hosts), reverse=True)


def test_host_drill_down(browser: WebDriver, hostile_run: Run, tmp_path: Path) -> None:
    _open(browser, hostile_run, tmp_path, "#host/mn-term-01")
    view = browser.find_element(By.ID, "view")
    assert view.is_displayed()
    text = view.text
    assert "USB記憶装置が使用できない" in text and '"loaded"' in text  # the fact behind the failure
    assert "/etc/ssh/sshd_config.d/50-vendor.conf:2" in text  # the line that decided
    assert "sshd.permitrootlogin is no" in text  # expected, as a sentence
    assert "Set PermitRootLogin no in sshd_config." in text  # remediation
    assert "管理者権限の制限" in text  # the cited article's own words


def test_control_page_across_hosts(browser: WebDriver, run: Run, tmp_path: Path) -> None:
    _open(browser, run, tmp_path, "#control/ACC-04")
    text = browser.find_element(By.ID, "view").text
    for host in ("mn-term-01", "in-proxy-01"):
        assert host in text
    assert "fail: 1" in text and "pass: 2" in text


def test_hostile_strings_stay_text(browser: WebDriver, hostile_run: Run, tmp_path: Path) -> None:
    _open(browser, hostile_run, tmp_path, "#host/mn-term-01")
    view = browser.find_element(By.ID, "view")
    assert PAYLOAD in view.text  # shown, literally
    assert browser.find_elements(By.CSS_SELECTOR, "img") == []
    assert browser.execute_script("return window.pwned === undefined")
    owners = browser.find_elements(By.CSS_SELECTOR, "#f-owner option")
    assert "情報政策課<script>alert(1)</script>" in [o.text for o in owners]
    assert len(browser.find_elements(By.TAG_NAME, "script")) == 2


def test_no_csp_violation_or_script_error(browser: WebDriver, hostile_run: Run, tmp_path: Path) -> None:
    browser.get_log("browser")  # drop what earlier pages logged
    _open(browser, hostile_run, tmp_path, "#host/mn-term-01")
    severe = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []


def test_print_shows_the_summary_without_the_controls(browser: WebDriver, run: Run, tmp_path: Path) -> None:
    """As an auditor prints it: the verdict and tables stay, the search form and pager go."""
    _open(browser, run, tmp_path)
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert browser.find_element(By.ID, "verdict").is_displayed()
        assert browser.find_element(By.ID, "heat").is_displayed()
        assert not browser.find_element(By.ID, "filters").is_displayed()
        assert not browser.find_element(By.ID, "next").is_displayed()
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    pdf = base64.b64decode(browser.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True})["data"])
    boxes = {
        (round(float(w)), round(float(h)))
        for w, h in re.findall(rb"/MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]", pdf)
    }
    assert boxes == {(595, 842)}  # A4 (210 x 297 mm) from the print stylesheet's @page, not Letter
