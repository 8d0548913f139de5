"""SARIF 2.1.0 for GitHub code scanning: one rule per check, one result per failing or erroring check.

A result points first at the line that decided it (``checks[].origin``) with ``region.startLine``,
then at the other files it read. For ``kijun scan --root DIR`` the uris are relative to the
directory kijun ran in (``DIR/etc/ssh/sshd_config``), so code scanning finds them in the repository;
for other hosts they are relative to the host's root (``uriBaseId`` HOSTROOT). ``kind`` follows the
status (fail and waived → ``fail``, error → ``open``), and ``invocations`` says whether every host
was assessed, with a notification per host that was not: a scan of unreachable hosts never looks clean.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from scanner import __version__
from scanner.report import reading
from scanner.report.labels import expected_text, origin, utc_text, value_text
from scanner.results import CheckResult, Finding, Run, Severity, Status

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub ranks code-scanning alerts by this rule property (0.1-10).
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.1",
}
_MAX_LOCATIONS = 5


def render(run: Run) -> str:
    """Render failing, erroring and waived checks as SARIF results; read the findings once.

    >>> Path("results.sarif").write_text(render(run), encoding="utf-8")
    """
    results = Results(run)
    reading.feed(run, [results])
    return results.text()


_KEPT = (Status.FAIL, Status.ERROR, Status.WAIVED)


class Results:
    """The SARIF results of a run as the findings go by (a ``reading.Reader``), then the document."""

    def __init__(self, run: Run) -> None:
        self.run, self.prefix = run, _scanned_root(run)
        self.rules: dict[str, dict[str, Any]] = {}
        self.results: list[dict[str, Any]] = []

    def wanted(self, host: str, status: Status) -> bool:
        return status in _KEPT

    def add(self, host: str, status: Status, finding: Finding | None) -> None:
        if finding is None or finding.status not in _KEPT:
            return
        for check in finding.checks:
            if check.status not in (Status.FAIL, Status.ERROR):
                continue
            self.rules.setdefault(check.check_id, _rule(finding, check))
            self.results.append(_result(finding, check, self.prefix))

    def text(self) -> str:
        """Return the SARIF document (after the last finding)."""
        run, rules, results = self.run, self.rules, self.results
        doc = {
            "$schema": SCHEMA,
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "kijun",
                            "version": __version__,
                            "semanticVersion": __version__,
                            "rules": [rules[k] for k in sorted(rules)],
                        }
                    },
                    "automationDetails": {"id": f"kijun/{run.profile}/{run.run_id}"},
                    "originalUriBaseIds": {"HOSTROOT": {"uri": "file:///"}},
                    "invocations": [_invocation(run)],
                    "results": results,
                }
            ],
        }
        return json.dumps(doc, ensure_ascii=False, indent=1)


def _rule(finding: Finding, check: CheckResult) -> dict[str, Any]:
    """Describe a check once: titles, remediation, control, area and GitHub's security-severity."""
    return {
        "id": check.check_id,
        "name": check.check_id,
        "shortDescription": {"text": check.title_en or check.check_id},
        "fullDescription": {"text": f"{check.title_ja} / {check.title_en}".strip(" /") or check.check_id},
        "help": {
            "text": f"{finding.remediation_ja}\n{finding.remediation_en}".strip() or check.check_id,
        },
        "defaultConfiguration": {"level": _LEVEL[finding.severity]},
        "properties": {
            "control": finding.control_id,
            "area": finding.area,
            "tags": ["security", "compliance", finding.control_id, finding.area],
            "security-severity": _SECURITY_SEVERITY[finding.severity],
        },
    }


