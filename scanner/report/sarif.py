"""SARIF 2.1.0 for code-scanning consumers: one rule per check, one result per failing check."""

from __future__ import annotations

import json
from typing import Any

from scanner import __version__
from scanner.results import Finding, Run, Severity, Status

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}


def _locations(finding: Finding, evidence: tuple[str, ...]) -> list[dict[str, Any]]:
    """Point at the files that evidence the check (relative to the host root), and name the host."""
    files = [e.split(":", 1)[1].lstrip("/") for e in evidence if e.startswith(("file:", "stat:"))]
    logical = [
        {"name": finding.host, "kind": "module", "fullyQualifiedName": f"{finding.zone}/{finding.host}"}
    ]
    if not files:
        return [{"logicalLocations": logical}]
    return [
        {
            "physicalLocation": {"artifactLocation": {"uri": path, "uriBaseId": "HOSTROOT"}},
            "logicalLocations": logical,
        }
        for path in files[:5]
    ]


def render(run: Run) -> str:
    """Render failing and erroring checks as SARIF results (waived ones carry a suppression)."""
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    for finding in run.findings:
        if finding.status not in (Status.FAIL, Status.ERROR, Status.WAIVED):
            continue
        for check in finding.checks:
            if check.status not in (Status.FAIL, Status.ERROR):
                continue
            rules.setdefault(
                check.check_id,
                {
                    "id": check.check_id,
                    "name": check.check_id,
                    "shortDescription": {"text": check.title_en or check.check_id},
                    "fullDescription": {"text": f"{check.title_ja} / {check.title_en}"},
                    "help": {"text": f"{finding.remediation_ja}\n{finding.remediation_en}".strip()},
                    "properties": {
                        "control": finding.control_id,
                        "area": finding.area,
                        "tags": [finding.control_id, finding.area],
                    },
                },
            )
            result: dict[str, Any] = {
                "ruleId": check.check_id,
                "level": _LEVEL[finding.severity] if check.status is Status.FAIL else "error",
                "kind": "fail",
                "message": {
                    "text": f"{finding.host}: {finding.control_id} {check.status.value}: "
                    f"observed {json.dumps(check.observed, ensure_ascii=False)}; expected {check.expected}"
                    + (f" ({check.message})" if check.message else "")
                },
                "locations": _locations(finding, check.evidence),
                "properties": {
                    "host": finding.host,
                    "zone": finding.zone,
                    "severity": finding.severity.value,
                    "status": check.status.value,
                    "control": finding.control_id,
                },
            }
            if finding.status is Status.WAIVED and finding.waiver:
                result["suppressions"] = [
                    {
                        "kind": "external",
                        "justification": f"例外措置 {finding.waiver.id} (expires {finding.waiver.expires})",
                    }
                ]
            results.append(result)
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
                        "rules": list(rules.values()),
                    }
                },
                "automationDetails": {"id": f"kijun/{run.profile}/{run.run_id}"},
                "originalUriBaseIds": {"HOSTROOT": {"uri": "file:///"}},
                "results": results,
            }
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)
