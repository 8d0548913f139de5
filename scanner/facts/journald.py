"""Facts of subject 'journald': journal storage, time-based retention and forwarding to syslog."""

from __future__ import annotations

import re
from typing import Any

from scanner.facts import Context, Subject, lines
from scanner.rawfacts import Item, RawFacts

_CONF = "/etc/systemd/journald.conf"
_DROPINS = "/etc/systemd/journald.conf.d/*.conf"
# Upstream defaults; a distribution documents its own compiled default as a commented line
# ("#ForwardToSyslog=yes" on Debian), which parse() prefers.
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


def _journal_section(item: Item) -> dict[str, str]:
    """Return the key=value settings of the [Journal] section."""
    out: dict[str, str] = {}
    section = ""
    for line in lines(item):
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Journal" and "=" in line:
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
    return out


def _distro_defaults(item: Item) -> dict[str, str]:
    """Return the defaults the shipped file documents as commented "#Key=value" lines."""
    out = dict(_DEFAULTS)
    for line in item.text.splitlines():
        match = re.fullmatch(r"#\s*(\w+)=(\S+)\s*", line.strip())
        if match and match.group(1) in out:
            out[match.group(1)] = match.group(2)
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
    # The main file, then drop-ins in file-name order; later ones win.
    for item in [conf, *raw.glob(_DROPINS)] if conf.exists else raw.glob(_DROPINS):
        settings.update(_journal_section(item))
    # An empty assignment restores the default.
    settings = {key: value or defaults[key] for key, value in settings.items() if key in defaults}
    storage = settings["Storage"]
    if storage not in _STORAGE:
        raise ValueError(f"journald: unknown Storage={storage!r}")
    retention = seconds(settings["MaxRetentionSec"])
    return {
        "storage": storage,
        # 0 means no time-based limit.
        "max_retention_days": int(retention // 86400) if retention > 0 else None,
        "forward_to_syslog": _bool(settings["ForwardToSyslog"]),
    }


SUBJECT = Subject(name="journald", parse=parse, files=(_CONF, "/etc/systemd/journald.conf.d/*"))
