"""Remove secrets from a device configuration before it becomes evidence: password hashes, keys, communities.

Line numbers never move (findings cite them): a secret value becomes ``<redacted>`` on its own line,
and the continuation lines of a multi-line quoted value (a FortiOS private key) become empty lines.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

from scanner.rawfacts import RawFacts

MARK = "<redacted>"
# (line prefix kept, rest redacted). Words are matched case-insensitively at the start of a line.
_PATTERNS = [
    # FortiOS: set password ENC ..., set psksecret ENC ..., set private-key "-----BEGIN ..."
    re.compile(r"^(\s*set\s+[\w-]*(?:pass|secret|psk|key|token|community)[\w-]*\s+)(.+)$", re.IGNORECASE),
    # IOS / ASA: enable secret 9 ..., username x secret 9 ..., password 7 ..., snmp-server community x,
    # key-string, pre-shared-key, crypto isakmp key, tacacs/radius key, passwd ... encrypted
    re.compile(
        r"^(\s*(?:.*?\s)?(?:secret|password|passwd|key-string|pre-shared-key|community|key|md5|authentication-key)\s+)(.+)$",
        re.IGNORECASE,
    ),
    # RTX: login user NAME PASS, pp auth myname|username NAME PASS, ipsec ike pre-shared-key N text SECRET
    re.compile(r"^(\s*login user \S+\s+)(.+)$"),
    re.compile(r"^(\s*pp auth (?:myname|username) \S+\s+)(.+)$"),
]
_LEAVE = re.compile(r"^\s*(?:access-list|ip access-list|object|\d+ (?:permit|deny)|permit|deny|ip filter)\b")


def text(config: str) -> tuple[str, int]:
    """Return the configuration with secret values redacted, and how many lines were changed."""
    out: list[str] = []
    changed = 0
    open_quote = False
    for line in config.splitlines():
        if open_quote:
            out.append("")
            open_quote = not line.rstrip().endswith('"')
            continue
        if _LEAVE.match(line):
            out.append(line)
            continue
        for pattern in _PATTERNS:
            m = pattern.match(line)
            if m:
                value = m.group(2).strip()
                open_quote = value.startswith('"') and (len(value) == 1 or not value.endswith('"'))
                out.append(m.group(1) + MARK)
                changed += 1
                break
        else:
            out.append(line)
    return "\n".join(out) + ("\n" if config.endswith("\n") else ""), changed


def raw_facts(raw: RawFacts, ids: tuple[str, ...]) -> RawFacts:
    """Return the raw facts with the named items' contents redacted (their sha256 is of what is kept)."""
    items = dict(raw.items)
    total = 0
    for item_id in ids:
        item = items.get(item_id)
        if item is None or not item.exists:
            continue
        clean, changed = text(item.text)
        if changed:
            data = clean.encode("utf-8")
            items[item_id] = replace(item, data=data, size=len(data), sha256=hashlib.sha256(data).hexdigest())
            total += changed
    collector = {**raw.collector, "redacted_lines": str(total)}
    return replace(raw, items=items, collector=collector)
