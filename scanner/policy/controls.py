"""Load policies/*.yaml (one file per area) into Control records, cross-checked against the checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scanner.errors import LoadError
from scanner.inventory import label_text
from scanner.policy.checks import ja_en
from scanner.policy.model import Applies, Check, Control, Param, Setting
from scanner.results import Severity
from scanner.yamlsrc import Node, key_line, load_yaml, validate


def applies_from(node: dict[str, Any] | None) -> Applies:
    """Return the host selector of an ``applies``/``match`` mapping (absent keys select any host)."""
    node = node or {}
    return Applies(
        zones=tuple(node.get("zones", ())),
        roles=tuple(node.get("roles", ())),
        classification=tuple(str(c) for c in node.get("classification", ())),
        os=tuple(node.get("os", ())),
        labels={str(k): label_text(v) for k, v in (node.get("labels") or {}).items()},
    )


def setting_from(spec: dict[str, Any], value_key: str) -> Setting:
    """Return a parameter setting from its YAML mapping (``default:`` in a control, ``value:`` in a profile)."""
    return Setting(
        spec[value_key], str(spec["source"]), dict(spec.get("by_zone", {})), dict(spec.get("by_role", {}))
    )


def _params(entry: Node) -> dict[str, Param]:
    return {
        name: Param(name, setting_from(p, "default"), str(p.get("unit", "")))
        for name, p in (entry.get("params") or {}).items()
    }


def _check_refs(entry: Node, cid: str, params: dict[str, Param], checks: dict[str, Check], file: str) -> None:
    """Refuse a control that lists an unknown check or one using a parameter the control lacks."""
    for j, check_id in enumerate(entry.get("checks", ())):
        where = key_line(entry["checks"], j)
        if check_id not in checks:
            raise LoadError(file, where, f"control {cid}: unknown check {check_id!r}")
        missing = sorted(checks[check_id].params_used - set(params))
        if missing:
            raise LoadError(
                file,
                where,
                f"control {cid}: check {check_id} uses parameter(s) {', '.join(missing)} that the control does not define",
            )


def _control(entry: Node, area: str, checks: dict[str, Check], file: str, line: int) -> Control:
    cid = str(entry["id"])
    params = _params(entry)
    manual = bool(entry.get("manual", False))
    ids = tuple(entry.get("checks", ()))
    if not manual and not ids:
        raise LoadError(
            file, line, f"control {cid}: no checks (list checks, or set manual: true with an attestation)"
        )
    _check_refs(entry, cid, params, checks, file)
    if manual and not entry.get("attestation"):
        raise LoadError(
            file, line, f"control {cid}: manual controls need an attestation (what must be attested)"
        )
    tja, ten = ja_en(entry["title"])
    aja, aen = ja_en(entry.get("attestation"))
    rja, ren = ja_en(entry.get("remediation"))
    return Control(
        id=cid,
        area=area,
        title_ja=tja,
        title_en=ten,
        severity=Severity(entry["severity"]),
        applies=applies_from(entry.get("applies")),
        params=params,
        checks=ids,
        manual=manual,
        attestation_ja=aja,
        attestation_en=aen,
        guideline=str((entry.get("refs") or {}).get("guideline", "")),
        remediation_ja=rja,
        remediation_en=ren,
        waivable=bool(entry.get("waivable", True)),
        file=file,
        line=line,
        level=str(entry.get("level", "host")),
    )


def load_controls(
    root: Path, checks: dict[str, Check]
) -> tuple[dict[str, Control], dict[str, dict[str, str]]]:
    """Load policies/*.yaml (not profiles/) and cross-check them against the checks."""
    controls: dict[str, Control] = {}
    areas: dict[str, dict[str, str]] = {}
    for path in sorted(root.glob("*.yaml")):
        doc = load_yaml(path)
        validate(doc, "control", path)
        area = str(doc["area"])
        ja, en = ja_en(doc.get("area_title"))
        areas[area] = {"ja": ja or area, "en": en or area}
        for i, entry in enumerate(doc["controls"]):
            line = key_line(doc["controls"], i)
            cid = str(entry["id"])
            if cid in controls:
                first = controls[cid]
                raise LoadError(
                    str(path), line, f"duplicate control id {cid!r} (first in {first.file}:{first.line})"
                )
            controls[cid] = _control(entry, area, checks, str(path), line)
    return controls, areas
