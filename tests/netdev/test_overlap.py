"""The address index behind the shadowed-rule pass: the same answers as comparing every pair."""

from __future__ import annotations

import random

from benchmarks.netdev_rules import every_pair  # the pass as it was: the reference
from scanner.netdev import reach
from scanner.netdev.model import ALL_ADDRESSES, Device, Range, Rule, RuleSet, Service
from scanner.netdev.overlap import Index, blocks


def _interval(rnd: random.Random) -> Range:
    if rnd.random() < 0.05:
        return ALL_ADDRESSES
    lo = rnd.randrange(0, 2**32 - 1)
    return lo, min(2**32 - 1, lo + rnd.choice((0, 1, 255, 4095, rnd.randrange(2**20))))


def test_blocks_cover_an_interval_exactly_with_aligned_prefixes() -> None:
    rnd = random.Random(7)
    for r in [(0, 0), ALL_ADDRESSES, (10, 17), (2**32 - 2, 2**32 - 1)] + [_interval(rnd) for _ in range(300)]:
        got = blocks(r)
        assert got[0][1] == r[0]
        ends = [base + (1 << (32 - length)) - 1 for length, base in got]
        assert ends[-1] == r[1]
        assert all(base % (1 << (32 - length)) == 0 for length, base in got)  # aligned
        assert all(ends[i] + 1 == got[i + 1][1] for i in range(len(got) - 1))  # contiguous


def test_index_finds_exactly_the_overlapping_entries() -> None:
    rnd = random.Random(3)
    stored = [[_interval(rnd) for _ in range(rnd.randrange(1, 3))] for _ in range(200)]
    index = Index()
    for key, ranges in enumerate(stored):
        index.add(key, ranges)
    for _ in range(300):
        query = [_interval(rnd)]
        want = {
            k
            for k, ranges in enumerate(stored)
            if any(a <= d and c <= b for a, b in ranges for c, d in query)
        }
        assert index.overlapping(query) == want
        assert index.size(query) >= len(want)


def test_shadowed_agrees_with_comparing_every_pair() -> None:
    rnd = random.Random(11)
    nets = [(0x0A0A0000 + 256 * k, 0x0A0A0000 + 256 * k + 255) for k in range(6)] + [ALL_ADDRESSES]
    for _ in range(30):
        rules = tuple(
            Rule(
                str(n),
                n,
                rnd.choice(("permit", "deny")),
                tuple(rnd.sample(nets, rnd.randrange(1, 3))),
                tuple(rnd.sample(nets, 1)),
                (rnd.choice((Service("ip"), Service("tcp", ((443, 443),)), Service("tcp", ((1, 1024),)))),),
                enabled=rnd.random() > 0.1,
            )
            for n in range(40)
        )
        device = Device("fw", "cisco-ios", "fw", "acl")
        device.rulesets["IN"] = RuleSet("IN", rules)
        got = reach.shadowed(device)
        assert got == every_pair(device)
        assert got  # the draw has shadowed rules, so the comparison says something
