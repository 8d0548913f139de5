"""Compact canonical results: a catalog once per run, and findings as JSON Lines that refer to it.

A run folder holds ``results.json`` (schema ``kijun/results/v2``: the run head, envelope, coverage,
counts, the catalog and the hosts) and ``findings.jsonl`` beside it, one finding per line. The
catalog holds, once per run, what every finding of a control repeats (severity, area, titles,
citations, parameters, remediation, attestation) and each check's titles. A line keeps the host,
control and status and only the fields that differ from its control's catalog entry and its
host's record, so decoding is exact whatever the catalog holds: a catalog made from the policy
pack or from the findings themselves decodes to the same findings.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import IO, Any

from scanner import safeio
from scanner.results import Finding, HostResult, Run, Status, Tally

SCHEMA = "kijun/results/v2"
FINDINGS = "findings.jsonl"
_KEEP = ("host", "control", "status")
_STATIC = ("severity", "area", "title", "citations", "params", "remediation", "attestation")
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


@dataclass(frozen=True)
class Catalog:
    """What the findings of one run refer to by id: controls and checks."""

    controls: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"controls": self.controls, "checks": self.checks}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Catalog:
        return cls(dict(data["controls"]), dict(data["checks"]))


def catalog_of_pack(pack: Any) -> Catalog:
    """Return the catalog of a policy pack: every control as a finding shows it, every check's title."""
    from scanner.engine import control_finding
    from scanner.inventory import Host

    blank = Host(name="", zone="", role="")
    controls: dict[str, dict[str, Any]] = {}
    checks = {c.id: {"title": {"ja": c.title_ja, "en": c.title_en}} for c in pack.checks.values()}
    for control in pack.controls.values():
        doc = control_finding(control, blank, pack, Status.PASS).to_json()
        controls[control.id] = {**{k: doc[k] for k in _STATIC}, "checks": list(control.checks)}
        params = {name: spec["value"] for name, spec in doc["params"].items()}
        for cid in control.checks:
            if "expected" not in checks[cid]:
                checks[cid]["expected"] = _expected(pack.checks[cid], params)
    return Catalog(controls, checks)


def _expected(check: Any, params: dict[str, Any]) -> Any:
    """Return what a check expects with these parameters (its condition, written out)."""
    from scanner.conditions import evaluate

    try:
        return evaluate(check.condition, {}, params, check.if_missing).expected
    except Exception:
        return None


def catalog_of(findings: Iterable[Finding]) -> Catalog:
    """Return a catalog made from findings (the first finding of each control, each check)."""
    known = getattr(findings, "catalog", None)  # a FindingLog's, or the merged sources' (scanner/merge.py)
    if isinstance(known, Catalog):
        return known
    out = Catalog()
    for f in findings:
        if f.control_id not in out.controls:
            doc = f.to_json()
            ids = [c.check_id for c in f.checks]
            out.controls[f.control_id] = {**{k: doc[k] for k in _STATIC}, "checks": ids}
        for c in f.checks:
            out.checks.setdefault(c.check_id, {"title": {"ja": c.title_ja, "en": c.title_en}})
    return out


def host_base(host: HostResult) -> dict[str, str]:
    """Return the fields a finding takes from its host's record unless its line says otherwise."""
    return {"zone": host.zone, "role": host.role, "owner": host.owner}


def _reference(doc: dict[str, Any], catalog: Catalog, base: Mapping[str, Any]) -> dict[str, Any]:
    message = {"message": _MESSAGES.get(doc["status"], "")}
    entry = {k: v for k, v in catalog.controls.get(doc["control"], {}).items() if k != "checks"}
    return {**_FINDING_DEFAULTS, **entry, **base, **message}


