"""The terminal summary: coverage, per area × zone counts, failures by severity, exit code."""

from __future__ import annotations

import dataclasses
import re

from scanner.report import console
from scanner.results import Run, Status

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _section(out: str, start: str) -> list[str]:
    """Return the lines of the block that starts with a line beginning with ``start``."""
    lines = out.splitlines()
    begin = next(i for i, line in enumerate(lines) if line.startswith(start))
    end = next((i for i in range(begin + 1, len(lines)) if not lines[i].strip()), len(lines))
    return lines[begin:end]


def test_coverage_and_hosts_not_assessed(run: Run) -> None:
    out = console.render(run)
    block = _section(out, "対象範囲 coverage")
    assert block[0] == "対象範囲 coverage: 3/5 ホスト評価済 hosts assessed (60.0%)"
    assert any("in-proxy-01" in line and "connect timeout after 10s" in line for line in block)
    assert any("lg-term-09" in line and "sudo: a password is required" in line for line in block)
    assert not any("mn-srv-01" in line for line in block)


def test_failures_listed_worst_severity_first(run: Run) -> None:
    block = _section(console.render(run), "不適合 failures")
    heads = [line for line in block if line.startswith("  [")]
    assert [h.split()[3] for h in heads] == ["DLP-01", "LOG-02", "ACC-04", "NET-06"]
    assert heads[0].startswith(
        "  [緊急 CRITICAL] mn-term-01  DLP-01  USB記憶装置が使用できない / USB storage is blocked"
    )
    assert heads[3].endswith("(fail-on 未満 below fail-on)")
    assert '      sshd-root-login-disabled: 観測 observed "yes" / 期待 expected "no"' in block
    assert any("EXC-2024-001" in line and "2025-03-31" in line for line in block)
    # only failures: the waived, passing and unreachable controls are not listed here
    assert not any("BAK-02" in line or "NET-05" in line for line in block)


def test_counts_per_area_and_zone(run: Run) -> None:
    block = _section(console.render(run), "領域×ゾーン別")
    rows = {tuple(line.split()[:3]): line.split()[3:] for line in block[3:]}
    # columns: fail error unreachable waived manual n/a pass
    assert rows[("ログ", "logging", "mynumber")] == ["1", "1", "0", "0", "0", "0", "0"]
    assert rows[("アクセス制御", "access_control", "internet")] == ["0", "0", "1", "0", "0", "0", "0"]
    assert rows[("合計", "total", "4")] == ["1", "2", "1", "1", "1", "3"]


def test_table_columns_line_up_with_wide_characters(run: Run) -> None:
    block = _section(console.render(run), "領域×ゾーン別")[1:-1]
    starts = {
        console._width(line[: line.index(z)])
        for line in block
        for z in ("mynumber", "lgwan", "internet", "zone", "ゾーン")
        if z in line
    }
    assert len(starts) == 1


def test_errors_section(run: Run) -> None:
    block = _section(console.render(run), "エラー errors")
    assert (
        block[1]
        == "  mn-srv-01  LOG-01  LOG-01の要件を満たしている / LOG-01 requirement is met: auditd rules could not be parsed"
    )


def test_exit_code_meaning(run: Run) -> None:
    assert console.render(run).splitlines()[-1].startswith("終了コード exit code 1: ")
    passing = dataclasses.replace(run, findings=tuple(f for f in run.findings if f.status is not Status.FAIL))
    assert "終了コード exit code 3: 点検が不完全" in console.render(passing)
    assert "終了コード exit code 0: " in console.render(passing, allow_incomplete=True)


def test_plain_output_has_no_escape_characters(run: Run) -> None:
    out = console.render(run)
    assert "\x1b" not in out
    assert "\\u001b[2J" in out  # the hostile observed value is shown escaped, not executed


def test_color_only_adds_ansi_codes(run: Run) -> None:
    colored = console.render(run, color=True)
    assert "\x1b[31m" in colored
    assert ANSI.sub("", colored) == console.render(run)


def test_host_supplied_control_characters_are_escaped(run: Run) -> None:
    hosts = tuple(
        dataclasses.replace(h, message="boom\x1b]0;pwned\x07") if not h.assessed else h for h in run.hosts
    )
    out = console.render(dataclasses.replace(run, hosts=hosts))
    assert "\x1b" not in out and "\x07" not in out
    assert "boom\\x1b]0;pwned\\x07" in out
