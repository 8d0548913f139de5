"""Facts of subject 'screenlock': enforced idle locks of shells (readonly TMOUT) and GNOME sessions (dconf)."""

from __future__ import annotations

import re
from typing import Any

from scanner.facts import Context, Subject, lines
from scanner.rawfacts import Item, RawFacts

_DCONF = "/etc/dconf/db/local.d/*"
_LOCKS = "/etc/dconf/db/local.d/locks/*"
_ASSIGN = re.compile(
    r"(?:^|[\s;])(?:export\s+|readonly\s+|declare\s+-\w+\s+|typeset\s+-\w+\s+)*TMOUT=['\"]?(\d+)"
)
_READONLY = re.compile(
    r"(?:^|[\s;])(?:readonly|declare\s+-\w*r\w*|typeset\s+-\w*r\w*)\s+(?:[^\s;]+\s+)*TMOUT\b"
)
_IDLE = ("org/gnome/desktop/session", "idle-delay")
_LOCK = ("org/gnome/desktop/screensaver", "lock-enabled")
_LOCK_DELAY = ("org/gnome/desktop/screensaver", "lock-delay")


def _shell_files(raw: RawFacts) -> list[Item] | None:
    """Return the files a login shell reads, in order (/etc/profile sources profile.d/*.sh)."""
    profile = raw.file("/etc/profile")
    if profile is None:
        return None
    items = [profile, *(it for it in raw.glob("/etc/profile.d/*") if (it.path or "").endswith(".sh"))]
    bashrc = raw.file("/etc/bash.bashrc")
    if bashrc is not None:
        items.append(bashrc)
    return [it for it in items if it.exists]


def _tmout(items: list[Item]) -> int | None:
    """Return TMOUT once it is made readonly (later assignments then fail in the shell)."""
    value: int | None = None
    for item in items:
        for line in lines(item):
            assigned = _ASSIGN.search(line)
            if assigned:
                value = int(assigned.group(1))
            if _READONLY.search(line):
                # TMOUT=0 disables the timeout: that is no lock at all.
                return value if value else None
    return None


def _dconf(raw: RawFacts) -> tuple[dict[tuple[str, str], str], set[tuple[str, str]]]:
    """Return the keyfile settings {(path, key): value} and the locked (path, key) pairs."""
    settings: dict[tuple[str, str], str] = {}
    locked: set[tuple[str, str]] = set()
    for item in raw.glob(_DCONF):
        if "/locks/" in (item.path or ""):
            for line in lines(item):
                path, _, key = line.strip().strip("/").rpartition("/")
                locked.add((path, key))
            continue
        section = ""
        for line in lines(item):
            if line.startswith("["):
                section = line.strip("[]").strip("/")
            elif "=" in line:
                key, value = line.split("=", 1)
                settings[(section, key.strip())] = value.strip()
    return settings, locked


def _uint(value: str | None) -> int | None:
    if value is None:
        return None
    match = re.fullmatch(r"(?:uint32\s+)?(\d+)", value)
    if match is None:
        raise ValueError(f"dconf: bad number {value!r}")
    return int(match.group(1))


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return ``tmout_seconds, gnome_idle_delay, gnome_lock_enabled, idle_lock_seconds``."""
    out: dict[str, Any] = {}
    enforced: list[int] = []
    shell = _shell_files(raw)
    if shell is None and not raw.glob(_DCONF):
        return {}  # nothing collected
    if shell is not None:
        tmout = _tmout(shell)
        out["tmout_seconds"] = tmout
        if tmout:
            enforced.append(tmout)
    settings, locked = _dconf(raw)
    idle = _uint(settings.get(_IDLE))
    out["gnome_idle_delay"] = idle or None  # 0 = never idle
    lock = settings.get(_LOCK)
    out["gnome_lock_enabled"] = None if lock is None else lock == "true"
    # GNOME enforces only what is locked; a user could otherwise change it.
    if idle and lock == "true" and {_IDLE, _LOCK} <= locked:
        enforced.append(idle + (_uint(settings.get(_LOCK_DELAY)) or 0))
    out["idle_lock_seconds"] = min(enforced) if enforced else None
    return out


SUBJECT = Subject(
    name="screenlock",
    parse=parse,
    files=("/etc/profile", "/etc/profile.d/*", "/etc/bash.bashrc", _DCONF, _LOCKS),
)
