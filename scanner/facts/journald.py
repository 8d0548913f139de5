"""Facts of subject 'journald': journal storage, time-based retention and forwarding to syslog."""

from __future__ import annotations

import re
from typing import Any

from scanner.facts import ORIGINS, Context, Subject
from scanner.rawfacts import Item, RawFacts

_CONF = "/etc/systemd/journald.conf"
# systemd reads drop-ins from these directories: a name in an earlier one hides the same name in a
# later one, and the chosen files apply in file-name order (checked against `systemd-analyze
# cat-config` in tests/reference). /lib is /usr/lib on Debian's merged /usr.
_DROPIN_DIRS = tuple(
    d + "/systemd/journald.conf.d" for d in ("/etc", "/run", "/usr/local/lib", "/usr/lib", "/lib")
)
# Upstream defaults; Debian documents its own compiled ForwardToSyslog as a commented line
# ("#ForwardToSyslog=yes"), which parse() prefers.
_DEFAULTS = {"Storage": "auto", "ForwardToSyslog": "no", "MaxRetentionSec": "0"}
_STORAGE = ("volatile", "persistent", "auto", "none")
_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*([a-zA-Z]*)")
# Seconds per unit, as systemd.time(7) defines them.
_UNITS = {
    "": 1, "s": 1, "sec": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
    "M": 2629800, "month": 2629800, "months": 2629800,
    "y": 31557600, "year": 31557600, "years": 31557600,
    "ms": 0.001, "msec": 0.001, "us": 0.000001, "usec": 0.000001,
}  # fmt: skip
_TRUE = {"yes", "true", "on", "1"}
_FALSE = {"no", "false", "off", "0"}


def seconds(span: str) -> float:
    """Convert a systemd time span ("1month", "2w 3d", "3600") to seconds."""
    text = span.strip()
    parts = _SPAN.findall(text)
    if not parts or _SPAN.sub("", text).strip():
        raise ValueError(f"bad time span {span!r}")
    total = 0.0
    for number, unit in parts:
        if unit not in _UNITS:
            raise ValueError(f"bad time unit {unit!r} in {span!r}")
        total += float(number) * _UNITS[unit]
    return total


def _dropins(raw: RawFacts) -> list[Item]:
    chosen: dict[str, Item] = {}
    for directory in _DROPIN_DIRS:
        for item in raw.glob(directory + "/*.conf"):
            folder, name = (item.path or "").rsplit("/", 1)
            if folder == directory and not name.startswith(".") and name not in chosen:
                chosen[name] = item
    return [chosen[name] for name in sorted(chosen)]


def _lines(item: Item) -> list[tuple[int, str]]:
    """Return (line number, logical line) as systemd reads them: '#' or ';' first is a comment, '\\' continues."""
    out, pending, start = [], "", 0
    for number, raw_line in enumerate(item.text.splitlines(), 1):
        line = raw_line.strip()
        if not pending and (not line or line[0] in "#;"):
            continue
        start = start if pending else number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        out.append((start, pending + line))
        pending = ""
    return out


def _journal_section(item: Item) -> dict[str, tuple[str, int]]:
    """Return the key=value settings of the [Journal] section, with the line that set each."""
    out: dict[str, tuple[str, int]] = {}
    section = ""
    for number, line in _lines(item):
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Journal" and "=" in line:
            key, value = line.split("=", 1)
            out[key.strip()] = (value.strip(), number)
    return out


def _distro_defaults(item: Item) -> dict[str, str]:
    """Return the defaults, taking ForwardToSyslog's from the shipped file's "#ForwardToSyslog=..." line.

    Only that one: its compiled default differs by distribution and Debian documents it so. A
    commented "#MaxRetentionSec=5y" or "#Storage=persistent" sets nothing, so it never counts.
    """
    out = dict(_DEFAULTS)
    for line in item.text.splitlines():
        match = re.fullmatch(r"#\s*ForwardToSyslog=(\S+)\s*", line.strip())
        if match:
            out["ForwardToSyslog"] = match.group(1)
    return out


def _bool(value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValueError(f"journald: bad boolean {value!r}")


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return ``storage, max_retention_days, forward_to_syslog``."""
    conf = raw.file(_CONF)
    if conf is None:
        return {}
    defaults = _distro_defaults(conf) if conf.exists else dict(_DEFAULTS)
    settings = dict(defaults)
    origins: dict[str, dict[str, Any]] = {}
    facts_of = {
        "Storage": "storage",
        "MaxRetentionSec": "max_retention_days",
        "ForwardToSyslog": "forward_to_syslog",
    }
    # The main file, then drop-ins in file-name order; later ones win.
    for item in [conf, *_dropins(raw)] if conf.exists else _dropins(raw):
        for key, (value, number) in _journal_section(item).items():
            if key in defaults:
                # An empty assignment restores the default.
                settings[key] = value or defaults[key]
                origins[facts_of[key]] = {"file": item.path, "line": number}
    storage = settings["Storage"]
    if storage not in _STORAGE:
        raise ValueError(f"journald: unknown Storage={storage!r}")
    retention = seconds(settings["MaxRetentionSec"])
    return {
        "storage": storage,
        # 0 means no time-based limit.
        "max_retention_days": int(retention // 86400) if retention > 0 else None,
        "forward_to_syslog": _bool(settings["ForwardToSyslog"]),
        ORIGINS: origins,
    }


SUBJECT = Subject(name="journald", parse=parse, files=(_CONF, *(d + "/*" for d in _DROPIN_DIRS)))
