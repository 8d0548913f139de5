"""Facts of subject 'login_defs': the settings of /etc/login.defs (password ageing, umask, hashing)."""

from __future__ import annotations

import re
from typing import Any

from scanner.facts import ORIGINS, Context, Subject
from scanner.rawfacts import RawFacts

LOGIN_DEFS = "/etc/login.defs"


# Items shadow-utils reads as numbers (getdef_num, getdef_long, getdef_ulong).
_NUMERIC = {
    "PASS_MAX_DAYS", "PASS_MIN_DAYS", "PASS_WARN_AGE", "PASS_MIN_LEN", "PASS_MAX_LEN", "UID_MIN",
    "UID_MAX", "SYS_UID_MIN", "SYS_UID_MAX", "GID_MIN", "GID_MAX", "SYS_GID_MIN", "SYS_GID_MAX",
    "SUB_UID_MIN", "SUB_UID_MAX", "SUB_UID_COUNT", "SUB_GID_MIN", "SUB_GID_MAX", "SUB_GID_COUNT",
    "LOGIN_RETRIES", "LOGIN_TIMEOUT", "FAIL_DELAY", "ERASECHAR", "KILLCHAR", "ULIMIT",
    "SHA_CRYPT_MIN_ROUNDS", "SHA_CRYPT_MAX_ROUNDS", "YESCRYPT_COST_FACTOR", "MAX_MEMBERS_PER_GROUP",
}  # fmt: skip
_STRTOL = re.compile(r"[+-]?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)")


def _number(text: str) -> int | None:
    """Read a number as C's strtol(text, &end, 0) with nothing left over does, else None."""
    if not _STRTOL.fullmatch(text):
        return None
    digits = text.lstrip("+-")
    base = 16 if digits[:2].lower() == "0x" else 8 if digits.startswith("0") and len(digits) > 1 else 10
    number = int(digits, base)
    return -number if text.startswith("-") else number


def _value(key: str, text: str) -> int | str:
    """Return a numeric item as shadow reads it, other decimal values as int, words as strings.

    A numeric item that shadow cannot read ("60 # comment", "1e3", beyond a C int) stays the
    string it is: shadow then falls back to its default, so no check may read it as the number.
    """
    if key in _NUMERIC:
        number = _number(text)
        return number if number is not None and -(2**31) <= number <= 2**31 - 1 else text
    if re.fullmatch(r"-?(0|[1-9]\d*)", text):
        return int(text)
    return text  # octal-looking values ("022", "0600") and words


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return every `KEY value` line as `key: value`, read as shadow-utils' getdef reads it.

    The last line of a key wins; the value is the rest of the line after blanks and quotes, up to
    the next quote (a trailing "# comment" is part of it); checked against `useradd --prefix`.
    """
    item = raw.file(LOGIN_DEFS)
    if item is None or not item.exists:
        return {}
    facts: dict[str, Any] = {}
    origins: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(item.text.splitlines(), 1):
        line = line.rstrip().lstrip(" \t")
        if not line or line.startswith("#"):
            continue
        match = re.match(r"([^ \t]+)[ \t](.*)", line)
        if match is None:
            continue  # a name alone
        key, rest = match.groups()
        value = rest.lstrip(' \t"').split('"', 1)[0]
        facts[key.lower()] = _value(key, value)
        origins[key.lower()] = {"file": LOGIN_DEFS, "line": number}
    return {**facts, ORIGINS: origins} if facts else facts


SUBJECT = Subject(name="login_defs", parse=parse, files=(LOGIN_DEFS,))
