"""The Encoder's lines are exactly the plain encoder's, whatever it remembered from earlier findings.

The Encoder works out once what the catalog says of each control and check and is reused by a
worker for host after host (``host_lines``); ``findinglines._line`` calls json's C encoder
directly. Each is held here to the plain path, ``dump_line(encode(f.to_json(), ...))``, over every
finding of the example ward and over seeded variations of them (values that compare equal in
Python but are written differently in JSON among them), with one encoder across all hosts.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from scanner import compact, content, findinglines
from scanner import run as runmod
from scanner.inventory import load
from scanner.policy import load_pack
from scanner.results import CheckResult, Finding, Run, Severity, Status, WaiverRef
from scanner.waivers import load_waivers

AS_OF = date(2026, 11, 20)
# Values equal to one another in Python (1 == 1.0 == True, 0.0 == -0.0, dicts in any order) whose
# JSON differs: an encoder remembering a line by equality would write the wrong one.
ODD: list[Any] = [
    True, 1, 1.0, False, 0, 0.0, -0.0, None, "", "1", "改行\n\t\x1b", 10**30, 1e16, 0.1 + 0.2,
    math.inf, [], [1, True], (1, True), {}, {"a": 1, "b": 2}, {"b": 2, "a": 1}, {"k": [1.0, {"z": None}]},
]  # fmt: skip


FIELDS = (
    *("status", "severity", "area", "title", "who", "message", "citations", "params", "remediation"),
    *("waiver", "attestation", "attested", "checks", "checks", "checks"),
)


@pytest.fixture(scope="module")
def ward() -> tuple[Run, Any]:
    inv = load(content.example_inventory())
    pack = load_pack(inv.profile or "base")
    waivers = load_waivers(inv.waivers_dir, pack)
    return runmod.scan(inv, pack, waivers, runmod.Options(today=AS_OF))[0], pack


def _plain(findings: list[Finding], catalog: compact.Catalog, hosts: dict[str, Any]) -> list[bytes]:
    """Each finding's line the plain way: ``encode`` over its ``to_json()``, evidence numbered per host."""
    out, host, seen = [], None, compact.Evidence()
    for f in findings:
        if f.host != host:
            host, seen = f.host, compact.Evidence(catalog.items)
        doc = findinglines.encode(f.to_json(), catalog, hosts.get(f.host, {}), seen)
        out.append(findinglines.dump_line(doc))
    return out


def _by_host(findings: list[Finding]) -> list[tuple[str, list[Finding]]]:
    groups: list[tuple[str, list[Finding]]] = []
    for f in findings:
        if not groups or groups[-1][0] != f.host:
            groups.append((f.host, []))
        groups[-1][1].append(f)
    return groups


def _assert_same(findings: list[Finding], catalog: compact.Catalog, hosts: dict[str, Any]) -> None:
    want = _plain(findings, catalog, hosts)
    one = compact.Encoder(catalog, hosts)  # one encoder, finding after finding
    assert [one.line(f) for f in findings] == want
    reused = compact.Encoder(catalog, {})  # one encoder, host after host (as a worker uses it)
    got = b"".join(reused.host_lines(h, hosts.get(h, {}), fs) for h, fs in _by_host(findings))
    assert got == b"".join(want)
    for line in want:  # and every line is one JSON document ending the line
        assert line.endswith(b"\n") and isinstance(json.loads(line), dict)


def _vary(f: Finding, rng: random.Random) -> Finding:
    """Return the finding with a few fields changed at random (seeded)."""
    change: dict[str, Any] = {}
    for _ in range(rng.randint(1, 4)):
        field = rng.choice(FIELDS)
        if field == "status":
            change["status"] = rng.choice(list(Status))
        elif field == "severity":
            change["severity"] = rng.choice(list(Severity))
        elif field == "area":
            change["area"] = rng.choice(["", f.area, "別の分野"])
        elif field == "title":
            change[rng.choice(["title_ja", "title_en"])] = rng.choice(["", "another", f.title_en])
        elif field == "who":
            change[rng.choice(["zone", "role", "owner"])] = rng.choice(["", "mynumber", "elsewhere"])
        elif field == "message":
            change["message"] = rng.choice(["", "attestation required", "outside the control's scope", "x"])
        elif field == "citations":
            change["citations"] = rng.choice([(), f.citations[:1], (*f.citations, {"doc": "d"})])
        elif field == "params":
            change["params"] = rng.choice([{}, {"x": rng.choice(ODD)}, dict(reversed(f.params.items()))])
        elif field == "remediation":
            change[rng.choice(["remediation_ja", "remediation_en"])] = rng.choice(["", "do this"])
        elif field == "waiver":
            change["waiver"] = rng.choice([None, WaiverRef("W-1", rng.random() < 0.5, "why", "2027-01-01")])
        elif field == "attestation":
            change["attestation"] = rng.choice(["", "what to attest"])
        elif field == "attested":
            change["attested"] = rng.choice([None, {}, {"answer": rng.choice(ODD)}])
        else:
            change["checks"] = tuple(_vary_check(c, rng) for c in _shuffled(f.checks, rng))
    return replace(f, **change)


