"""facts/words.split is shlex.split: its shortcuts (plain lines, one quoted word) change no answer."""

from __future__ import annotations

import random
import shlex

import pytest

from scanner.facts.words import split


def _either(text: str) -> object:
    try:
        return shlex.split(text)
    except ValueError as exc:
        return ("error", str(exc))


def _ours(text: str) -> object:
    try:
        return split(text)
    except ValueError as exc:
        return ("error", str(exc))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  /var/log/syslog /var/log/messages  ",
        '"Debian GNU/Linux 12 (bookworm)"',
        "'it''s'",
        '"a"b',
        "a\x0bb",  # str.split would split here, shlex does not
        "a\xa0b",
        '"unterminated',
        "-a always,exit -F arch=b64 -S adjtimex -k time-change",
    ],
)
def test_known_lines_split_as_shlex_splits_them(text: str) -> None:
    assert _ours(text) == _either(text)


def test_random_lines_split_as_shlex_splits_them() -> None:
    alphabet = list("ab \t\r\n\"'\\#$=\x0b\x0c\x1c\xa0é")
    rng = random.Random(12)
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 9)))
        assert _ours(text) == _either(text), repr(text)
