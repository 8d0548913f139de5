"""Load and validate checks/, policies/ and a profile into frozen records (a Pack).

Everything that can be wrong in content is found here, before any host is touched, and
reported as ``file:line: what is wrong``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner import content
from scanner.conditions import ADDRESS_KEYS, ALL_OPERATORS, COMBINATORS, IF_MISSING, QUANTIFIERS
from scanner.errors import LoadError
from scanner.facts import SUBJECTS
from scanner.inventory import Host, label_text
from scanner.results import Severity
from scanner.yamlsrc import Node, Seq, load_yaml, validate

CHECK_META = frozenset({"id", "title", "platform", "when", "description", "rationale", "if_missing"})


@dataclass(frozen=True)
class Check:
    """One technical assertion over facts."""

    id: str
    title_ja: str
    title_en: str
    condition: dict[str, Any]
    when: dict[str, Any] | None
    platform: str  # linux | windows | any
    if_missing: str
    subjects: frozenset[str]
    params_used: frozenset[str]
    file: str
    line: int


@dataclass(frozen=True)
class Param:
    """A control parameter with its default and the source that sets it."""

    name: str
    default: Any
    source: str
    by_zone: dict[str, Any] = field(default_factory=dict)
    unit: str = ""
    by_role: dict[str, Any] = field(default_factory=dict)

    def value_for(self, zone: str, role: str = "") -> Any:
        """Return the value for a host: by role first, then by zone, then the default."""
        if role in self.by_role:
            return self.by_role[role]
        return self.by_zone.get(zone, self.default)


@dataclass(frozen=True)
class Applies:
    """Which hosts a control applies to (empty tuple = any)."""

    zones: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    classification: tuple[str, ...] = ()
    os: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)

    def matches(self, host: Host) -> bool:
        return (
            (not self.zones or host.zone in self.zones)
            and (not self.roles or host.role in self.roles)
            and (not self.classification or host.classification in self.classification)
            and (not self.os or host.os in self.os)
            and all(host.labels.get(k) == v for k, v in self.labels.items())
        )


@dataclass(frozen=True)
class Control:
    """One requirement of the 対策基準 and the checks that evidence it."""

    id: str
    area: str
    title_ja: str
    title_en: str
    severity: Severity
    applies: Applies
    params: dict[str, Param]
    checks: tuple[str, ...]
    manual: bool
    attestation_ja: str
    attestation_en: str
    guideline: str
    remediation_ja: str
    remediation_en: str
    waivable: bool
    file: str
    line: int
    level: str = "host"  # "organization": assessed once per run, not per host


@dataclass(frozen=True)
class Override:
    """A profile's value for a control parameter, with its own source (article)."""

    value: Any
    source: str
    by_zone: dict[str, Any] = field(default_factory=dict)
    by_role: dict[str, Any] = field(default_factory=dict)

    def value_for(self, zone: str, role: str = "") -> Any:
        if role in self.by_role:
            return self.by_role[role]
        return self.by_zone.get(zone, self.value)


@dataclass(frozen=True)
class Exclusion:
    """A scope rule: hosts matching the selector are out of scope, with the reason and citation."""

    applies: Applies
    reason: str
    citation: str


@dataclass(frozen=True)
class Profile:
    """A municipality's tailoring of the catalog."""

    name: str
    name_ja: str
    name_en: str
    overrides: dict[str, dict[str, Override]]
    select: tuple[str, ...]
    deselect: tuple[str, ...]
    roles: dict[str, Any]
    citations: dict[str, tuple[dict[str, str], ...]]
    fail_on: Severity
    exclusions: tuple[Exclusion, ...]
    documents: dict[str, Any]
    files: tuple[str, ...]


@dataclass(frozen=True)
class Pack:
    """Checks, controls and the profile in force, with content hashes for the run envelope."""

    checks: dict[str, Check]
    controls: dict[str, Control]
    profile: Profile
    hashes: dict[str, str]
    areas: dict[str, dict[str, str]]

    def params_for(self, control: Control, zone: str, role: str = "") -> dict[str, dict[str, Any]]:
        """Return each parameter's value for a host's zone and role, and whose number it is (``source``)."""
        out: dict[str, dict[str, Any]] = {}
        for name, param in control.params.items():
            override = self.profile.overrides.get(control.id, {}).get(name)
            chosen: Param | Override = override if override is not None else param
            out[name] = {"value": chosen.value_for(zone, role), "source": chosen.source}
        return out


def _str_pair(node: dict[str, Any] | None) -> tuple[str, str]:
    node = node or {}
    return str(node.get("ja", "")), str(node.get("en", ""))


def _lines(node: Any, key: str | int) -> int:
    if isinstance(node, Node) and isinstance(key, str):
        return node.line_of(key)
    if isinstance(node, Seq) and isinstance(key, int):
        return node.item_lines[key]
    return getattr(node, "line", 0) or 0


