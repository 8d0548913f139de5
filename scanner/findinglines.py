"""One finding per line of findings.jsonl: what differs from its control's catalog entry and its host.

A line keeps the host, control and status and only the fields that differ from what the run's
catalog says of its control and check and what results.json says of its host, so decoding is
exact whatever the catalog holds. Evidence lists are numbered per host as its lines first give
them, and their items are numbered too: the catalog's ``items`` (the raw-fact items the policy
pack declares, the same for every host) are 0..n-1, and a host's other items follow in the order
its lines first spell them. ``scanner/compact.py`` holds the run folder around these lines.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scanner.results import CheckResult, Finding, Severity, Status

KEEP = ("host", "control", "status")
STATIC = ("severity", "area", "title", "citations", "params", "remediation", "attestation")
_FINDING_DEFAULTS: dict[str, Any] = {
    "zone": "",
    "role": "",
    "owner": "",
    "message": "",
    "checks": [],
    "citations": [],
    "params": {},
    "remediation": {"ja": "", "en": ""},
    "waiver": None,
    "attestation": "",
    "attested": None,
}
_CHECK_DEFAULTS: dict[str, Any] = {
    "observed": None,
    "expected": None,
    "message": "",
    "evidence": [],
    "origin": None,
}
# What the engine says of every finding with these statuses: left out of their lines.
_MESSAGES = {"not_applicable": "outside the control's scope", "manual": "attestation required"}
_ABSENT = object()
_VALUE: dict[Any, str] = {e: e.value for e in (*Status, *Severity)}  # quicker than ``.value``
_dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _direct() -> Callable[[Any], str]:
    """Return ``_dump`` made of json's C encoder called directly (not rebuilt for every line).

    ``JSONEncoder.encode`` makes a new C encoder per call; for a short line that is much of its
    cost. Without the C accelerator (never on CPython) ``_dump`` itself is returned.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return _dump
    plain = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    encoder = make(None, plain.default, json.encoder.encode_basestring, None, ":", ",", False, False, True)

    def dump(value: Any) -> str:
        if isinstance(value, str):
            return _dump(value)
        return "".join(encoder(value, 0))

    return dump


_line = _direct()  # the same text as ``_dump``: tests/report/test_finding_lines.py


@dataclass(frozen=True)
class Catalog:
    """What the findings of one run refer to by id: controls, checks and evidence items."""

    controls: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: tuple[str, ...] = ()  # evidence items numbered 0..n-1 on every host's lines (v3)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"controls": self.controls, "checks": self.checks}
        if self.items:
            out["items"] = list(self.items)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Catalog:
        return cls(dict(data["controls"]), dict(data["checks"]), tuple(data.get("items", ())))


def pack_items() -> tuple[str, ...]:
    """Return the raw-fact items any host may be asked for by name (no glob), in a fixed order."""
    from scanner.collect import plan_for
    from scanner.facts import SUBJECTS

    plan = plan_for(list(SUBJECTS))
    named = [("file", plan.files), ("stat", plan.stats), ("probe", plan.probes)]
    return tuple(f"{kind}:{p}" for kind, paths in named for p in paths if not any(c in p for c in "*?["))


class Evidence:
    """One host's evidence lists and items, numbered as its lines first give them (after the catalog's)."""

    def __init__(self, items: Sequence[str] = ()) -> None:
        self.lists: dict[tuple[str, ...], int] = {}
        self.items: dict[str, int] = {item: i for i, item in enumerate(items)}
        self.list_table: list[list[str]] = []
        self.item_table: list[str] = list(items)

    def pack(self, evidence: Sequence[str]) -> int | list[str | int]:
        """Return a list's number when given before, else the list with known items as numbers."""
        key = tuple(evidence)
        known = self.lists.get(key)
        if known is not None:
            return known
        self.lists[key] = len(self.lists)
        out: list[str | int] = []
        items = self.items
        for item in evidence:
            number = items.get(item)
            if number is None:
                items[item] = len(items)
                out.append(item)
            else:
                out.append(number)
        return out

    def unpack(self, value: int | list[str | int]) -> list[str]:
        if isinstance(value, int):
            return self.list_table[value]
        out = []
        for item in value:
            if isinstance(item, int):
                out.append(self.item_table[item])
            else:
                self.item_table.append(item)
                out.append(item)
        self.list_table.append(out)
        return out


def _reference(doc: dict[str, Any], catalog: Catalog, base: Mapping[str, Any]) -> dict[str, Any]:
    message = {"message": _MESSAGES.get(doc["status"], "")}
    entry = {k: v for k, v in catalog.controls.get(doc["control"], {}).items() if k != "checks"}
    return {**_FINDING_DEFAULTS, **entry, **base, **message}


