"""Own federation: join signed run bundles from separated zones into one run for the whole 区.

Zones cannot reach each other by design, so each zone's scanner signs its own bundle with its own
key. A merge first verifies every bundle completely against the trusted public keys and refuses
the first one that fails, then joins hosts and findings (a host in two bundles is an error) into
one Run whose envelope names each source bundle with its run id, digests and key fingerprint. The
raw facts are carried over byte for byte, with each source's signed manifest beside them.

Nothing that grows with the hosts' findings or evidence is held: the merged findings are read
from the sources' findings files at every pass (only the organization-level findings, one per
control, are kept), and each host's evidence file is read when it is written.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from scanner import __version__, compact, evidence, timesync
from scanner.report.labels import STATUS_ORDER
from scanner.results import Finding, Run, Severity, Tally
from scanner.run import JST

# When the same waiver was judged differently in two zones, the report shows the gravest state.
_WAIVER_PRECEDENCE = ("lapsed", "not_applied", "in_force", "unused")


class MergeError(ValueError):
    """A bundle that cannot be merged; the message starts with the file concerned."""


@dataclass(frozen=True)
class Merged:
    """The merged run, the raw facts per host (bytes as signed), and the source proofs to store."""

    run: Run
    evidence: Mapping[str, bytes]  # read from the source bundle when asked for
    files: dict[str, str | bytes]


@dataclass(frozen=True)
class _Source:
    folder: Path
    run: Run
    fingerprint: str


def _load(folder: Path, trusted: list[Ed25519PublicKey]) -> _Source:
    verdict = evidence.verify(folder, trusted)
    if not verdict.ok:
        more = f" (and {len(verdict.problems) - 1} more problems)" if len(verdict.problems) > 1 else ""
        raise MergeError(f"{folder}/{verdict.problems[0]}{more}; bundle refused")
    run = compact.load(folder / evidence.RESULTS)
    return _Source(folder, run, verdict.fingerprint)


def _common(sources: list[_Source]) -> None:
    """Refuse bundles judged against different policy packs or profiles: their findings do not compare."""
    first = sources[0]
    keys = ("checks", "policies", "profile")
    want = {k: first.run.envelope.get("hashes", {}).get(k) for k in keys}
    for s in sources[1:]:
        got = {k: s.run.envelope.get("hashes", {}).get(k) for k in keys}
        if got != want or s.run.profile != first.run.profile:
            raise MergeError(
                f"{s.folder}/{evidence.RESULTS}: scanned with another policy pack or profile than "
                f"{first.folder} ({s.run.profile} vs {first.run.profile}); bundle refused"
            )


def _lines(findings: Iterable[Finding], names: set[str], own: bool) -> Iterator[Finding]:
    """Yield a source's findings of its own hosts (own) or the others (organization-level)."""
    if not isinstance(findings, compact.FindingLog):
        yield from (f for f in findings if (f.host in names) == own)
        return
    for line, seen in findings.lines():  # decode only what is kept
        if (line["host"] in names) == own:
            base = findings.hosts.get(line["host"], {})
            yield Finding.from_json(compact.decode(line, findings.catalog, base, seen))


class _Joined:
    """The merged findings: every source's host findings in order, then the organization-level ones.

    Those appear in every bundle and are kept once (the gravest); they are the only findings held.
    """

    def __init__(self, sources: list[_Source]) -> None:
        self._parts = [(s.run.findings, {h.name for h in s.run.hosts}) for s in sources]
        shared: dict[str, Finding] = {}
        for findings, names in self._parts:
            for f in _lines(findings, names, own=False):
                if f.key not in shared or STATUS_ORDER.index(f.status) < STATUS_ORDER.index(
                    shared[f.key].status
                ):
                    shared[f.key] = f
        self._shared = [shared[k] for k in sorted(shared)]
        self.catalog = compact.Catalog(items=compact.pack_items())  # the items this scanner numbers
        for findings, _ in self._parts:  # one pack (checked): the sources' catalogs agree
            part = compact.catalog_of(findings)
            for control, entry in part.controls.items():
                self.catalog.controls.setdefault(control, entry)
            for check, entry in part.checks.items():
                self.catalog.checks.setdefault(check, entry)

    def __iter__(self) -> Iterator[Finding]:
        for findings, names in self._parts:
            yield from _lines(findings, names, own=True)
        yield from self._shared

    def __len__(self) -> int:
        return self.tally.total

    def __contains__(self, item: object) -> bool:
        return any(f == item for f in self)

    @cached_property
    def tally(self) -> Tally:
        return Tally.of(self)


class _Raws(Mapping[str, bytes]):
    """Each assessed host's raw facts, read from its source bundle only when asked for."""

    def __init__(self, sources: list[_Source]) -> None:
        self._paths = {
            h.name: s.folder / h.evidence_file
            for s in sources
            for h in s.run.hosts
            if h.assessed and h.evidence_file
        }

    def __getitem__(self, name: str) -> bytes:
        return self._paths[name].read_bytes()

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


