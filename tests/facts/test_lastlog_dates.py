"""lastlog dates are parsed without strptime (the hot spot at scale) and exactly as strptime would."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from scanner.facts.accounts import _when

SAMPLES = [
    f"{wd} {mon} {day:>2} {hh:02d}:{mm:02d}:{ss:02d} {tz} {year}"
    for wd, mon, day, hh, mm, ss, tz, year in [
        ("Mon", "Jan", 2, 9, 0, 1, "+0900", 2026),
        ("Tue", "Feb", 29, 23, 59, 59, "-0530", 2028),
        ("Wed", "Mar", 10, 0, 0, 0, "+0000", 2025),
        ("Thu", "Apr", 1, 12, 30, 5, "+1245", 2024),
        ("Fri", "May", 31, 7, 7, 7, "-1000", 2023),
        ("Sat", "Jun", 15, 18, 1, 2, "+0100", 2022),
        ("Sun", "Jul", 4, 1, 2, 3, "+0930", 2021),
        ("Mon", "Aug", 9, 4, 5, 6, "-0300", 2020),
        ("Tue", "Sep", 22, 8, 9, 10, "+0545", 2019),
        ("Wed", "Oct", 3, 11, 12, 13, "+0200", 2018),
        ("Thu", "Nov", 19, 14, 15, 16, "+0900", 2026),
        ("Fri", "Dec", 25, 17, 18, 19, "-0800", 2015),
    ]
]


@pytest.mark.parametrize("stamp", SAMPLES)
def test_the_same_instant_and_offset_as_strptime(stamp: str) -> None:
    expected = datetime.strptime(re.sub(r" +", " ", stamp), "%a %b %d %H:%M:%S %z %Y")
    got = _when(stamp)
    assert got == expected and got.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("stamp", ["Xyz Nov 19 14:15:16 +0900 2026", "Thu Foo 19 14:15:16 +0900 2026",
                                   "Thu Nov 32 14:15:16 +0900 2026", "Thu Nov 19 25:15:16 +0900 2026"])  # fmt: skip
def test_an_unreadable_date_raises(stamp: str) -> None:
    with pytest.raises(ValueError):
        _when(stamp)
