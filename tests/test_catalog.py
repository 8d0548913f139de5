"""Meta-tests that guard the catalog: ids, cases, references, parameter sources."""

from __future__ import annotations

import re

from scanner.content import cases_dir
from scanner.policy import Pack
from scanner.verify import case_files, coverage, run_case


def test_check_ids_are_kebab_case(pack: Pack) -> None:
    bad = [c for c in pack.checks if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", c)]
    assert not bad


def test_control_ids_follow_the_catalog(pack: Pack) -> None:
    bad = [c for c in pack.controls if not re.fullmatch(r"[A-Z]{2,4}-\d{2}", c)]
    assert not bad


def test_every_check_has_a_pass_and_a_fail_case(pack: Pack) -> None:
    results = [r for path in case_files(cases_dir()) for r in run_case(path, pack)]
    seen = coverage(pack, results)
    lacking = {cid: sorted({"pass", "fail"} - s) for cid, s in seen.items() if not {"pass", "fail"} <= s}
    assert not lacking, f"checks without pass/fail cases: {lacking}"


def test_every_check_is_used_by_a_control(pack: Pack) -> None:
    used = {c for control in pack.controls.values() for c in control.checks}
    assert set(pack.checks) <= used, sorted(set(pack.checks) - used)


def test_every_parameter_has_a_source(pack: Pack) -> None:
    missing = [
        f"{c.id}.{p.name}" for c in pack.controls.values() for p in c.params.values() if not p.source.strip()
    ]
    assert not missing


def test_every_control_has_bilingual_titles_and_remediation(pack: Pack) -> None:
    for control in pack.controls.values():
        assert control.title_ja and control.title_en, control.id
        if not control.manual:
            assert control.remediation_ja and control.remediation_en, control.id
        else:
            assert control.attestation_ja and control.attestation_en, control.id


def test_every_machine_area_has_two_controls(pack: Pack) -> None:
    areas = {"logging", "access_control", "network", "backup", "mfa", "dlp", "malware"}
    counts = {a: sum(1 for c in pack.controls.values() if c.area == a and not c.manual) for a in areas}
    assert all(n >= 2 for n in counts.values()), counts


def test_one_policy_file_per_area(pack: Pack) -> None:
    files: dict[str, set[str]] = {}
    for control in pack.controls.values():
        files.setdefault(control.area, set()).add(control.file)
    assert all(len(f) == 1 for f in files.values()), {a: sorted(f) for a, f in files.items() if len(f) > 1}