def encode(doc: dict[str, Any], catalog: Catalog, base: Mapping[str, Any], seen: Evidence) -> dict[str, Any]:
    """Return the line of one finding (its ``to_json()`` form): what differs from catalog and host.

    A check leaves out its id when it is the control's check at the same place in the catalog, and
    its status when it is the finding's. ``seen`` numbers the evidence lists and items this host's
    lines already gave (callers start a new one for each host). ``Encoder`` does the same faster.
    """
    ref = _reference(doc, catalog, base)
    line = {k: doc[k] for k in KEEP}
    ids = catalog.controls.get(doc["control"], {}).get("checks", [])
    for key, value in doc.items():
        if key in KEEP:
            continue
        if key == "checks":
            if value:
                line["checks"] = [
                    _encode_check(c, i, ids, doc["status"], catalog, seen) for i, c in enumerate(value)
                ]
        elif key not in ref or ref[key] != value:
            line[key] = value
    return line


def _encode_check(
    doc: dict[str, Any], place: int, ids: list[str], status: str, catalog: Catalog, seen: Evidence
) -> dict[str, Any]:
    ref = {**_CHECK_DEFAULTS, **catalog.checks.get(doc["check"], {}), "status": status}
    if place < len(ids) and ids[place] == doc["check"]:
        ref["check"] = doc["check"]
    out = {k: v for k, v in doc.items() if k not in ref or ref[k] != v}
    if out.get("evidence"):
        out["evidence"] = seen.pack(out["evidence"])
    return out


def decode(line: dict[str, Any], catalog: Catalog, base: Mapping[str, Any], seen: Evidence) -> dict[str, Any]:
    """Return the ``to_json()`` form of a finding from its line (the inverse of ``encode``)."""
    doc = {**_reference(line, catalog, base), **line}
    ids = catalog.controls.get(line["control"], {}).get("checks", [])
    checks = []
    for place, c in enumerate(line.get("checks", [])):
        cid = c.get("check") or ids[place]
        check = {
            **_CHECK_DEFAULTS,
            **catalog.checks.get(cid, {}),
            "check": cid,
            "status": line["status"],
            **c,
        }
        if "evidence" in c:
            check["evidence"] = seen.unpack(c["evidence"])
        checks.append(check)
    doc["checks"] = checks
    return doc


_BEFORE = ("severity", "area", "title")  # a line's fields before zone, role, owner, message, checks
_AFTER = ("citations", "params", "remediation", "waiver", "attestation", "attested")
_CHECK = ("title", "observed", "expected", "message", "evidence", "origin")


def _pair(known: Any) -> tuple[Any, Any] | None:
    """Return (ja, en) when ``known`` is a dict of exactly those keys, else None (no pair equals it)."""
    if isinstance(known, dict) and len(known) == 2 and "ja" in known and "en" in known:
        return known["ja"], known["en"]
    return None


def _tuple(known: Any) -> tuple[Any, ...] | None:
    """Return a list as a tuple (to compare with a tuple field), else None (no list equals it)."""
    return tuple(known) if isinstance(known, list) else None


@dataclass(frozen=True)
class _Control:
    """What a control's catalog entry says, in the forms a finding's fields compare with directly."""

    ref: dict[str, Any]
    ids: list[str]
    severity: Any
    area: Any
    title: tuple[Any, Any] | None
    citations: tuple[Any, ...] | None
    params: Any
    remediation: tuple[Any, Any] | None
    waiver: Any
    attestation: Any
    attested: Any


@dataclass(frozen=True)
class _Check:
    """What a check's catalog entry says, in the forms a check result's fields compare with directly."""

    title: tuple[Any, Any] | None
    observed: Any
    expected: Any
    message: Any
    evidence: tuple[Any, ...] | None
    origin: Any