def check_condition(
    cond: Any, file: str, line: int, subjects: set[str], params: set[str], relative: bool = False
) -> None:
    """Validate a condition tree, collecting the subjects and params it uses."""
    if not isinstance(cond, dict):
        raise LoadError(file, line, f"a condition must be a mapping, got {type(cond).__name__}")
    line = getattr(cond, "line", 0) or line
    unknown = [k for k in cond if k not in ADDRESS_KEYS | ALL_OPERATORS | COMBINATORS]
    if unknown:
        where = cond.line_of(unknown[0]) if isinstance(cond, Node) else line
        raise LoadError(
            file,
            where,
            f"unknown operator {unknown[0]!r} (known: {', '.join(sorted(ALL_OPERATORS | COMBINATORS))})",
        )
    ops = [k for k in cond if k in ALL_OPERATORS | COMBINATORS]
    if len(ops) != 1:
        raise LoadError(file, line, f"a condition needs exactly one operator, found {ops or 'none'}")
    op = ops[0]
    if cond.get("if_missing", "error") not in IF_MISSING:
        raise LoadError(
            file, _lines(cond, "if_missing"), f"if_missing must be one of {', '.join(IF_MISSING)}"
        )
    if op in COMBINATORS:
        items = cond[op]
        if not isinstance(items, list) or not items:
            raise LoadError(file, _lines(cond, op), f"{op} needs a non-empty list of conditions")
        for i, sub in enumerate(items):
            check_condition(sub, file, _lines(items, i), subjects, params, relative)
        return
    if "fact" in cond:
        subject = str(cond["fact"]).split(".")[0]
        if subject not in SUBJECTS:
            raise LoadError(
                file,
                _lines(cond, "fact"),
                f"unknown fact subject {subject!r} (known: {', '.join(sorted(SUBJECTS))})",
            )
        subjects.add(subject)
    elif not relative:
        raise LoadError(file, line, "a condition needs 'fact' (outside every/some)")
    arg = cond[op]
    if op in QUANTIFIERS:
        check_condition(arg, file, _lines(cond, op), subjects, params, relative=True)
        return
    _collect_params(arg, params, file, _lines(cond, op))


def _collect_params(value: Any, params: set[str], file: str, line: int) -> None:
    if isinstance(value, dict):
        if set(value) == {"param"} and isinstance(value["param"], str):
            params.add(value["param"])
        else:
            raise LoadError(
                file, line, f"an operator value may be a scalar, a list or {{param: name}}, got {dict(value)}"
            )
    elif isinstance(value, list):
        for v in value:
            _collect_params(v, params, file, line)


def _without(node: Node, keys: frozenset[str]) -> Node:
    """Return a copy of a mapping without some keys, keeping its line numbers."""
    out = Node({k: v for k, v in node.items() if k not in keys})
    out.line = node.line
    out.key_lines = {k: v for k, v in node.key_lines.items() if k not in keys}
    return out


def load_checks(root: Path) -> dict[str, Check]:
    """Load every checks/**/*.yaml file."""
    checks: dict[str, Check] = {}
    for path in sorted(root.rglob("*.yaml")):
        doc = load_yaml(path)
        validate(doc, "check", path)
        for i, entry in enumerate(doc["checks"]):
            line = _lines(doc["checks"], i)
            if entry["id"] in checks:
                first = checks[entry["id"]]
                raise LoadError(
                    str(path),
                    line,
                    f"duplicate check id {entry['id']!r} (first in {first.file}:{first.line})",
                )
            cond = _without(entry, CHECK_META)
            subjects: set[str] = set()
            params: set[str] = set()
            check_condition(cond, str(path), line, subjects, params)
            when = entry.get("when")
            if when is not None:
                check_condition(when, str(path), _lines(entry, "when"), subjects, params)
            ja, en = _str_pair(entry["title"])
            checks[entry["id"]] = Check(
                id=entry["id"],
                title_ja=ja,
                title_en=en,
                condition=cond,
                when=when,
                platform=str(entry.get("platform", "linux")),
                if_missing=str(entry.get("if_missing", "error")),
                subjects=frozenset(subjects),
                params_used=frozenset(params),
                file=str(path),
                line=line,
            )
    return checks


def _applies(node: dict[str, Any] | None) -> Applies:
    node = node or {}
    return Applies(
        zones=tuple(node.get("zones", ())),
        roles=tuple(node.get("roles", ())),
        classification=tuple(str(c) for c in node.get("classification", ())),
        os=tuple(node.get("os", ())),
        labels={str(k): label_text(v) for k, v in (node.get("labels") or {}).items()},
    )


