"""Compact canonical results: a catalog once per run, and findings as JSON Lines that refer to it.

A run folder holds ``results.json`` (schema ``kijun/results/v3``: the run head, coverage, counts,
the catalog and the hosts, one line each) and ``findings.jsonl`` beside it, one finding per line
(scanner/findinglines.py). The catalog holds, once per run, what every finding of a control repeats
(severity, area, titles, citations, parameters, remediation, attestation), each check's titles and
the evidence items any host may name. A run folder's results.json names ``envelope.json`` beside
it for the envelope instead of repeating it; an exported results.json holds the envelope itself.
A host's record leaves out what is empty and its evidence file when it is ``evidence/<name>.json``.
Version 2 (the envelope inside, every host field written, no catalog items) is read as before.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from functools import cached_property
from pathlib import Path
from typing import IO, Any

from scanner import safeio
from scanner.findinglines import STATIC, Catalog, Encoder, Evidence, decode, pack_items
from scanner.results import Finding, HostResult, Run, Status, Tally

_dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
__all__ = ["Catalog", "Encoder", "Evidence", "FindingLog", "decode", "load", "pack_items", "write"]

SCHEMA = "kijun/results/v3"
READ = ("kijun/results/v2", SCHEMA)  # the compact forms load() reads
FINDINGS = "findings.jsonl"
ENVELOPE = "envelope.json"  # scanner/evidence.py writes it beside results.json in a run folder
# What results.json says of the run beside the envelope (Run.head()); envelope.json repeats them.
_HEAD = (
    "schema", "run_id", "started_at", "finished_at", "mode", "scanner_version", "inventory", "profile",
    "municipality", "fail_on", "coverage", "counts",
)  # fmt: skip
_HOST_KEEP = ("name", "zone", "role", "transport", "status")


def catalog_of_pack(pack: Any) -> Catalog:
    """Return the catalog of a policy pack: every control as a finding shows it, every check's title."""
    from scanner.engine import control_finding
    from scanner.inventory import Host

    blank = Host(name="", zone="", role="")
    controls: dict[str, dict[str, Any]] = {}
    checks = {c.id: {"title": {"ja": c.title_ja, "en": c.title_en}} for c in pack.checks.values()}
    for control in pack.controls.values():
        doc = control_finding(control, blank, pack, Status.PASS).to_json()
        controls[control.id] = {**{k: doc[k] for k in STATIC}, "checks": list(control.checks)}
        params = {name: spec["value"] for name, spec in doc["params"].items()}
        for cid in control.checks:
            if "expected" not in checks[cid]:
                checks[cid]["expected"] = _expected(pack.checks[cid], params)
    return Catalog(controls, checks, pack_items())


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
    out = Catalog(items=pack_items())
    for f in findings:
        if f.control_id not in out.controls:
            doc = f.to_json()
            ids = [c.check_id for c in f.checks]
            out.controls[f.control_id] = {**{k: doc[k] for k in STATIC}, "checks": ids}
        for c in f.checks:
            out.checks.setdefault(c.check_id, {"title": {"ja": c.title_ja, "en": c.title_en}})
    return out


def host_base(host: HostResult) -> dict[str, str]:
    """Return the fields a finding takes from its host's record unless its line says otherwise."""
    return {"zone": host.zone, "role": host.role, "owner": host.owner}


def _host_defaults(name: str, status: str) -> dict[str, Any]:
    evidence_file = f"evidence/{name}.json" if status == "assessed" else ""
    return {
        "message": "",
        "address": "",
        "owner": "",
        "collected_at": "",
        "timings": {},
        "evidence_file": evidence_file,
    }


def host_row(host: HostResult) -> dict[str, Any]:
    """Return a host's record in results.json v3: what its defaults do not already say."""
    defaults = _host_defaults(host.name, host.status)
    return {k: v for k, v in host.to_json().items() if k in _HOST_KEEP or defaults.get(k) != v}


