"""``shlex.split`` without its cost on the plain lines most configuration files hold.

shlex reads one character at a time in Python; it is a sizeable part of parsing a host. A line
without quotes, backslashes or unusual whitespace splits exactly like ``str.split``, and one that
is a single quoted word (an os-release value) is that word; anything else still goes to shlex.
"""

from __future__ import annotations

import re
import shlex

# A quote, a backslash, or whitespace that shlex does not split on (str.split would).
_SPECIAL = re.compile(r"[\"'\\]|[^\S \t\r\n]")
_QUOTED = re.compile(r"[ \t\r\n]*(?:\"([^\"\\]*)\"|'([^']*)')[ \t\r\n]*")


def split(text: str) -> list[str]:
    """Return ``shlex.split(text)`` (POSIX rules, no comments).

    >>> split('PRETTY_NAME="Debian GNU/Linux 12"'.partition("=")[2])
    ['Debian GNU/Linux 12']
    """
    if _SPECIAL.search(text) is None:
        return text.split()
    quoted = _QUOTED.fullmatch(text)
    if quoted is not None:
        double, single = quoted.groups()
        return [double if double is not None else single]
    return shlex.split(text)
