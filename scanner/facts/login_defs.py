"""Facts of subject 'login_defs': the settings of /etc/login.defs (password ageing, umask, hashing)."""

from __future__ import annotations

import re
from typing import Any

from scanner.facts import Context, Subject
from scanner.rawfacts import RawFacts

LOGIN_DEFS = "/etc/login.defs"


def _value(text: str) -> int | str:
    """Return a decimal value as int; octal-looking values ("022", "0600") and words stay strings."""
    if re.fullmatch(r"-?(0|[1-9]\d*)", text):
        return int(text)
    return text


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return every `KEY value` line as `key: value` (the last line of a key wins, as shadow's getdef does)."""
    item = raw.file(LOGIN_DEFS)
    if item is None or not item.exists:
        return {}
    facts: dict[str, Any] = {}
    for line in item.text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, rest = line.replace("\t", " ").partition(" ")
        # getdef: the value is the first word after the name, quotes and blanks skipped.
        value = re.split(r'[ \t"]', rest.lstrip(' \t"'), maxsplit=1)[0]
        facts[key.lower()] = _value(value)
    return facts


SUBJECT = Subject(name="login_defs", parse=parse, files=(LOGIN_DEFS,))
