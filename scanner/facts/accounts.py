"""Facts of subject 'accounts': local users and groups, their password state, age and last login."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import Any

from scanner.facts import ORIGINS, Context, Subject, elapsed
from scanner.rawfacts import Item, RawFacts

PASSWD = "/etc/passwd"
GROUP = "/etc/group"
STATES = ("set", "locked", "empty", "nopassword")
_NO_LOGIN_SHELLS = {"nologin", "false", "sync", "shutdown", "halt"}
_LASTLOG_DATE = re.compile(r"(\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d [+-]\d{4} \d{4})\s*$")
_DAY = 86400


def _probe_ok(item: Item | None) -> bool:
    return item is not None and item.rc == 0


def _passwd(text: str) -> list[dict[str, Any]]:
    """Return passwd entries (name, uid, gid, home, shell and the password field's own state)."""
    users = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith(("#", "+", "-")):
            continue
        fields = line.split(":")
        if len(fields) != 7 or not fields[2].isdigit() or not fields[3].isdigit():
            raise ValueError(f"/etc/passwd line {number}: malformed entry")
        users.append(
            {
                "name": fields[0],
                "field": fields[1],
                "uid": int(fields[2]),
                "gid": int(fields[3]),
                "home": fields[5],
                "shell": fields[6],
                "line": number,
            }
        )
    return users


def _shadow_state(text: str) -> dict[str, dict[str, Any]]:
    """Return the reduced shadow lines (name:state:lastchg:min:max:warn:inactive:expire) by name."""
    out = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split(":")
        if len(fields) != 8 or fields[1] not in STATES:
            raise ValueError(f"shadow-state: malformed line {line!r}")
        numbers = [int(f) if f else None for f in fields[2:]]
        out[fields[0]] = {"state": fields[1], "lastchg": numbers[0], "max": numbers[2]}
    return out


def _lastlog(text: str, now: datetime) -> dict[str, int | None]:
    """Return whole days since each user's last login (None: never) from `LC_ALL=C lastlog`."""
    out: dict[str, int | None] = {}
    for line in text.splitlines()[1:]:  # the first line is the column header
        if not line.strip():
            continue
        name = line.split()[0]
        if "**Never logged in**" in line:
            out[name] = None
            continue
        m = _LASTLOG_DATE.search(line)
        if m is None:
            raise ValueError(f"lastlog: unreadable line {line!r}")
        # A login after the collection time (beyond the allowed clock skew) is a wrong clock or an
        # edited record, not a negative age: the subject is an error, never a fresh login.
        out[name] = int(elapsed(_when(m.group(1)), now, f"lastlog: last login of {name}") // _DAY)
    return out


_WEEKDAYS = frozenset(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}


def _when(stamp: str) -> datetime:
    """Parse lastlog's C-locale date (``Mon Nov  2 09:00:01 +0900 2026``) without strptime (hot path)."""
    weekday, month, day, clock, offset, year = stamp.split()
    if weekday not in _WEEKDAYS or month not in _MONTHS:
        raise ValueError(f"lastlog: unreadable date {stamp!r}")
    hour, minute, second = (int(part) for part in clock.split(":"))
    return datetime(int(year), _MONTHS[month], int(day), hour, minute, second, tzinfo=_zone(offset))


@cache
def _zone(offset: str) -> timezone:
    minutes = int(offset[1:3]) * 60 + int(offset[3:5])
    return timezone(timedelta(minutes=-minutes if offset[0] == "-" else minutes))


def _own_state(field: str) -> str:
    """Classify a passwd password field that is not "x" as the shadow probe does."""
    if field == "":
        return "empty"
    if field in ("*", "!", "!*", "!!", "*LK*"):
        return "nopassword"
    return "locked" if field.startswith("!") else "set"


def _interactive(shell: str) -> bool:
    # An empty shell field means /bin/sh.
    return shell.rsplit("/", 1)[-1] not in _NO_LOGIN_SHELLS


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return users, humans, uid 0 names, duplicate uids, empty passwords and group members."""
    passwd = raw.file(PASSWD)
    if passwd is None:
        return {}
    if not passwd.exists:
        raise ValueError("/etc/passwd does not exist")
    now = datetime.fromisoformat(raw.collected_at)
    today = int(now.timestamp()) // _DAY
    shadow_item, lastlog_item = raw.probe("shadow-state"), raw.probe("lastlog")
    shadow = _shadow_state(shadow_item.text) if shadow_item is not None and _probe_ok(shadow_item) else None
    logins = (
        _lastlog(lastlog_item.text, now) if lastlog_item is not None and _probe_ok(lastlog_item) else None
    )
    users = []
    lines: dict[str, int] = {}
    for entry in _passwd(passwd.text):
        lines.setdefault(entry["name"], entry["line"])
        record: dict[str, Any] = {
            "name": entry["name"],
            "uid": entry["uid"],
            "gid": entry["gid"],
            "shell": entry["shell"],
            "home": entry["home"],
            "interactive": _interactive(entry["shell"]),
            "password": "unknown",
            "system": 0 < entry["uid"] < 1000,
        }
        known = shadow.get(entry["name"]) if shadow is not None else None
        if entry["field"] != "x":
            record["password"] = _own_state(entry["field"])
        elif known is not None:
            record["password"] = known["state"]
        if known is not None:
            if known["lastchg"] is not None and known["lastchg"] > today:
                raise ValueError(
                    f"shadow: last password change of {entry['name']} is after the collection day"
                )
            record["last_change_days_ago"] = None if known["lastchg"] is None else today - known["lastchg"]
            record["max_days"] = known["max"]
        if logins is not None:
            record["days_since_login"] = logins.get(entry["name"])
        users.append(record)
    uid_count = Counter(u["uid"] for u in users)
    facts: dict[str, Any] = {
        "users": users,
        "humans": [u for u in users if u["uid"] >= 1000 and u["uid"] != 65534 and u["interactive"]],
        "uid0": [u["name"] for u in users if u["uid"] == 0],
        "duplicate_uids": sorted(uid for uid, n in uid_count.items() if n > 1),
    }
    # Where the deciding entries are: a second uid 0, the second holder of a shared uid.
    origins: dict[str, dict[str, Any]] = {}
    extra_root = next((u["name"] for u in users if u["uid"] == 0 and u["name"] != "root"), None)
    if extra_root is not None:
        origins["uid0"] = {"file": PASSWD, "line": lines[extra_root]}
    seen: set[int] = set()
    for user in users:
        if user["uid"] in seen and "duplicate_uids" not in origins:
            origins["duplicate_uids"] = {"file": PASSWD, "line": lines[user["name"]]}
        seen.add(user["uid"])
    facts[ORIGINS] = origins
    # Without the shadow states an empty list would read as "no empty passwords": omit it instead.
    if shadow is not None:
        facts["empty_passwords"] = [u["name"] for u in users if u["password"] == "empty"]
    group = raw.file(GROUP)
    if group is not None and group.exists:
        facts["groups"] = _groups(group.text, users)
    return facts


def _groups(text: str, users: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Return each group's members: those listed on its line, then users whose primary group it is."""
    groups: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith(("#", "+", "-")):
            continue
        fields = line.split(":")
        if len(fields) != 4 or not fields[2].isdigit():
            raise ValueError(f"/etc/group line {number}: malformed entry")
        listed = [m for m in fields[3].split(",") if m]
        primary = [u["name"] for u in users if u["gid"] == int(fields[2])]
        groups[fields[0]] = list(dict.fromkeys(listed + primary))
    return groups


SUBJECT = Subject(name="accounts", parse=parse, files=(PASSWD, GROUP), probes=("shadow-state", "lastlog"))
