"""Load a profile (policies/profiles/<name>.yaml) and the profiles it extends into one Profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scanner.errors import LoadError
from scanner.policy.controls import applies_from, setting_from
from scanner.policy.model import Control, Exclusion, Profile, Setting
from scanner.results import Severity
from scanner.yamlsrc import Node, key_line, load_yaml, validate


def profiles_dir(policies: Path) -> Path:
    """Return the folder of the profiles beside the area files."""
    return policies / "profiles"


def _profile_chain(name: str, policies: Path, seen: tuple[str, ...] = ()) -> list[tuple[Path, Node]]:
    path = Path(name) if name.endswith((".yaml", ".yml")) else profiles_dir(policies) / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in profiles_dir(policies).glob("*.yaml")))
        raise LoadError(str(path), None, f"no profile {name!r} (known: {known})")
    if name in seen:
        raise LoadError(str(path), None, f"profile extends itself: {' -> '.join((*seen, name))}")
    doc = load_yaml(path)
    validate(doc, "profile", path)
    parent = doc.get("extends")
    chain = _profile_chain(str(parent), policies, (*seen, name)) if parent else []
    return [*chain, (path, doc)]


def _check_approver(roles: Node, file: str) -> None:
    """Refuse a waiver approver that names nobody (``[]``, ``""``): it would let anyone approve."""
    value = roles["waiver_approver"]
    names = value if isinstance(value, list) else [value]
    if not names or any(not isinstance(n, str) or not n.strip() for n in names):
        raise LoadError(
            file,
            roles.line_of("waiver_approver"),
            "roles.waiver_approver must name one or more role titles (承認者の役職)",
        )


def _overrides(
    doc: Node, controls: dict[str, Control], file: str, into: dict[str, dict[str, Setting]]
) -> None:
    """Add a profile file's ``params:`` to the overrides, refusing unknown controls and parameters."""
    for cid, params in (doc.get("params") or {}).items():
        if cid not in controls:
            raise LoadError(file, doc["params"].line_of(cid), f"params: unknown control {cid!r}")
        for pname, spec in params.items():
            if pname not in controls[cid].params:
                raise LoadError(
                    file, params.line_of(pname), f"params: control {cid} has no parameter {pname!r}"
                )
            into.setdefault(cid, {})[pname] = setting_from(spec, "value")


def load_profile(name: str, policies: Path, controls: dict[str, Control]) -> Profile:
    """Load a profile and the ones it extends, later ones overriding earlier ones."""
    chain = _profile_chain(name, policies)
    overrides: dict[str, dict[str, Setting]] = {}
    citations: dict[str, tuple[dict[str, str], ...]] = {}
    roles: dict[str, Any] = {}
    documents: dict[str, Any] = {}
    select: list[str] = []
    deselect: list[str] = []
    exclusions: list[Exclusion] = []
    fail_on = Severity.LOW
    name_ja = name_en = name
    for path, doc in chain:
        file = str(path)
        muni = doc.get("municipality") or {}
        name_ja, name_en = str(muni.get("name_ja", name_ja)), str(muni.get("name_en", name_en))
        _overrides(doc, controls, file, overrides)
        for key, target in (("select", select), ("deselect", deselect)):
            for i, cid in enumerate(doc.get(key, [])):
                if cid not in controls:
                    raise LoadError(file, key_line(doc[key], i), f"{key}: unknown control {cid!r}")
                target.append(cid)
        for cid, cites in (doc.get("citations") or {}).items():
            if cid not in controls:
                raise LoadError(file, doc["citations"].line_of(cid), f"citations: unknown control {cid!r}")
            citations[cid] = tuple({str(k): str(v) for k, v in c.items()} for c in cites)
        roles.update(doc.get("roles") or {})
        if "waiver_approver" in (doc.get("roles") or {}):
            _check_approver(doc["roles"], file)
        documents.update(doc.get("documents") or {})
        for rule in (doc.get("scope") or {}).get("exclude", []):
            exclusions.append(
                Exclusion(applies_from(rule.get("match")), str(rule["reason"]), str(rule.get("citation", "")))
            )
        if "fail_on" in doc:
            fail_on = Severity(doc["fail_on"])
    return Profile(
        name=name,
        name_ja=name_ja,
        name_en=name_en,
        overrides=overrides,
        select=tuple(select),
        deselect=tuple(deselect),
        roles=roles,
        citations=citations,
        fail_on=fail_on,
        exclusions=tuple(exclusions),
        documents=documents,
        files=tuple(str(p) for p, _ in chain),
    )
