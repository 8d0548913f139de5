"""sshd Match blocks for the connections the controls care about: root, and any user, from any address.

A block counts for a connection when its criteria can all hold for it: ``User`` is evaluated as
sshd's match_pattern_list() does (a list of only negations matches nobody), ``Group`` membership
is not known so a Group criterion can hold, ``Address``/``Host``/``LocalAddress`` can hold for some
client unless the list holds only negations, ``LocalPort`` holds for a port sshd listens on.
"any user" means a user kijun knows nothing about: a block naming users only literally (``Match
User alice``) is that user's exception and does not count for it; root is always evaluated.
For each keyword, the values a connection may get are the global value and the value of every
block that can apply (in whatever order the blocks come), so a check that needs every value to
be right never passes on a Match block it did not read.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from scanner.facts import origin


def _pairs(criteria: str) -> list[tuple[str, str]]:
    words = criteria.split()
    return [(words[i].lower(), words[i + 1]) for i in range(0, len(words) - 1, 2)]


def _pattern_list(name: str, patterns: str) -> bool:
    """Match a name against a comma list with negations, as OpenSSH's match_pattern_list() does."""
    found = False
    for entry in patterns.split(","):
        negated = entry.startswith("!")
        pattern = entry[1:] if negated else entry
        if fnmatch.fnmatchcase(name, pattern.replace("[", "[[]")):
            if negated:
                return False
            found = True
    return found


def _some_other_user(patterns: str) -> bool:
    """Tell whether a user list can match a user kijun does not know (a positive wildcard)."""
    entries = patterns.split(",")
    return any(not e.startswith("!") and any(c in e for c in "*?") for e in entries)


def may_apply(criteria: str, user: str | None, ports: list[str]) -> bool:
    """Tell whether a Match block's criteria can all hold for a connection of ``user`` (None: any user)."""
    if criteria.lower() == "all":
        return True
    for attrib, arg in _pairs(criteria):
        if attrib == "user":
            ok = _pattern_list(user, arg) if user is not None else _some_other_user(arg)
        elif attrib in ("address", "host", "localaddress"):
            ok = any(not e.startswith("!") for e in arg.split(","))
        elif attrib == "localport":
            ok = str(int(arg)) in ports
        else:  # group, rdomain: not known here, so they can hold
            ok = True
        if not ok:
            return False
    return True


def connections(
    values: dict[str, Any], blocks: list[dict[str, Any]], global_origins: dict[str, Any], two_factor: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return facts ``for_root`` and ``for_any`` (keyword -> possible values) and their origins."""
    ports = [str(p) for p in values.get("port", ["22"])]
    facts: dict[str, Any] = {}
    origins: dict[str, Any] = {}
    for name, user in (("for_root", "root"), ("for_any", None)):
        applying = [b for b in blocks if may_apply(b["criteria"], user, ports)]
        possible: dict[str, list[Any]] = {}
        for keyword, value in values.items():
            possible[keyword] = [value]
            if keyword in global_origins:
                origins[f"{name}.{keyword}"] = global_origins[keyword]
            for block in applying:
                if keyword in block["settings"] and block["settings"][keyword] not in possible[keyword]:
                    if len(possible[keyword]) == 1:  # the first value that differs is where to look
                        where = block["origins"].get(keyword)
                        origins[f"{name}.{keyword}"] = where or origin(block["file"], block["line"])
                    possible[keyword].append(block["settings"][keyword])
        methods = possible.get("authenticationmethods", [["any"]])
        possible["two_factor"] = sorted({bool(two_factor(m)) for m in methods})
        if f"{name}.authenticationmethods" in origins:
            origins[f"{name}.two_factor"] = origins[f"{name}.authenticationmethods"]
        possible["match_blocks"] = [f"{b['file']}:{b['line']} Match {b['criteria']}" for b in applying]
        facts[name] = possible
    return facts, origins
