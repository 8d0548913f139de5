"""Differential test of the PAM interpreter: generated stacks, run by kijun and by real Linux-PAM.

Reference: pamtester (Debian package) authenticating through libpam 1.5 with the real modules
(pam_unix, pam_google_authenticator, pam_faillock, pam_succeed_if, ...), in a private mount
namespace (tests/facts/pam_truth.py): two users, one with a TOTP secret, try every combination of
a right or wrong password and code. kijun must predict every login exactly, and its verdict "two
factors required" must equal the truth: no login with one factor kind alone (or none) succeeded.
Needs root, unshare and pamtester (tools/test.sh installs it). ``KIJUN_PAM_STACKS`` sets the count.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from scanner.facts.pam_conf import stack
from scanner.facts.pam_run import Scenario, one_factor_path, runs
from scanner.rawfacts import build_raw
from tests.facts import pam_gen

SEED = 20261207
COUNT = int(os.environ.get("KIJUN_PAM_STACKS", "300"))
TRUTH = Path(__file__).parent / "pam_truth.py"
MODULE_DIR = Path("/usr/lib/x86_64-linux-gnu/security")
ANSWERS = ((True, True), (True, False), (False, True), (False, False))


def installed() -> frozenset[str]:
    return frozenset(p.name.removesuffix(".so") for p in MODULE_DIR.glob("*.so"))


def real(cases: list[dict[str, str]], tmp: Path) -> list[dict[str, list[list[bool]]]]:
    """Return pamtester's logins for each case, two namespaces in parallel."""
    halves = [cases[: len(cases) // 2], cases[len(cases) // 2 :]]

    def run(index: int) -> list[dict[str, list[list[bool]]]]:
        (tmp / f"in{index}.json").write_text(json.dumps(halves[index]))
        subprocess.run(
            [
                "unshare",
                "-m",
                sys.executable,
                str(TRUTH),
                str(tmp / f"in{index}.json"),
                str(tmp / f"out{index}.json"),
            ],
            check=True,
            timeout=1800,
        )
        out: list[dict[str, list[list[bool]]]] = json.loads((tmp / f"out{index}.json").read_text())
        return out

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(run, [0, 1])
    return first + second


def predicted(files: dict[str, str]) -> tuple[dict[str, list[list[bool]]], bool]:
    """Return kijun's logins (as pam_truth reports them) and its two-factor verdict."""
    raw = build_raw(
        files={f"/etc/pam.d/{name}": text for name, text in files.items()},
        absent=["/etc/pam.d/kjmissing", "/etc/pam.d/other"],
    )
    auth = stack(raw, "kjgen", "auth")
    modules = installed()
    logins: dict[str, list[list[bool]]] = {}
    for user, uid in pam_gen.USERS.items():
        enrolled = user == "kjenrolled"
        logins[user] = []
        for pw_ok, code_ok in ANSWERS if enrolled else ANSWERS[1::2]:
            presented = frozenset(n for n, ok in (("password", pw_ok), ("code", code_ok)) if ok)
            scenario = Scenario(presented, enrolled, user, uid, installed=modules)
            outcomes = {success for success, _ in runs(auth, scenario)}
            assert len(outcomes) == 1, f"ambiguous for {user} {presented}: {files}"
            if outcomes.pop():
                logins[user].append([pw_ok, code_ok])
    verdict = all(
        one_factor_path(auth, user, uid, (user == "kjenrolled",), modules) is None
        for user, uid in pam_gen.USERS.items()
    )
    return logins, verdict


def truth_verdict(logins: dict[str, list[list[bool]]]) -> bool:
    """Two factors required: no login with fewer than both right succeeded, for either user."""
    return not any(not (pw and code) for pw, code in logins["kjenrolled"]) and not logins["kjbare"]


def test_interpreter_agrees_with_real_pam(tmp_path: Path) -> None:
    cases = pam_gen.stacks(SEED, COUNT)
    truth = real(cases, tmp_path)
    wrong_logins, wrong_verdicts, false_passes = [], [], []
    for files, got in zip(cases, truth, strict=True):
        logins, verdict = predicted(files)
        if logins != got:
            wrong_logins.append((files, logins, got))
        if verdict != truth_verdict(got):
            wrong_verdicts.append(files)
            if verdict:
                false_passes.append(files)
    two = sum(truth_verdict(g) for g in truth)
    print(
        f"\nPAM differential (pamtester): {COUNT} stacks, {two} require two factors;"
        f" logins agree {COUNT - len(wrong_logins)}/{COUNT}, verdicts agree"
        f" {COUNT - len(wrong_verdicts)}/{COUNT}, false passes {len(false_passes)}"
    )
    assert not false_passes, json.dumps(false_passes[:3], indent=1)
    assert not wrong_logins, json.dumps(wrong_logins[:3], indent=1)
    assert not wrong_verdicts