def host_of(row: dict[str, Any]) -> HostResult:
    """Return the HostResult of a host's record (v3, or v2 with every field written)."""
    return HostResult.from_json({**_host_defaults(str(row["name"]), str(row["status"])), **row})


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

    def lines(self) -> Iterator[tuple[dict[str, Any], Evidence]]:
        """Yield each line as stored with its host's evidence numbering (for ``decode``).

        A caller that does not decode a line still gets the numbering right: the evidence a line
        gives is recorded once the caller moves on.
        """
        host, seen, items = "", Evidence(), self.catalog.items
        with self.path.open("rb") as handle:
            for raw in handle:
                line = json.loads(raw)
                if line["host"] != host or not host:
                    host, seen = str(line["host"]), Evidence(items)
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

    @cached_property
    def failing(self) -> frozenset[str]:
        """The keys (host/control) of the failing findings: every line read, no finding built.

        What the next run needs of this one (since when a failure has been open, what changed):
        a tenth of the cost of ``tally`` at 10,000 hosts, where a scheduled scan reads it each time.
        """
        if "tally" in self.__dict__:
            return frozenset(f.key for f in self.tally.fails)
        keys: set[str] = set()
        with self.path.open("rb") as handle:
            for raw in handle:
                line = json.loads(raw)
                if line["status"] == Status.FAIL.value:
                    keys.add(f"{line['host']}/{line['control']}")
        return frozenset(keys)

    def select(self, keys: AbstractSet[str]) -> Iterator[Finding]:
        """Yield the findings whose key (host/control) is in ``keys``, building no other."""
        for line, seen in self.lines():
            if f"{line['host']}/{line['control']}" in keys:
                yield Finding.from_json(decode(line, self.catalog, self.hosts.get(line["host"], {}), seen))

    def moved(self, path: Path) -> FindingLog:
        """Return the same log read from another path (the run folder after its atomic rename)."""
        again = FindingLog(path, self.catalog, self.hosts, self._count)
        for kept in ("tally", "failing"):
            if kept in self.__dict__:
                again.__dict__[kept] = self.__dict__[kept]
        return again


def failing(run: Run) -> frozenset[str]:
    """The keys (host/control) of a run's failing findings, without building them where it can."""
    if isinstance(run.findings, FindingLog):
        return run.findings.failing
    return frozenset(f.key for f in run.tally.fails)


def summary_json(run: Run, catalog: Catalog, count: int, envelope_beside: bool = False) -> dict[str, Any]:
    """Return results.json (kijun/results/v3): everything but the findings' lines.

    ``envelope_beside``: the envelope is envelope.json beside it (a run folder), named, not repeated.
    """
    head = run.head()
    coverage, counts = head.pop("coverage"), head.pop("counts")
    return {
        "schema": SCHEMA,
        **head,
        "envelope": {"file": ENVELOPE} if envelope_beside else run.envelope,
        "coverage": coverage,
        "counts": counts,
        "catalog": catalog.to_json(),
        "hosts": [host_row(h) for h in run.hosts],
        "findings": {"file": FINDINGS, "count": count},
    }


def layout(value: Any, depth: int = 3, level: int = 0) -> str:
    """Return JSON text with objects indented ``depth`` levels deep and a list's items one per line.

    What is deeper is written on one line by json's C encoder (``indent`` would take the pure-Python
    one): a results.json or envelope.json of 10,000 hosts is a host per line, quick to write and grep.
    """
    pad = " " * (level + 1)
    if level < depth and isinstance(value, dict) and value:
        rows = [f"{pad}{_dump(str(k))}: {layout(v, depth, level + 1)}" for k, v in value.items()]
    elif level < depth and isinstance(value, list) and value:
        rows = [pad + _dump(v) for v in value]
    else:
        return _dump(value)
    opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
    return opening + "\n" + ",\n".join(rows) + "\n" + " " * level + closing


def load(path: Path) -> Run:
    """Load a run from its results.json: v3 or v2 with findings.jsonl beside it (read lazily), or v1 whole."""
    data = safeio.load_json(path, safeio.RUN_LIMIT)  # a regular file, bounded in size and depth
    if not isinstance(data, dict) or data.get("schema") not in READ:
        return Run.from_json(data)
    hosts = tuple(host_of(h) for h in data["hosts"])
    log = FindingLog(
        path.parent / data["findings"]["file"],
        Catalog.from_json(data["catalog"]),
        {h.name: host_base(h) for h in hosts},
        int(data["findings"]["count"]),
    )
    if data["envelope"] == {"file": ENVELOPE}:
        data = {**data, "envelope": _envelope_file(path.parent / ENVELOPE)}
    return Run.from_head(data, hosts, log)


def _envelope_file(path: Path) -> dict[str, Any]:
    """Return the run envelope that envelope.json holds (less what results.json says itself)."""
    doc = safeio.load_json(path, safeio.RUN_LIMIT)
    if not isinstance(doc, dict) or doc.get("schema") != "kijun/envelope/v1":
        raise ValueError(f"{path}: not a kijun run envelope")
    return {k: v for k, v in doc.items() if k not in _HEAD}


def write(folder: Path, run: Run, envelope_beside: bool = False) -> Run:
    """Write results.json and findings.jsonl of a run into a folder; return the run reading them back.

    A run whose findings already are a FindingLog in this folder (the streaming scan) is not rewritten.
    ``envelope_beside``: the caller writes envelope.json into the folder (scanner/history.py).
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
    doc = summary_json(run, log.catalog, len(log), envelope_beside)
    (folder / "results.json").write_text(layout(doc) + "\n", "utf-8")
    return dataclasses.replace(run, findings=log)
