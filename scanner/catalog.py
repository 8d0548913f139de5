"""Render the control catalog in force for a profile (``kijun controls``): rows and plain text."""

from __future__ import annotations

from typing import Any

from scanner.policy import Control, Pack, Param

CATALOG_DEFAULT = "catalog default"
# The order of shared/CATALOG.md; areas it does not name follow in load order.
AREA_ORDER = (
    "logging",
    "access_control",
    "network",
    "backup",
    "mfa",
    "dlp",
    "malware",
    "exception",
    "audit",
    "physical",
)


def _param_row(pack: Pack, control: Control, param: Param) -> dict[str, Any]:
    """Return the value in force for one parameter, its zone/role variants and whose source sets it."""
    chosen = pack.setting_for(control, param.name)
    by_profile = param.name in pack.profile.overrides.get(control.id, {})
    return {
        "value": chosen.value,
        "by_zone": dict(chosen.by_zone),
        "by_role": dict(chosen.by_role),
        "unit": param.unit,
        "source": chosen.source,
        "set_by": f"profile {pack.profile.name} ({pack.profile.name_ja})" if by_profile else CATALOG_DEFAULT,
    }


def catalog_rows(pack: Pack) -> list[dict[str, Any]]:
    """Return one row per control in force: kind, citations and the parameters with their sources."""
    rows: list[dict[str, Any]] = []
    for c in pack.controls.values():
        platforms = sorted({pack.checks[i].platform for i in c.checks if i in pack.checks})
        rows.append(
            {
                "id": c.id,
                "area": c.area,
                "area_title": dict(pack.areas.get(c.area, {"ja": c.area, "en": c.area})),
                "kind": "manual" if c.manual else "machine",
                "level": c.level,
                "severity": c.severity.value,
                "title": {"ja": c.title_ja, "en": c.title_en},
                "guideline": c.guideline,
                "citations": [dict(x) for x in pack.profile.citations.get(c.id, ())],
                "params": {name: _param_row(pack, c, p) for name, p in c.params.items()},
                "checks": list(c.checks),
                "platforms": platforms,
                "attestation": {"ja": c.attestation_ja, "en": c.attestation_en} if c.manual else None,
            }
        )
    return rows


def coverage(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Count per area: controls, manual, machine-checked by platform ("any": OS-independent facts such
    as the inventory's declared ones), and the controls the profile cites."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        n = out.setdefault(
            r["area"],
            {"controls": 0, "machine": 0, "manual": 0, "linux": 0, "windows": 0, "any": 0, "cited": 0},
        )
        n["controls"] += 1
        n[r["kind"]] += 1
        for platform in ("linux", "windows", "any"):
            if r["kind"] == "machine" and platform in r["platforms"]:
                n[platform] += 1
        if r["citations"]:
            n["cited"] += 1
    return out


def _value_text(p: dict[str, Any]) -> str:
    text = repr(p["value"])
    variants = [f"{k}: {v!r}" for k, v in {**p["by_zone"], **p["by_role"]}.items()]
    if variants:
        text += f" ({', '.join(variants)})"
    return text + (f" {p['unit']}" if p["unit"] else "")


def _citation_lines(cite: dict[str, str]) -> list[str]:
    head = " ".join(cite[k] for k in ("doc", "article") if cite.get(k))
    lines = [f"        根拠 citation: {head}" + (f"「{cite['text']}」" if cite.get("text") else "")]
    if cite.get("note"):
        lines.append(f"          注 note: {cite['note']}")
    return lines


def _header(pack: Pack) -> list[str]:
    prof = pack.profile
    lines = [f"{prof.name_ja} / {prof.name_en} (profile {prof.name})"]
    for title, doc in prof.documents.items():
        info = doc if isinstance(doc, dict) else {}
        detail = "; ".join(str(info[k]) for k in ("number", "version") if info.get(k))
        lines.append(f"  文書 document: {title}" + (f" ({detail})" if detail else ""))
    for key, value in prof.roles.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        lines.append(f"  役割 role {key}: {shown}")
    for rule in prof.exclusions:
        sel = rule.applies
        what = ", ".join(
            [f"{k}={v}" for k, v in sel.labels.items()]
            + [f"{k}={','.join(v)}" for k, v in (("zones", sel.zones), ("roles", sel.roles)) if v]
        )
        lines.append(f"  対象外 excluded: {what}: {rule.reason} ({rule.citation})")
    return lines


def render_catalog(pack: Pack) -> str:
    """Return the catalog as text: per area its controls, citations and parameters, then coverage."""
    rows = catalog_rows(pack)
    lines = _header(pack)
    areas = list(dict.fromkeys(r["area"] for r in rows))
    areas.sort(key=lambda a: AREA_ORDER.index(a) if a in AREA_ORDER else len(AREA_ORDER))
    for area in areas:
        first = next(r for r in rows if r["area"] == area)
        lines += ["", f"[{area}] {first['area_title']['ja']} / {first['area_title']['en']}"]
        for r in sorted((row for row in rows if row["area"] == area), key=lambda row: str(row["id"])):
            kind = r["kind"] if r["kind"] == "manual" else f"machine({','.join(r['platforms'])})"
            level = "  (organization)" if r["level"] == "organization" else ""
            lines.append(
                f"{r['id']:<7} {kind:<22} {r['severity']:<8} {r['title']['ja']} / {r['title']['en']}{level}"
            )
            for cite in r["citations"]:
                lines += _citation_lines(cite)
            if not r["citations"]:
                lines.append(f"        根拠 citation: ({pack.profile.name_ja}の条文なし / no ward article)")
            if r["guideline"]:
                lines.append(f"        指針 guideline: {r['guideline']}")
            for name, p in r["params"].items():
                lines.append(f"        {name} = {_value_text(p)}  [{p['set_by']}: {p['source']}]")
    lines.append("")
    counts = coverage(rows)
    for area in areas:
        n = counts[area]
        lines.append(
            f"coverage {area}: {n['machine']} machine-checked "
            f"(linux {n['linux']}, windows {n['windows']}, any OS {n['any']}), "
            f"{n['manual']} manual; {n['cited']}/{n['controls']} cite {pack.profile.name_ja}"
        )
    return "\n".join(lines) + "\n"
