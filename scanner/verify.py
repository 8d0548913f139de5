"""Run check cases (raw facts in, expected statuses out): the data-driven tests of a policy pack.

A case file (YAML) gives a host, raw facts as plain data and the expected status of checks:

    description: PermitRootLogin left at yes
    host: {zone: mynumber, role: server}
    files: {/etc/ssh/sshd_config: "PermitRootLogin yes\\n"}
    expect: {sshd-root-login-disabled: fail}

``pytest`` and ``kijun verify`` run the same cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner import facts as factsmod
from scanner.engine import run_check
from scanner.errors import LoadError
from scanner.inventory import Host, Inventory, Site, Zone
from scanner.policy import Pack
from scanner.rawfacts import build_raw
from scanner.results import Status
from scanner.yamlsrc import load_yaml

CASE_ZONES = {
    "mynumber": ("マイナンバー利用事務系", "My Number zone", "10.10.0.0/16"),
    "lgwan": ("LGWAN接続系", "LGWAN zone", "10.20.0.0/16"),
    "internet": ("インターネット接続系", "Internet zone", "10.30.0.0/16"),
    "mgmt": ("管理系", "Management zone", "10.90.0.0/16"),
    "dc": ("外部データセンター", "External data center", "10.99.0.0/16"),
}


def case_inventory(host: Host) -> Inventory:
    """Return the fixed inventory every case runs in: five zones, two sites, two backup stores."""
    zones = {n: Zone(n, ja, en, (cidr,)) for n, (ja, en, cidr) in CASE_ZONES.items()}
    sites = {
        "honcho": Site("honcho", "office", "本庁舎"),
        "dc-gaibu": Site("dc-gaibu", "external_dc", "外部DC"),
    }
    others = (
        Host(name="backup-local-01", zone="mgmt", role="backup_storage", site="honcho", address="10.90.0.10"),
        Host(name="backup-dc-01", zone="dc", role="backup_storage", site="dc-gaibu", address="10.99.0.10"),
        Host(name="log-01", zone="mgmt", role="log_server", site="honcho", address="10.90.0.20"),
    )
    return Inventory(path=Path("case"), name="case", zones=zones, sites=sites, hosts=(host, *others))


@dataclass(frozen=True)
class CaseResult:
    """One expectation of one case."""

    case: str
    check_id: str
    expected: str
    actual: str
    message: str

    @property
    def ok(self) -> bool:
        return self.expected == self.actual


def _host(spec: dict[str, Any]) -> Host:
    labels = spec.get("labels", {})
    return Host(
        name=str(spec.get("name", "case-host")),
        zone=str(spec.get("zone", "lgwan")),
        role=str(spec.get("role", "server")),
        site=str(spec.get("site", "honcho")),
        os=str(spec.get("os", "linux")),
        classification=str(spec.get("classification", "")),
        address=str(spec.get("address", "")),
        labels={str(k): str(v) for k, v in labels.items()},
        vars=dict(spec.get("vars", {})),
    )


def params_for_check(pack: Pack, check_id: str, zone: str, role: str = "") -> dict[str, Any]:
    """Return the parameter values of the first control that uses a check, for a zone and role."""
    for control in pack.controls.values():
        if check_id in control.checks:
            return {k: v["value"] for k, v in pack.params_for(control, zone, role).items()}
    return {}


def run_case(path: Path, pack: Pack) -> list[CaseResult]:
    """Evaluate one case file; unknown check ids are load errors."""
    doc = load_yaml(path)
    if not isinstance(doc, dict) or "expect" not in doc:
        raise LoadError(str(path), None, "a case needs 'expect' (check id -> status)")
    host = _host(doc.get("host") or {})
    raw = build_raw(
        host=host.name,
        collected_at=str(doc.get("collected_at", "2026-11-01T09:00:00+09:00")),
        files=doc.get("files"),
        absent=doc.get("absent"),
        stats=doc.get("stats"),
        probes=doc.get("probes"),
    )
    ctx = factsmod.Context(host=host, inventory=case_inventory(host))
    results = []
    for check_id, expected in doc["expect"].items():
        check = pack.checks.get(check_id)
        if check is None:
            raise LoadError(str(path), doc["expect"].line_of(check_id), f"unknown check {check_id!r}")
        if expected not in {s.value for s in Status}:
            raise LoadError(str(path), doc["expect"].line_of(check_id), f"unknown status {expected!r}")
        facts = factsmod.build(raw, ctx, check.subjects)
        params = params_for_check(pack, check_id, host.zone, host.role)
        params.update(doc.get("params") or {})
        result = run_check(check, facts, params)
        message = result.message or f"observed {result.observed!r}; expected {result.expected}"
        results.append(CaseResult(str(path), check_id, str(expected), result.status.value, message))
    return results


def case_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.yaml"))


def coverage(pack: Pack, results: list[CaseResult]) -> dict[str, set[str]]:
    """Return, per check id, the statuses its cases expect (meta-test: every check has pass and fail)."""
    seen: dict[str, set[str]] = {cid: set() for cid in pack.checks}
    for r in results:
        seen.setdefault(r.check_id, set()).add(r.expected)
    return seen