def load_controls(
    root: Path, checks: dict[str, Check]
) -> tuple[dict[str, Control], dict[str, dict[str, str]]]:
    """Load policies/*.yaml (not profiles/) and cross-check them against the checks."""
    controls: dict[str, Control] = {}
    areas: dict[str, dict[str, str]] = {}
    for path in sorted(p for p in root.glob("*.yaml")):
        doc = load_yaml(path)
        validate(doc, "control", path)
        area = str(doc["area"])
        ja, en = _str_pair(doc.get("area_title"))
        areas[area] = {"ja": ja or area, "en": en or area}
        for i, entry in enumerate(doc["controls"]):
            line = _lines(doc["controls"], i)
            cid = str(entry["id"])
            if cid in controls:
                first = controls[cid]
                raise LoadError(
                    str(path), line, f"duplicate control id {cid!r} (first in {first.file}:{first.line})"
                )
            params = {
                name: Param(
                    name,
                    p["default"],
                    str(p["source"]),
                    dict(p.get("by_zone", {})),
                    str(p.get("unit", "")),
                    dict(p.get("by_role", {})),
                )
                for name, p in (entry.get("params") or {}).items()
            }
            manual = bool(entry.get("manual", False))
            ids = tuple(entry.get("checks", ()))
            if not manual and not ids:
                raise LoadError(
                    str(path),
                    line,
                    f"control {cid}: no checks (list checks, or set manual: true with an attestation)",
                )
            for j, check_id in enumerate(ids):
                where = _lines(entry["checks"], j)
                if check_id not in checks:
                    raise LoadError(str(path), where, f"control {cid}: unknown check {check_id!r}")
                missing = sorted(checks[check_id].params_used - set(params))
                if missing:
                    raise LoadError(
                        str(path),
                        where,
                        f"control {cid}: check {check_id} uses parameter(s) {', '.join(missing)} that the control does not define",
                    )
            if manual and not entry.get("attestation"):
                raise LoadError(
                    str(path),
                    line,
                    f"control {cid}: manual controls need an attestation (what must be attested)",
                )
            tja, ten = _str_pair(entry["title"])
            aja, aen = _str_pair(entry.get("attestation"))
            rja, ren = _str_pair(entry.get("remediation"))
            controls[cid] = Control(
                id=cid,
                area=area,
                title_ja=tja,
                title_en=ten,
                severity=Severity(entry["severity"]),
                applies=_applies(entry.get("applies")),
                params=params,
                checks=ids,
                manual=manual,
                attestation_ja=aja,
                attestation_en=aen,
                guideline=str((entry.get("refs") or {}).get("guideline", "")),
                remediation_ja=rja,
                remediation_en=ren,
                waivable=bool(entry.get("waivable", True)),
                file=str(path),
                line=line,
                level=str(entry.get("level", "host")),
            )
    return controls, areas


def profiles_dir(policies: Path) -> Path:
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


def load_profile(name: str, policies: Path, controls: dict[str, Control]) -> Profile:
    """Load a profile and the ones it extends, later ones overriding earlier ones."""
    chain = _profile_chain(name, policies)
    overrides: dict[str, dict[str, Override]] = {}
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
        for cid, params in (doc.get("params") or {}).items():
            if cid not in controls:
                raise LoadError(file, doc["params"].line_of(cid), f"params: unknown control {cid!r}")
            for pname, spec in params.items():
                if pname not in controls[cid].params:
                    raise LoadError(
                        file, params.line_of(pname), f"params: control {cid} has no parameter {pname!r}"
                    )
                overrides.setdefault(cid, {})[pname] = Override(
                    spec["value"],
                    str(spec["source"]),
                    dict(spec.get("by_zone", {})),
                    dict(spec.get("by_role", {})),
                )
        for key, target in (("select", select), ("deselect", deselect)):
            for i, cid in enumerate(doc.get(key, [])):
                if cid not in controls:
                    raise LoadError(file, _lines(doc[key], i), f"{key}: unknown control {cid!r}")
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
                Exclusion(_applies(rule.get("match")), str(rule["reason"]), str(rule.get("citation", "")))
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


def _hash_tree(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def load_pack(
    profile: str = "base", checks_root: Path | None = None, policies_root: Path | None = None
) -> Pack:
    """Load checks, controls and a profile; raise LoadError on the first problem.

    >>> pack = load_pack("bunkyo")  # doctest: +SKIP
    >>> pack.controls["LOG-02"].params["retention_days"].source  # doctest: +SKIP
    """
    checks_root = checks_root or content.checks_dir()
    policies_root = policies_root or content.policies_dir()
    checks = load_checks(checks_root)
    controls, areas = load_controls(policies_root, checks)
    prof = load_profile(profile, policies_root, controls)
    selected = {
        cid: c
        for cid, c in controls.items()
        if (not prof.select or cid in prof.select) and cid not in prof.deselect
    }
    hashes = {
        "checks": _hash_tree(list(checks_root.rglob("*.yaml"))),
        "policies": _hash_tree(list(policies_root.glob("*.yaml"))),
        "profile": _hash_tree([Path(f) for f in prof.files]),
    }
    return Pack(checks=checks, controls=selected, profile=prof, hashes=hashes, areas=areas)
