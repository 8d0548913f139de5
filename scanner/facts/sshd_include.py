"""The files an sshd ``Include`` names, among the collected ones, as sshd's glob(3) finds them.

A collector that follows Include (``RawFacts.collector["follow"]`` names "sshd") collects every file
an Include names, anywhere, so a glob that matches no collected file matched nothing on the host;
a literal path it could not read is an error. An older collector read only sshd_config and
sshd_config.d: an Include elsewhere is then not known, never read as empty.
"""

from __future__ import annotations

import fnmatch

from scanner.rawfacts import Item, RawFacts

CONFIG = "/etc/ssh/sshd_config"
DROPIN_DIR = "/etc/ssh/sshd_config.d"


def include(raw: RawFacts, pattern: str, control: bool = False) -> list[Item]:
    """Return the collected files an Include pattern names, sorted as glob(3) does.

    ``control``: the line holds a carriage return or form feed, which sshd strips from the line's
    end and the collector keeps in the last path: outside sshd_config.d that is not assessed.
    """
    folder, _, base = pattern.rpartition("/")
    followed = "sshd" in raw.collector.get("follow", "").split()
    if followed and control and folder != DROPIN_DIR and pattern != CONFIG:
        raise ValueError(
            f"Include {pattern}: its line ends in \\r or \\f, which the collector keeps: not assessed"
        )
    # An older collector read sshd_config and the non-hidden files of sshd_config.d only.
    if not followed and ((pattern != CONFIG and folder != DROPIN_DIR) or base.startswith(".")):
        item = raw.file(pattern)
        if item is None or any(c in pattern for c in "*?["):
            raise ValueError(f"Include {pattern}: outside the collected files")
        return [item] if item.exists else []
    if not any(c in pattern for c in "*?["):
        item = raw.file(pattern)
        if item is None and (not followed or (folder == DROPIN_DIR and not base.startswith("."))):
            return []  # sshd_config.d is always listed whole (its non-hidden files): it is not there
        if item is None:
            raise ValueError(f"Include {pattern}: not collected (unreadable?)")
        return [item] if item.exists else []  # sshd accepts a literal path that matches nothing
    return [item for item in raw.glob(pattern) if _glob_match(pattern, item.path or "")]


def _glob_match(pattern: str, path: str) -> bool:
    """Match as glob(3): per path component, and a wildcard never matches a leading dot."""
    want, have = pattern.split("/"), path.split("/")
    return len(want) == len(have) and all(
        fnmatch.fnmatchcase(h, w) and not (h.startswith(".") and not w.startswith("."))
        for w, h in zip(want, have, strict=True)
    )