class _Evidence:
    """One host's evidence lists and item ids, numbered as its lines first give them."""

    def __init__(self) -> None:
        self.lists: dict[tuple[str, ...], int] = {}
        self.items: dict[str, int] = {}
        self.list_table: list[list[str]] = []
        self.item_table: list[str] = []

    def pack(self, evidence: list[str]) -> int | list[str | int]:
        """Return a list's number when given before, else the list with known items as numbers."""
        key = tuple(evidence)
        if key in self.lists:
            return self.lists[key]
        self.lists[key] = len(self.lists)
        out: list[str | int] = []
        for item in evidence:
            if item in self.items:
                out.append(self.items[item])
            else:
                self.items[item] = len(self.items)
                out.append(item)
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


def encode(doc: dict[str, Any], catalog: Catalog, base: Mapping[str, Any], seen: _Evidence) -> dict[str, Any]:
    """Return the line of one finding (its ``to_json()`` form): what differs from catalog and host.

    A check leaves out its id when it is the control's check at the same place in the catalog, and
    its status when it is the finding's. ``seen`` numbers the evidence lists and items this host's
    lines already gave (callers start a new one for each host).
    """
    ref = _reference(doc, catalog, base)
    line = {k: doc[k] for k in _KEEP}
    ids = catalog.controls.get(doc["control"], {}).get("checks", [])
    for key, value in doc.items():
        if key in _KEEP:
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
    doc: dict[str, Any], place: int, ids: list[str], status: str, catalog: Catalog, seen: _Evidence
) -> dict[str, Any]:
    ref = {**_CHECK_DEFAULTS, **catalog.checks.get(doc["check"], {}), "status": status}
    if place < len(ids) and ids[place] == doc["check"]:
        ref["check"] = doc["check"]
    out = {k: v for k, v in doc.items() if k not in ref or ref[k] != v}
    if out.get("evidence"):
        out["evidence"] = seen.pack(out["evidence"])
    return out


def decode(
    line: dict[str, Any], catalog: Catalog, base: Mapping[str, Any], seen: _Evidence
) -> dict[str, Any]:
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


class Encoder:
    """Encode findings one after another, numbering evidence lists per host."""

    def __init__(self, catalog: Catalog, hosts: Mapping[str, Mapping[str, Any]]) -> None:
        self.catalog, self.hosts = catalog, hosts
        self.host: str | None = None
        self.seen = _Evidence()

    def line(self, finding: Finding) -> bytes:
        if finding.host != self.host:
            self.host, self.seen = finding.host, _Evidence()
        doc = encode(finding.to_json(), self.catalog, self.hosts.get(finding.host, {}), self.seen)
        return dump_line(doc)


