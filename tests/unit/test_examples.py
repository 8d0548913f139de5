"""The CI and scheduling examples parse, their kijun command lines are accepted, their paths exist."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from scanner.cli import main
from scanner.history import FORMATS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RUN_FILES = {"junit.xml", "results.sarif", "results.json", "findings.jsonl", "report.html"}


def _commands(text: str) -> list[list[str]]:
    """Return every kijun command line of a file as arguments (folded YAML lines joined)."""
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    found = re.findall(r"(?:/usr/local/bin/)?kijun ((?:scan|diff)\b[^\n|]*(?:\n\s+--[^\n]*)*)", text)
    return [shlex.split(" ".join(line.split())) for line in found]


def _accept(args: list[str]) -> click.Context:
    ctx = main.make_context("kijun", list(args))
    name, command, rest = main.resolve_command(ctx, list(args))
    assert command is not None, args
    return command.make_context(str(name), rest, parent=ctx)


def _yaml(name: str) -> Any:
    return yaml.safe_load((EXAMPLES / name).read_text("utf-8"))


def test_gitlab_job_uploads_junit_and_sarif_of_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = _yaml("gitlab-ci.yml")["kijun"]
    reports = job["artifacts"]["reports"]
    assert {Path(reports["junit"]).name, Path(reports["sast"]).name} <= RUN_FILES
    assert all(p.startswith("reports/latest/") for p in (reports["junit"], reports["sast"]))
    commands = _commands((EXAMPLES / "gitlab-ci.yml").read_text("utf-8"))
    assert [c[0] for c in commands] == ["scan", "diff"]
    monkeypatch.chdir(tmp_path)
    scan = _accept(commands[0]).params
    assert scan["baseline"] == "reports/baseline" and set(scan["formats"]) == {"json", "junit", "sarif"}
    assert scan["out"] == "reports" and set(scan["formats"]) <= set(FORMATS)


def test_github_workflow_uploads_the_sarif_it_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flow = _yaml("github-actions.yml")
    steps = flow["jobs"]["scan"]["steps"]
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif"))
    assert upload["with"]["sarif_file"] == "reports/latest/results.sarif"
    assert flow["permissions"]["security-events"] == "write"
    (tmp_path / "hosts" / "web01").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    (command,) = _commands((EXAMPLES / "github-actions.yml").read_text("utf-8"))
    params = _accept(command).params
    assert params["root"] == "hosts/web01" and "sarif" in params["formats"]


def test_systemd_units_verify_and_the_scan_line_is_accepted(tmp_path: Path) -> None:
    service = (EXAMPLES / "systemd" / "kijun-scan.service").read_text("utf-8")
    (command,) = _commands(service)
    params = _accept(command).params
    assert params["mode"] == "scheduled" and params["out"] == "/var/lib/kijun/reports"
    assert "KIJUN_SIGN_KEY=" in service and "SuccessExitStatus=1 3" in service and "-mtime +400" in service
    timer = (EXAMPLES / "systemd" / "kijun-scan.timer").read_text("utf-8")
    assert "OnCalendar=*-*-* 02:00:00" in timer and "Persistent=true" in timer
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return  # the syntax and the command line were still checked above
    # verify needs an executable that exists here; the kijun path is the installer's choice.
    (tmp_path / "kijun-scan.service").write_text(
        service.replace("/usr/local/bin/kijun", "/bin/true"), "utf-8"
    )
    (tmp_path / "kijun-scan.timer").write_text(timer, "utf-8")
    out = subprocess.run(
        [
            analyze,
            "verify",
            "--man=no",
            str(tmp_path / "kijun-scan.service"),
            str(tmp_path / "kijun-scan.timer"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    problems = [line for line in (out.stdout + out.stderr).splitlines() if "kijun-scan" in line]
    assert problems == [], problems
