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
_CLOCK = "_clock"  # what content keeps for finish: each user's shadow days, the lastlog stamps


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


def _lastlog(text: str) -> list[tuple[str, str | None]]:
    """Return each user's last login stamp (None: never) from `LC_ALL=C lastlog`, in line order."""
    out: list[tuple[str, str | None]] = []
    for line in text.splitlines()[1:]:  # the first line is the column header
        if not line.strip():
            continue
        name = line.split()[0]
        if "**Never logged in**" in line:
            out.append((name, None))
            continue
        m = _LASTLOG_DATE.search(line)
        if m is None:
            raise ValueError(f"lastlog: unreadable line {line!r}")
        _when(m.group(1))  # an unreadable date is an error of the content, whatever the clock
        out.append((name, m.group(1)))
    return out


def _days_since(logins: list[tuple[str, str | None]], now: datetime) -> dict[str, int | None]:
    """Return whole days since each user's last login (None: never), the last line of a name winning."""
    out: dict[str, int | None] = {}
    for name, stamp in logins:
        # A login after the collection time (beyond the allowed clock skew) is a wrong clock or an
        # edited record, not a negative age: the subject is an error, never a fresh login.
        out[name] = (
            None
            if stamp is None
            else int(elapsed(_when(stamp), now, f"lastlog: last login of {name}") // _DAY)
        )
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


def content(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return the facts read from the items alone; the clock's part is left to ``finish``."""
    passwd = raw.file(PASSWD)
    if passwd is None:
        return {}
    if not passwd.exists:
        raise ValueError("/etc/passwd does not exist")
    shadow_item, lastlog_item = raw.probe("shadow-state"), raw.probe("lastlog")
    shadow = _shadow_state(shadow_item.text) if shadow_item is not None and _probe_ok(shadow_item) else None
    logins = _lastlog(lastlog_item.text) if lastlog_item is not None and _probe_ok(lastlog_item) else None
    users = []
    changed: list[tuple[int | None, int | None] | None] = []  # per user: its shadow line's days
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
        changed.append(None if known is None else (known["lastchg"], known["max"]))
        users.append(record)
    uid_count = Counter(u["uid"] for u in users)
    facts: dict[str, Any] = {
        "users": users,
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
    facts[_CLOCK] = {"changed": changed, "logins": logins}
    return facts


def finish(facts: dict[str, Any], raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Add what the collection time decides: days since each password change and last login."""
    if not facts:
        return facts
    clock = facts[_CLOCK]  # the kept content is shared by hosts: read, never changed
    now = datetime.fromisoformat(raw.collected_at)
    today = int(now.timestamp()) // _DAY
    logins = _days_since(clock["logins"], now) if clock["logins"] is not None else None
    users = []
    for kept, known in zip(facts["users"], clock["changed"], strict=True):
        record = dict(kept)
        if known is not None:
            lastchg, max_days = known
            if lastchg is not None and lastchg > today:
                raise ValueError(
                    f"shadow: last password change of {record['name']} is after the collection day"
                )
            record["last_change_days_ago"] = None if lastchg is None else today - lastchg
            record["max_days"] = max_days
        if logins is not None:
            record["days_since_login"] = logins.get(record["name"])
        users.append(record)
    humans = [u for u in users if u["uid"] >= 1000 and u["uid"] != 65534 and u["interactive"]]
    return {
        "users": users,
        "humans": humans,
        **{k: v for k, v in facts.items() if k not in ("users", _CLOCK)},
    }


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return users, humans, uid 0 names, duplicate uids, empty passwords and group members."""
    return finish(content(raw, ctx), raw, ctx)


def _groups(text: str, users: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Return each group's members: those listed on its line, then users whose primary group it is."""
    primary: dict[int, list[str]] = {}
    for user in users:
        primary.setdefault(user["gid"], []).append(user["name"])
    groups: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith(("#", "+", "-")):
            continue
        fields = line.split(":")
        if len(fields) != 4 or not fields[2].isdigit():
            raise ValueError(f"/etc/group line {number}: malformed entry")
        listed = [m for m in fields[3].split(",") if m]
        owners = primary.get(int(fields[2]), []) if users else []  # no users: the gid is not read
        groups[fields[0]] = list(dict.fromkeys(listed + owners))
    return groups


SUBJECT = Subject(
    name="accounts",
    parse=parse,
    files=(PASSWD, GROUP),
    probes=("shadow-state", "lastlog"),
    content=content,
    finish=finish,
)