def _waivers(sources: list[_Source]) -> dict[str, list[dict[str, Any]]]:
    best: dict[str, tuple[int, dict[str, Any]]] = {}
    for s in sources:
        for state, entries in s.run.envelope.get("waivers", {}).items():
            rank = _WAIVER_PRECEDENCE.index(state) if state in _WAIVER_PRECEDENCE else len(_WAIVER_PRECEDENCE)
            for w in entries:
                found = best.get(w["id"])
                count = int(w.get("findings", 0)) + (int(found[1].get("findings", 0)) if found else 0)
                if found is None or rank < found[0]:
                    best[w["id"]] = (rank, dict(w))
                best[w["id"]][1]["findings"] = count
    out: dict[str, list[dict[str, Any]]] = {state: [] for state in _WAIVER_PRECEDENCE}
    for rank, entry in sorted(best.values(), key=lambda re: re[1]["id"]):
        out[_WAIVER_PRECEDENCE[rank] if rank < len(_WAIVER_PRECEDENCE) else "not_applied"].append(entry)
    return out


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _envelope(sources: list[_Source], operator: str, operator_role: str) -> dict[str, Any]:
    envs = [s.run.envelope for s in sources]
    scopes = [e.get("scope", {}) for e in envs]
    inventories = {e.get("hashes", {}).get("inventory", "") for e in envs}
    excluded = {x["host"]: x for sc in scopes for x in sc.get("excluded", [])}
    since: dict[str, str] = {}
    for e in envs:
        for key, day in e.get("open_since", {}).items():
            since[key] = min(day, since.get(key, day))
    return {
        "operator": operator or os.environ.get("USER", "") or "unknown",
        "operator_role": operator_role,
        "scanner_host": os.uname().nodename,
        "scanner_sha256": evidence.scanner_digest(),
        "time_sync": timesync.state(),
        "merged_at": datetime.now(JST).replace(microsecond=0).isoformat(),
        "hashes": {
            **envs[0].get("hashes", {}),
            "inventory": inventories.pop() if len(inventories) == 1 else "",
        },
        "scope": {
            "limit": sorted({t for sc in scopes for t in sc.get("limit", [])}),
            "hosts_in_scope": [h for sc in scopes for h in sc.get("hosts_in_scope", [])],
            "targets": [t for sc in scopes for t in sc.get("targets", [])],
            "excluded": [excluded[h] for h in sorted(excluded)],
            "not_assessed": [x for sc in scopes for x in sc.get("not_assessed", [])],
        },
        "waivers": _waivers(sources),
        "waiver_date": max(str(e.get("waiver_date", "")) for e in envs),
        "areas": {k: v for e in envs for k, v in e.get("areas", {}).items()},
        "roles": envs[0].get("roles", {}),
        "open_since": since,
        "sources": [
            {
                "run_id": s.run.run_id,
                "bundle": s.folder.name,
                "key_fingerprint": s.fingerprint,
                "manifest_sha256": _sha(s.folder / evidence.MANIFEST),
                "results_sha256": _sha(s.folder / evidence.RESULTS),
                "operator": e.get("operator", ""),
                "operator_role": e.get("operator_role", ""),
                "scanner_host": e.get("scanner_host", ""),
                "scanner_version": s.run.scanner_version,
                "started_at": s.run.started_at,
                "finished_at": s.run.finished_at,
                "time_sync": e.get("time_sync", {}),
                "limit": e.get("scope", {}).get("limit", []),
                "inventory_sha256": e.get("hashes", {}).get("inventory", ""),
            }
            for s, e in zip(sources, envs, strict=True)
        ],
    }


def merge(
    bundles: list[Path],
    trusted: list[Ed25519PublicKey],
    mode: str | None = None,
    operator: str = "",
    operator_role: str = "",
) -> Merged:
    """Verify each bundle against the trusted keys and merge them into one run.

    >>> merged = merge([Path("mn/20261120T020000-aa"), Path("lg/20261120T020000-bb")], [key])  # doctest: +SKIP
    """
    if not trusted:
        raise MergeError("--trust: at least one trusted public key is required")
    sources = [_load(folder, trusted) for folder in bundles]
    _common(sources)
    owner: dict[str, Path] = {}
    for s in sources:
        for h in s.run.hosts:
            if h.name in owner:
                raise MergeError(
                    f"{s.folder}/{evidence.RESULTS}: host {h.name} is also in {owner[h.name]}; "
                    "each host must come from exactly one bundle"
                )
            owner[h.name] = s.folder
    modes = {s.run.mode for s in sources}
    if mode is None and len(modes) > 1:
        raise MergeError(f"bundles were scanned in different modes ({', '.join(sorted(modes))}); pass --mode")
    started = datetime.now(JST).replace(microsecond=0)
    run = Run(
        run_id=started.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3),
        started_at=min(s.run.started_at for s in sources),
        finished_at=max(s.run.finished_at for s in sources),
        mode=mode or modes.pop(),
        scanner_version=__version__,
        inventory=" + ".join(dict.fromkeys(s.run.inventory for s in sources)),
        profile=sources[0].run.profile,
        municipality=sources[0].run.municipality,
        fail_on=min((s.run.fail_on for s in sources), key=lambda sev: Severity(sev).rank),
        hosts=tuple(h for s in sources for h in s.run.hosts),
        findings=_Joined(sources),
        envelope=_envelope(sources, operator, operator_role),
    )
    proofs: dict[str, str | bytes] = {}
    for s in sources:
        for name in (evidence.MANIFEST, evidence.SIGNATURE, evidence.ENVELOPE):
            proofs[f"sources/{s.run.run_id}/{name}"] = (s.folder / name).read_bytes()
    return Merged(run, _Raws(sources), proofs)