def _result(finding: Finding, check: CheckResult, prefix: str | None) -> dict[str, Any]:
    """Build one result: kind and level from the status, the deciding line first, a stable fingerprint."""
    failed = check.status is Status.FAIL
    ja, en = expected_text(check.expected)
    where = origin(check)
    text = (
        f"{finding.host}: {finding.control_id} {check.status.value}: observed {value_text(check.observed)}; "
        f"expected {en}" + (f" ({check.message})" if check.message else "")
    )
    if where:
        text += f" — set in {where[0]}" + (f":{where[1]}" if where[1] else "")
    result: dict[str, Any] = {
        "ruleId": check.check_id,
        # SARIF: a result whose kind is not "fail" has level "none".
        "kind": "fail" if failed else "open",
        "level": _LEVEL[finding.severity] if failed else "none",
        "message": {"text": text},
        "locations": _locations(finding, check, prefix),
        "partialFingerprints": {"kijunFinding/v1": _fingerprint(finding, check)},
        "properties": {
            "host": finding.host,
            "zone": finding.zone,
            "owner": finding.owner,
            "severity": finding.severity.value,
            "status": finding.status.value,
            "control": finding.control_id,
            "expected_ja": ja,
        },
    }
    if finding.status is Status.WAIVED and finding.waiver:
        w = finding.waiver
        result["suppressions"] = [
            {
                "kind": "external",
                "justification": f"例外措置 {w.id} (expires {w.expires}): {w.reason}",
            }
        ]
    return result


def _locations(finding: Finding, check: CheckResult, prefix: str | None) -> list[dict[str, Any]]:
    """Point at the deciding line first, then at the other files the check read; name the host."""
    logical = [
        {"name": finding.host, "kind": "module", "fullyQualifiedName": f"{finding.zone}/{finding.host}"}
    ]
    where = origin(check)
    read = [e.split(":", 1)[1] for e in check.evidence if e.startswith(("file:", "stat:"))]
    if prefix is not None:  # in a scanned folder, point only at files that are there
        read = [p for p in read if os.path.exists(_artifact(p, prefix)["uri"])]
    paths = ([where[0]] if where else []) + read
    seen: list[str] = []
    for path in paths:
        if path not in seen:
            seen.append(path)
    if not seen:
        return [{"logicalLocations": logical}]
    out = []
    for i, path in enumerate(seen[:_MAX_LOCATIONS]):
        physical: dict[str, Any] = {"artifactLocation": _artifact(path, prefix)}
        if i == 0 and where and where[1]:
            physical["region"] = {"startLine": where[1]}
        out.append({"physicalLocation": physical, "logicalLocations": logical})
    return out


def _artifact(path: str, prefix: str | None) -> dict[str, str]:
    """Return the artifact location of a host path: under the scanned folder, or the host's root."""
    relative = path.lstrip("/")
    if prefix is not None:
        absolute = os.path.abspath(prefix)
        if path.startswith(absolute + "/"):  # a parser that recorded the real path, not the host's
            relative = path[len(absolute) + 1 :]
        return {"uri": f"{prefix}/{relative}" if prefix not in ("", ".") else relative}
    return {"uri": relative, "uriBaseId": "HOSTROOT"}


def _scanned_root(run: Run) -> str | None:
    """Return the folder scanned with ``--root``, relative to the working directory, or None."""
    files = [h for h in run.hosts if h.transport == "files"]
    if len(run.hosts) != 1 or len(files) != 1 or not run.inventory or not Path(run.inventory).is_dir():
        return None
    root = Path(run.inventory)
    if root.is_absolute():
        try:
            root = root.relative_to(Path.cwd())
        except ValueError:
            return None
    return root.as_posix().rstrip("/")


def _fingerprint(finding: Finding, check: CheckResult) -> str:
    """Identify a finding across runs: host, control and check (not the line, which moves)."""
    key = f"{finding.host}\0{finding.control_id}\0{check.check_id}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _invocation(run: Run) -> dict[str, Any]:
    """Say whether the scan covered every host, with a notification per host not assessed."""
    notes = [
        {
            "level": "error",
            "message": {
                "text": f"{h.name}: {h.status}: {h.message or 'not assessed'} (未評価 / not assessed)"
            },
            "descriptor": {"id": f"host-{h.status}"},
            "locations": [{"logicalLocations": [{"name": h.name, "kind": "module"}]}],
            "properties": {"host": h.name, "zone": h.zone, "status": h.status},
        }
        for h in run.hosts
        if not h.assessed
    ]
    return {
        "executionSuccessful": not notes,
        "startTimeUtc": utc_text(run.started_at) + "Z",
        "endTimeUtc": utc_text(run.finished_at) + "Z",
        "toolExecutionNotifications": notes,
        "properties": {"run_id": run.run_id, "profile": run.profile},
    }
