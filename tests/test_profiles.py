"""Municipal profiles: they load, cite existing controls, quote their seeds exactly, scope and roles."""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from scanner.catalog import catalog_rows, coverage, render_catalog
from scanner.content import policies_dir
from scanner.inventory import Host
from scanner.policy import Pack, load_pack
from scanner.run import scope

WARDS = ("nerima", "arakawa", "bunkyo")
SEEDS = Path(os.environ.get("KIJUN_SEEDS", Path(__file__).resolve().parents[2] / "shared" / "seeds"))

# Each cited document: the seed file that holds it, and the line (stripped, exact) that opens and
# ends its part when the file holds more than one document.
DOCS: dict[str, tuple[str, str, str]] = {
    "練馬区情報化管理規程": ("000_07d27a1b67c5467b.txt", "", ""),
    "練馬区情報セキュリティに関する要綱": ("001_9b7b86638d374cb3.txt", "", ""),
    "練馬区情報化基本計画": ("003_1a04ce73043b287f.txt", "", ""),
    "荒川区電子情報システム管理運営規程": ("002_3d32beb92047a711.txt", "", ""),
    "文京区情報システムの概要": ("004_38e18f8e24bf5d44.txt", "", "V 関係規程等一覧"),
    "文京区電子計算組織の運営に関する規則": (
        "004_38e18f8e24bf5d44.txt",
        "文京区電子計算組織の運営に関する規則",
        "文京区情報セキュリティに関する規則",
    ),
    "文京区情報セキュリティに関する規則": (
        "004_38e18f8e24bf5d44.txt",
        "文京区情報セキュリティに関する規則",
        "",
    ),
}
WARD_DOCS = {
    "nerima": ("練馬区情報化管理規程", "練馬区情報セキュリティに関する要綱", "練馬区情報化基本計画"),
    "arakawa": ("荒川区電子情報システム管理運営規程",),
    "bunkyo": (
        "文京区情報システムの概要",
        "文京区電子計算組織の運営に関する規則",
        "文京区情報セキュリティに関する規則",
    ),
}
HEADING = re.compile(r"^\s*第\s*([0-9０-９]+)\s*条(?:の\s*([0-9０-９二三四五]+))?[\s　]")
CITED = re.compile(r"^第([0-9]+)条(?:の([0-9二三四五]+))?")
WIDE = str.maketrans("０１２３４５６７８９二三四五", "01234567892345")


def flat(text: str) -> str:
    """Remove all whitespace: the seeds carry stray spaces and line breaks from PDF extraction."""
    return re.sub(r"\s+", "", text)


@cache
def part(doc: str) -> list[str]:
    """Return the lines of one document's part of its seed file."""
    name, start, end = DOCS[doc]
    path = SEEDS / name
    if not path.is_file():
        pytest.skip(f"seed texts not found at {SEEDS} (set KIJUN_SEEDS)")
    lines = path.read_text(encoding="utf-8").splitlines()
    first = lines.index(start) if start else 0
    last = lines.index(end, first + 1) if end else len(lines)
    return lines[first:last]


@cache
def articles(doc: str) -> dict[tuple[str, str], str]:
    """Split a regulation into articles by their headings: (number, の-number) -> flattened text."""
    out: dict[tuple[str, str], str] = {}
    key: tuple[str, str] | None = None
    for line in part(doc):
        match = HEADING.match(line)
        if match:
            key = (match.group(1).translate(WIDE), (match.group(2) or "").translate(WIDE))
            assert key not in out, f"{doc}: article {key} appears twice"
            out[key] = ""
        if key is not None:
            out[key] += flat(line)
    return out


