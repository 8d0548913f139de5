"""Probes run in groups at once on the host (collector.sh kj_groups): each probe keeps its own output.

Each group's stream waits in a pipe until the groups before it have ended; a stream larger than a
pipe holds makes its group wait for the reader, and nothing may be lost, mixed or misattributed.
"""

from __future__ import annotations

import re

import pytest

from scanner.collect import Plan
from scanner.collect.probes import PROBES
from scanner.collect.script import PROBE_GROUPS, build_script
from tests.collect.conftest import NONCE, SHELLS, run_plan

BIG = 200_000  # more than a pipe holds (64 KiB on Linux)


def _probes(monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[bytes, int, str]]:
    """Register probes with big and small outputs, stderr and exit codes; return what each must give."""
    expected: dict[str, tuple[bytes, int, str]] = {}
    for n in range(7):
        letter = "abcdefg"[n]
        size = BIG if n % 3 == 0 else 10 + n
        command = (
            f"head -c {size} /dev/zero | tr '\\0' {letter}; echo 'e{n} \"q\"' >&2; sleep 0.0{n}; exit {n}"
        )
        monkeypatch.setitem(PROBES, f"t-g{n}", command)
        expected[f"t-g{n}"] = (letter.encode() * size, n, f'e{n} "..."\n')
    return expected


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_probes_in_groups_keep_their_own_output(monkeypatch: pytest.MonkeyPatch, shell: str) -> None:
    expected = _probes(monkeypatch)
    plan = Plan(probes=tuple(expected))
    script = build_script(plan, NONCE)
    groups = re.search(r"kj_groups ([0-9 ]+) \| kj_rest", script)
    assert groups is not None and len(groups.group(1).split()) == min(PROBE_GROUPS, len(expected)) > 1
    _, raw = run_plan(plan, SHELLS[shell])
    for name, (data, rc, stderr) in expected.items():
        probe = raw.probe(name)
        assert probe is not None, name
        assert (len(probe.data), probe.data == data, probe.rc, probe.stderr) == (len(data), True, rc, stderr)