def dump_line(line: dict[str, Any]) -> bytes:
    return (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def write_lines(
    handle: IO[bytes], findings: Iterable[Finding], catalog: Catalog, hosts: Mapping[str, dict[str, str]]
) -> int:
    """Write findings as JSON Lines; return how many."""
    count, encoder = 0, Encoder(catalog, hosts)
    for f in findings:
        handle.write(encoder.line(f))
        count += 1
    return count


class FindingLog:
    """The findings of a run, read lazily from findings.jsonl: every iteration reads the file again.

    Only the tally (counts and the failures) is kept once computed, so a run of 10,000 hosts is
    never held in memory as findings.
    """

    def __init__(
        self, path: Path, catalog: Catalog, hosts: Mapping[str, dict[str, str]], count: int | None = None
    ) -> None:
        self.path, self.catalog, self.hosts, self._count = path, catalog, hosts, count

    def __iter__(self) -> Iterator[Finding]:
        for line, seen in self.lines():
            yield Finding.from_json(decode(line, self.catalog, self.hosts.get(line["host"], {}), seen))

    def lines(self) -> Iterator[tuple[dict[str, Any], _Evidence]]:
        """Yield each line as stored with its host's evidence numbering (for ``decode``).

        A caller that does not decode a line still gets the numbering right: the evidence a line
        gives is recorded once the caller moves on.
        """
        host, seen = "", _Evidence()
        with self.path.open("rb") as handle:
            for raw in handle:
                line = json.loads(raw)
                if line["host"] != host or not host:
                    host, seen = str(line["host"]), _Evidence()
                mark = len(seen.list_table)
                yield line, seen
                if len(seen.list_table) == mark:  # not decoded: record its new evidence lists
                    for c in line.get("checks", []):
                        if "evidence" in c and not isinstance(c["evidence"], int):
                            seen.unpack(c["evidence"])

    def rows(self) -> Iterator[tuple[str, str, str, str]]:
        """Yield (host, control, status, severity) of every finding without building the findings."""
        controls = self.catalog.controls
        for line, _seen in self.lines():
            control = line["control"]
            severity = line.get("severity") or controls.get(control, {}).get("severity", "")
            yield line["host"], control, line["status"], severity

    def __len__(self) -> int:
        if self._count is None:
            with self.path.open("rb") as handle:
                self._count = sum(1 for _ in handle)
        return self._count

    def __contains__(self, item: object) -> bool:
        return any(f == item for f in self)

    def __repr__(self) -> str:
        return f"FindingLog({str(self.path)!r}, {len(self)} findings)"

    @cached_property
    def tally(self) -> Tally:
        """Counts and failures, building a Finding only for the failures."""
        out = Tally()
        for line, seen in self.lines():
            status = Status(line["status"])
            out.counts[status.value] += 1
            if status is Status.FAIL:
                base = self.hosts.get(line["host"], {})
                out.fails.append(Finding.from_json(decode(line, self.catalog, base, seen)))
            elif status in (Status.ERROR, Status.UNREACHABLE):
                out.unassessed += 1
        return out

    def moved(self, path: Path) -> FindingLog:
        """Return the same log read from another path (the run folder after its atomic rename)."""
        again = FindingLog(path, self.catalog, self.hosts, self._count)
        if "tally" in self.__dict__:
            again.__dict__["tally"] = self.tally
        return again


def summary_json(run: Run, catalog: Catalog, count: int) -> dict[str, Any]:
    """Return results.json of a run folder (kijun/results/v2): everything but the findings' lines."""
    head = run.head()
    coverage, counts = head.pop("coverage"), head.pop("counts")
    return {
        "schema": SCHEMA,
        **head,
        "envelope": run.envelope,
        "coverage": coverage,
        "counts": counts,
        "catalog": catalog.to_json(),
        "hosts": [h.to_json() for h in run.hosts],
        "findings": {"file": FINDINGS, "count": count},
    }


def load(path: Path) -> Run:
    """Load a run from its results.json: v2 with findings.jsonl beside it (read lazily), or v1 whole."""
    data = safeio.load_json(path, safeio.RUN_LIMIT)  # a regular file, bounded in size and depth
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        return Run.from_json(data)
    hosts = tuple(HostResult.from_json(h) for h in data["hosts"])
    log = FindingLog(
        path.parent / data["findings"]["file"],
        Catalog.from_json(data["catalog"]),
        {h.name: host_base(h) for h in hosts},
        int(data["findings"]["count"]),
    )
    return Run.from_head(data, hosts, log)


def write(folder: Path, run: Run) -> Run:
    """Write results.json and findings.jsonl of a run into a folder; return the run reading them back.

    A run whose findings already are a FindingLog in this folder (the streaming scan) is not rewritten.
    """
    target = folder / FINDINGS
    if isinstance(run.findings, FindingLog) and run.findings.path == target:
        log = run.findings
    else:
        catalog = catalog_of(run.findings)
        hosts = {h.name: host_base(h) for h in run.hosts}
        with target.open("wb") as handle:
            count = write_lines(handle, run.findings, catalog, hosts)
        log = FindingLog(target, catalog, hosts, count)
        log.__dict__["tally"] = run.tally
    doc = summary_json(run, log.catalog, len(log))
    (folder / "results.json").write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", "utf-8")
    return dataclasses.replace(run, findings=log)