def _shuffled(checks: tuple[CheckResult, ...], rng: random.Random) -> list[CheckResult]:
    out = list(checks)
    if out and rng.random() < 0.3:
        rng.shuffle(out)  # a check out of its catalog place names its id
    if out and rng.random() < 0.2:
        out.append(replace(out[0], check_id="not-in-the-catalog"))
    return out


def _vary_check(c: CheckResult, rng: random.Random) -> CheckResult:
    change: dict[str, Any] = {}
    for _ in range(rng.randint(0, 3)):
        field = rng.choice(["status", "title", "observed", "expected", "message", "evidence", "origin"])
        if field == "status":
            change["status"] = rng.choice(list(Status))
        elif field == "title":
            change[rng.choice(["title_ja", "title_en"])] = rng.choice(["", "other"])
        elif field in ("observed", "expected"):
            change[field] = rng.choice(ODD)
        elif field == "message":
            change["message"] = rng.choice(["", "1 of 4 items fail"])
        elif field == "evidence":
            change["evidence"] = rng.choice([(), c.evidence[:1], ("file:/etc/login.defs", "file:/new")])
        else:
            change["origin"] = rng.choice(
                [None, {}, {"file": "/etc/x", "line": 1}, {"line": 1, "file": "/etc/x"}]
            )
    return replace(c, **change)


def _catalogs(findings: list[Finding], pack: Any) -> list[compact.Catalog]:
    """The pack's catalog, one made from findings, an empty one and one of odd entries."""
    first = compact.catalog_of_pack(pack)
    controls = list(first.controls.items())
    odd_controls = (
        {
            cid: {
                **entry,
                "title": "not a pair",
                "citations": tuple(entry["citations"]),
                "remediation": {"ja": ""},
            }
            for cid, entry in controls[::3]
        }
        | {  # a pair and one key more equals no finding's pair
            cid: {
                **entry,
                "title": {**entry["title"], "x": 1},
                "remediation": {**entry["remediation"], "x": 1},
            }
            for cid, entry in controls[1::3]
        }
    )
    checks = list(first.checks.items())
    odd_checks = {
        cid: {**entry, "evidence": ("file:/etc/login.defs",), "origin": {}, "observed": 1}
        for cid, entry in checks[::3]
    } | {cid: {**entry, "title": {**entry["title"], "x": 1}, "evidence": []} for cid, entry in checks[1::3]}
    odd = compact.Catalog({**first.controls, **odd_controls}, {**first.checks, **odd_checks}, first.items)
    return [first, compact.catalog_of(findings), compact.Catalog(), odd]


def test_encoder_lines_are_the_plain_encoders_over_the_example_ward(ward: tuple[Run, Any]) -> None:
    run, pack = ward
    findings = list(run.findings)
    hosts = {h.name: compact.host_base(h) for h in run.hosts}
    for catalog in _catalogs(findings, pack):
        _assert_same(findings, catalog, hosts)
        _assert_same(findings, catalog, {})  # hosts without a record: the catalog's defaults apply


@pytest.mark.parametrize("seed", range(6))
def test_encoder_lines_are_the_plain_encoders_over_seeded_variations(
    ward: tuple[Run, Any], seed: int
) -> None:
    run, pack = ward
    rng = random.Random(seed)
    findings = [_vary(f, rng) if rng.random() < 0.6 else f for f in run.findings]
    hosts = {h.name: compact.host_base(h) for h in run.hosts}
    if seed % 2:  # a host's record that says something else than its findings
        hosts = {name: {**base, "owner": "someone"} for name, base in hosts.items()}
    for catalog in _catalogs(findings, pack):
        _assert_same(findings, catalog, hosts)


def test_a_reused_encoder_numbers_evidence_anew_for_each_host(ward: tuple[Run, Any]) -> None:
    run, pack = ward
    catalog = compact.catalog_of_pack(pack)
    groups = _by_host(list(run.findings))
    (name, fs), (other, more) = groups[0], groups[1]
    encoder, fresh = compact.Encoder(catalog, {}), compact.Encoder(catalog, {})
    first = encoder.host_lines(name, {}, fs)
    encoder.host_lines(other, {}, more)
    assert encoder.host_lines(name, {}, fs) == first == fresh.host_lines(name, {}, fs)
    assert b'"evidence":[' in first  # the host's first lists are written out, not numbered from before


@pytest.mark.parametrize("value", [*ODD, {"line": ODD}, [{"n": math.nan}], "\u2028\ud800"])
def test_the_direct_json_encoder_writes_what_json_does(value: Any) -> None:
    assert findinglines._line(value) == findinglines._dump(value)
    assert findinglines._line({"v": value, "w": [value]}) == findinglines._dump({"v": value, "w": [value]})


def test_the_direct_json_encoder_refuses_what_json_refuses() -> None:
    for value in ({"x": object()}, {"x": {1, 2}}, {(1, 2): 1}):
        with pytest.raises(TypeError):
            findinglines._dump(value)
        with pytest.raises(TypeError):
            findinglines._line(value)