@cache
def profile_yaml(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((policies_dir() / "profiles" / f"{name}.yaml").read_text())
    return data


@cache
def pack_of(name: str) -> Pack:
    return load_pack(name)


@pytest.fixture(params=WARDS)
def ward(request: pytest.FixtureRequest) -> Pack:
    return pack_of(str(request.param))


def all_titles(roles: dict[str, Any]) -> list[str]:
    return [str(t) for v in roles.values() for t in (v if isinstance(v, list) else [v])]


def test_profile_loads_on_top_of_base(ward: Pack) -> None:
    assert ward.profile.name_ja.endswith("区")
    assert Path(ward.profile.files[0]).name == "base.yaml"
    assert ward.profile.citations and ward.profile.documents


def test_citations_name_controls_and_documents_in_force(ward: Pack) -> None:
    for cid, cites in ward.profile.citations.items():
        assert cid in ward.controls, cid
        for cite in cites:
            assert cite["doc"] in ward.profile.documents, (cid, cite["doc"])
            assert cite["article"] and cite["text"], cid
            assert cite["as_of"] == ward.profile.documents[cite["doc"]]["as_of"], (cid, cite["article"])


def test_citation_quotes_appear_verbatim_in_the_cited_part_of_the_seed(ward: Pack) -> None:
    checked = 0
    for cid, cites in ward.profile.citations.items():
        for cite in cites:
            doc, article, quote = cite["doc"], cite["article"], flat(cite["text"])
            whole = flat("\n".join(part(doc)))
            found = quote in whole
            assert found, f"{ward.profile.name} {cid}: not in {doc}: {cite['text']}"
            cited = CITED.match(article)
            if cited:
                key = (cited.group(1), cited.group(2) or "")
                found = quote in articles(doc).get(key, "")
                assert found, f"{ward.profile.name} {cid}: not in {doc} {article}: {cite['text']}"
            elif article.startswith("別表第1 "):
                row = flat(article.removeprefix("別表第1 "))
                found = row + quote in whole
                assert found, f"{ward.profile.name} {cid}: not the row of {row}"
            checked += 1
    assert checked >= 30


def test_the_quote_check_rejects_a_wrong_article() -> None:
    sec = "文京区情報セキュリティに関する規則"
    quote = flat("時刻設定の同期化その他アクセス記録の精度及び信頼性を確保するため")
    assert quote in articles(sec)[("25", "")]
    assert quote not in articles(sec)[("26", "")]
    assert ("4", "2") in articles(sec)  # 第4条の二
    assert ("3", "2") in articles("荒川区電子情報システム管理運営規程")  # 第3条の2


def test_role_titles_are_the_wards_own_and_override_base() -> None:
    base_keys = set(profile_yaml("base")["roles"])
    for name in WARDS:
        roles = profile_yaml(name)["roles"]
        assert base_keys <= set(roles), f"{name} inherits base role titles: {base_keys - set(roles)}"
        assert {"self_inspection_signoff", "audit_lead"} <= set(roles), name
        seeds = flat("\n".join("\n".join(part(d)) for d in WARD_DOCS[name]))
        for title in all_titles(roles):
            assert flat(title) in seeds, f"{name}: role title {title!r} is not in its regulations"


def test_role_traps_follow_the_reference() -> None:
    nerima = pack_of("nerima").profile.roles
    bunkyo = pack_of("bunkyo").profile.roles
    arakawa = pack_of("arakawa").profile.roles
    # 情報セキュリティ責任者: every 課長 in Nerima (要綱 第18条), only the 情報政策課長 in Bunkyo (第7条).
    assert nerima["remediation_owner"] == "情報セキュリティ責任者"
    assert bunkyo["remediation_owner"] == "情報システム管理者"
    assert bunkyo["security_officer_central"] == "情報セキュリティ責任者"
    assert "情報セキュリティ責任者" not in all_titles(
        {k: bunkyo[k] for k in ("remediation_owner", "escalation")}
    )
    assert nerima["security_officer_central"] == "統括情報セキュリティ管理者"
    # 統括…: Bunkyo's 統括情報セキュリティ責任者 does not exist in Nerima, and vice versa.
    assert "統括情報セキュリティ責任者" not in all_titles(nerima)
    assert "統括情報セキュリティ管理者" not in all_titles(bunkyo)
    # Arakawa has no CISO: the 情報統括責任者 (管理部長) approves; its committee audits.
    assert arakawa["waiver_approver"] == ["情報統括責任者"]
    assert "最高情報セキュリティ責任者" not in all_titles(arakawa)
    assert arakawa["audit_lead"] == "情報セキュリティ委員会"
    assert nerima["audit_lead"] == "情報セキュリティ監査責任者"


def test_bunkyo_excludes_education_computers_with_reason_and_citation() -> None:
    school = Host(name="edu-pc-01", zone="lgwan", role="terminal", labels={"education": "true"})
    office = Host(name="lg-term-01", zone="lgwan", role="terminal", labels={"education": "false"})
    kept, excluded = scope([school, office], pack_of("bunkyo"))
    assert [h.name for h in kept] == ["lg-term-01"]
    assert excluded == [
        {
            "host": "edu-pc-01",
            "reason": "幼稚園・小学校・中学校及び教育センターにおいて教育のために用いる電子計算組織は規則の対象外",
            "citation": "文京区情報セキュリティに関する規則 第3条ただし書",
        }
    ]
    for other in ("nerima", "arakawa"):
        assert scope([school], pack_of(other))[1] == [], other


def test_parameter_overrides_cite_the_wards_own_documents(ward: Pack) -> None:
    own = WARD_DOCS[ward.profile.name]
    for cid, params in ward.profile.overrides.items():
        for name, override in params.items():
            assert any(doc in override.source for doc in own), f"{cid}.{name}: {override.source}"


def test_bunkyo_backup_age_is_set_by_its_own_document() -> None:
    pack = pack_of("bunkyo")
    row = next(r for r in catalog_rows(pack) if r["id"] == "BAK-01")
    param = row["params"]["max_age_hours"]
    assert param["value"] == 30 and param["set_by"] == "profile bunkyo (文京区)"
    assert "毎日、日次データセーブ" in param["source"]
    base = next(r for r in catalog_rows(pack_of("base")) if r["id"] == "BAK-01")
    assert base["params"]["max_age_hours"]["set_by"] == "catalog default"


def test_catalog_rows_cover_every_control_with_kind_and_citations() -> None:
    pack = pack_of("bunkyo")
    rows = {r["id"]: r for r in catalog_rows(pack)}
    assert set(rows) == set(pack.controls)
    assert rows["LOG-04"]["kind"] == "machine" and "linux" in rows["LOG-04"]["platforms"]
    assert [c["article"] for c in rows["LOG-04"]["citations"]] == ["第25条第2項"]
    assert rows["PHY-01"]["kind"] == "manual" and rows["PHY-01"]["level"] == "organization"
    assert rows["PHY-01"]["attestation"]["ja"]
    assert rows["LOG-02"]["params"]["retention_days"]["by_zone"] == {"mynumber": 1825}


def test_render_catalog_shows_citations_parameters_and_coverage_per_area() -> None:
    pack = pack_of("bunkyo")
    text = render_catalog(pack)
    assert text.startswith("文京区 / Bunkyo City (profile bunkyo)")
    assert "根拠 citation: 文京区情報セキュリティに関する規則 第25条第2項「前項のアクセス記録は" in text
    assert "根拠 citation: 文京区電子計算組織の運営に関する規則 第18条「区長は、重要磁気記録" in text
    assert "max_age_hours = 30 hours  [profile bunkyo (文京区): 文京区情報システムの概要" in text
    assert "対象外 excluded: education=true" in text
    counts = coverage(catalog_rows(pack))
    for area, n in counts.items():
        assert n["machine"] + n["manual"] == n["controls"]
        line = f"coverage {area}: {n['machine']} machine-checked"
        assert line in text, line
    assert counts["physical"] == {**counts["physical"], "machine": 0, "manual": 8}
    assert set(counts) == set(pack.areas)


def test_coverage_counts_platforms_manual_and_citations() -> None:
    def row(cid: str, kind: str, platforms: list[str], cited: bool) -> dict[str, Any]:
        cites = [{"doc": "d", "article": "第1条"}] if cited else []
        return {"id": cid, "area": "mfa", "kind": kind, "platforms": platforms, "citations": cites}

    rows = [
        row("MFA-01", "machine", ["any", "linux", "windows"], True),
        row("MFA-02", "machine", ["linux"], False),
        row("MFA-03", "manual", [], True),
    ]
    assert coverage(rows) == {
        "mfa": {"controls": 3, "machine": 2, "manual": 1, "linux": 2, "windows": 1, "any": 1, "cited": 2}
    }