class Encoder:
    """Encode findings one after another, numbering evidence per host: ``encode`` without ``to_json``.

    The lines are the bytes ``dump_line(encode(f.to_json(), ...))`` gives (tests/report/test_compact.py,
    tests/report/test_finding_lines.py): each field is compared with what the catalog and the host's
    record say (``_ABSENT`` when they say nothing, which differs from every value). What the catalog
    says of a control or a check is worked out once per encoder, which may serve many hosts in turn
    (``host_lines``).
    """

    def __init__(self, catalog: Catalog, hosts: Mapping[str, Mapping[str, Any]]) -> None:
        self.catalog, self.hosts = catalog, hosts
        self.host: str | None = None
        self.base: Mapping[str, Any] = {}
        self.seen = Evidence(catalog.items)
        self._controls: dict[str, _Control] = {}
        self._checks: dict[str, _Check] = {}

    def host_lines(self, host: str, base: Mapping[str, Any], findings: Iterable[Finding]) -> bytes:
        """Return the lines of one host's findings, its record being ``base`` (evidence numbered anew)."""
        self.host, self.base, self.seen = host, base, Evidence(self.catalog.items)
        return b"".join([self.line(f) for f in findings])

    def _control(self, control: str) -> _Control:
        found = self._controls.get(control)
        if found is None:
            entry = self.catalog.controls.get(control, {})
            ref = {**_FINDING_DEFAULTS, **{k: v for k, v in entry.items() if k != "checks"}}
            get = ref.get
            found = self._controls[control] = _Control(
                ref,
                list(entry.get("checks", [])),
                get("severity", _ABSENT),
                get("area", _ABSENT),
                _pair(get("title", _ABSENT)),
                _tuple(get("citations", _ABSENT)),
                get("params", _ABSENT),
                _pair(get("remediation", _ABSENT)),
                get("waiver", _ABSENT),
                get("attestation", _ABSENT),
                get("attested", _ABSENT),
            )
        return found

    def line(self, finding: Finding) -> bytes:
        f = finding
        if f.host != self.host:
            self.host, self.base, self.seen = f.host, self.hosts.get(f.host, {}), Evidence(self.catalog.items)
        status = _VALUE[f.status]
        known = self._controls.get(f.control_id) or self._control(f.control_id)
        out: dict[str, Any] = {"host": f.host, "control": f.control_id, "status": status}
        if known.severity != _VALUE[f.severity]:
            out["severity"] = _VALUE[f.severity]
        if known.area != f.area:
            out["area"] = f.area
        title = known.title
        if title is None or title[0] != f.title_ja or title[1] != f.title_en:
            out["title"] = {"ja": f.title_ja, "en": f.title_en}
        base, ref = self.base, known.ref
        for key, value in (("zone", f.zone), ("role", f.role), ("owner", f.owner)):
            if (base[key] if key in base else ref.get(key, _ABSENT)) != value:
                out[key] = value
        if f.message != _MESSAGES.get(status, ""):
            out["message"] = f.message
        if f.checks:
            ids = known.ids
            out["checks"] = [self._check(c, i, ids, status) for i, c in enumerate(f.checks)]
        if known.citations is None or known.citations != tuple(f.citations):
            out["citations"] = list(f.citations)
        if known.params != f.params:
            out["params"] = f.params
        remedy = known.remediation
        if remedy is None or remedy[0] != f.remediation_ja or remedy[1] != f.remediation_en:
            out["remediation"] = {"ja": f.remediation_ja, "en": f.remediation_en}
        waiver = f.waiver.to_json() if f.waiver else None
        if known.waiver != waiver:
            out["waiver"] = waiver
        if known.attestation != f.attestation:
            out["attestation"] = f.attestation
        if known.attested != f.attested:
            out["attested"] = f.attested
        return (_line(out) + "\n").encode("utf-8")

    def _known_check(self, check: str) -> _Check:
        found = self._checks.get(check)
        if found is None:
            entry = {**_CHECK_DEFAULTS, **self.catalog.checks.get(check, {})}
            get = entry.get
            found = self._checks[check] = _Check(
                _pair(get("title", _ABSENT)),
                get("observed", _ABSENT),
                get("expected", _ABSENT),
                get("message", _ABSENT),
                _tuple(get("evidence", _ABSENT)),
                get("origin", _ABSENT),
            )
        return found

    def _check(self, c: CheckResult, place: int, ids: list[str], status: str) -> dict[str, Any]:
        known = self._checks.get(c.check_id) or self._known_check(c.check_id)
        out: dict[str, Any] = {}
        if place >= len(ids) or ids[place] != c.check_id:
            out["check"] = c.check_id
        if _VALUE[c.status] != status:
            out["status"] = _VALUE[c.status]
        title = known.title
        if title is None or title[0] != c.title_ja or title[1] != c.title_en:
            out["title"] = {"ja": c.title_ja, "en": c.title_en}
        if known.observed != c.observed:
            out["observed"] = c.observed
        if known.expected != c.expected:
            out["expected"] = c.expected
        if known.message != c.message:
            out["message"] = c.message
        items = tuple(c.evidence)
        if known.evidence is None or known.evidence != items:
            out["evidence"] = self.seen.pack(items) if items else []
        where = dict(c.origin) if c.origin is not None else None
        if known.origin != where:
            out["origin"] = where
        return out


def dump_line(line: dict[str, Any]) -> bytes:
    return (_dump(line) + "\n").encode("utf-8")
