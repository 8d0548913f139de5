"""Accounts (passwd, group, shadow state, lastlog) and sudo."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .model import (
    ADMINS,
    BASTION,
    JST,
    STAFF,
    Spec,
    ago,
    at_work,
    contractor,
    days,
    has_contractors,
    pick,
    stock,
    vendor_account,
)

Account = tuple[str, int, int, str, str, str]  # name, uid, gid, gecos, home, shell

ROLE_USERS: dict[str, list[Account]] = {
    "postgres": [("postgres", 104, 111, "PostgreSQL administrator,,,", "/var/lib/postgresql", "/bin/bash")],
    "zabbix": [("zabbix", 105, 112, "", "/var/lib/zabbix/", "/usr/sbin/nologin")],
    "postfix": [("postfix", 104, 111, "", "/var/spool/postfix", "/usr/sbin/nologin")],
    "restic": [("restic", 997, 997, "restic REST server", "/var/lib/restic", "/usr/sbin/nologin")],
    "desktop": [
        ("polkitd", 996, 996, "polkit", "/nonexistent", "/usr/sbin/nologin"),
        ("rtkit", 106, 113, "RealtimeKit,,,", "/proc", "/usr/sbin/nologin"),
        ("colord", 107, 114, "colord colour management daemon,,,", "/var/lib/colord", "/usr/sbin/nologin"),
        ("Debian-gdm", 108, 115, "Gnome Display Manager", "/var/lib/gdm3", "/bin/false"),
    ],
}
ROLE_GROUPS = {
    "postgres": [("postgres", 111)],
    "zabbix": [("zabbix", 112)],
    "postfix": [("postfix", 111), ("postdrop", 113)],
    "restic": [("restic", 997)],
    "desktop": [("polkitd", 996), ("rtkit", 113), ("colord", 114), ("Debian-gdm", 115)],
}


def system_users() -> list[Account]:
    """Return the Debian 12 system accounts (stock passwd of the standard build)."""
    out = []
    for line in stock("/etc/passwd").splitlines():
        name, _, uid, gid, gecos, home, shell = line.split(":")
        out.append((name, int(uid), int(gid), gecos, home, shell))
    return out


def system_groups() -> list[tuple[str, int]]:
    return [(line.split(":")[0], int(line.split(":")[2])) for line in stock("/etc/group").splitlines()]


def role_packages(spec: Spec) -> list[str]:
    """Return the ROLE_USERS keys a host has (package-created system users)."""
    system = spec.host.system
    out = []
    if system in ("基幹系データベース", "統合監視"):
        out.append("postgres")
    if system == "統合監視":
        out.append("zabbix")
    if system.startswith("メール中継"):
        out.append("postfix")
    if spec.role == "backup_storage":
        out.append("restic")
    if spec.terminal:
        out.append("desktop")
    return out


@dataclass(frozen=True)
class Person:
    """A human account: who, when the password was last set, when they last logged on."""

    name: str
    uid: int
    gecos: str
    state: str  # set | locked
    changed: datetime
    last_login: datetime | None
    tty: str
    source: str
    max_days: int


def people(spec: Spec) -> list[Person]:
    """Return the host's people: administrators, those its deviations add, its vendor, then staff."""
    max_days = int(spec.facts.get("pass_max_days", 90))
    out = []
    for name, uid, gecos in ADMINS:
        login = at_work(spec.name, name, 1 + pick(spec.name, name + "login", 20))
        changed = ago(days=10 + pick(spec.name, name, 70))
        out.append(Person(name, uid, gecos + ",,,", "set", changed, login, "pts/0", BASTION, max_days))
    for p in spec.facts.get("people", []):
        when = datetime.fromisoformat
        out.append(
            Person(
                p["name"], p["uid"], p["gecos"], p["state"], when(p["changed"]), when(p["last_login"]),
                p["tty"], p["from"], max_days,
            )
        )  # fmt: skip
    vendor = vendor_account(spec)
    if vendor:  # enabled only for an approved maintenance window, locked the rest of the time
        changed, login = (
            datetime(2026, 10, 6, 9, 0, tzinfo=JST),
            datetime(2026, 10, 6, 13, 22, 41, tzinfo=JST),
        )
        gecos = f"{spec.host.system} 保守 (委託事業者),,,"
        out.append(Person(vendor, 1101, gecos, "locked", changed, login, "pts/0", BASTION, max_days))
    out.sort(key=lambda p: p.uid)
    if spec.terminal:
        start = pick(spec.name, "staff", len(STAFF))
        for i in range(3):
            name = STAFF[(start + i) % len(STAFF)]
            changed = ago(days=5 + pick(spec.name, name, 80))
            login = at_work(spec.name, name, 1 + pick(spec.name, name + "d", 3))
            out.append(
                Person(name, 1201 + STAFF.index(name), ",,,", "set", changed, login, "tty2", "", max_days)
            )
    return out


def add_accounts(spec: Spec) -> None:
    users = system_users()
    groups: list[tuple[str, int, list[str]]] = [(g, gid, []) for g, gid in system_groups()]
    for key in role_packages(spec):
        users += ROLE_USERS[key]
        groups += [(g, gid, []) for g, gid in ROLE_GROUPS[key]]
    persons = people(spec)
    for p in persons:
        users.append((p.name, p.uid, p.uid, p.gecos, f"/home/{p.name}", "/bin/bash"))
        groups.append((p.name, p.uid, []))
    admins = [p.name for p in persons if p.name.startswith("adm-")]
    groups = [(g, gid, admins if g in ("sudo", "adm") else m) for g, gid, m in groups]
    groups.append(("kaku-admins", 2000, admins))
    if has_contractors(spec):
        groups.append(("kaku-vendor", 2001, [p.name for p in persons if contractor(p.name)]))
    staff = [p.name for p in persons if p.name.startswith("s")]
    if staff:
        groups.append(("kaku-staff", 2100, staff))
    uids = [u[1] for u in users]
    if len(uids) != len(set(uids)):
        raise SystemExit(f"{spec.name}: duplicate uid in the generated passwd")
    passwd = "".join(
        f"{n}:x:{uid}:{gid}:{gecos}:{home}:{shell}\n" for n, uid, gid, gecos, home, shell in users
    )
    group = "".join(f"{g}:x:{gid}:{','.join(m)}\n" for g, gid, m in groups)
    spec.add("/etc/passwd", passwd, mtime=ago(days=20))
    spec.add("/etc/group", group, mtime=ago(days=20))
    by_name = {p.name: p for p in persons}
    shadow = []
    for name, uid, *_ in users:
        if name in by_name:
            p = by_name[name]
            shadow.append(f"{name}:{p.state}:{days(p.changed)}:1:{p.max_days}:14::")
        elif uid == 0:
            shadow.append(f"root:set:{days(ago(days=41))}:1:90:14::")
        else:
            shadow.append(f"{name}:nopassword:{days(spec.built)}:0:99999:7::")
    spec.probe("shadow-state", "\n".join(shadow) + "\n")
    lastlog = ["Username         Port     From                                       Latest"]
    for name, *_ in users:
        person = by_name.get(name)
        if person is None or person.last_login is None:
            lastlog.append(f"{name:<16}{'':<52}**Never logged in**")
        else:
            when = person.last_login.strftime("%a %b %e %H:%M:%S %z %Y")
            lastlog.append(f"{name:<16} {person.tty:<8.8} {person.source:<41.41} {when}")
    spec.probe("lastlog", "\n".join(lastlog) + "\n")
    add_sudoers(spec)


def add_sudoers(spec: Spec) -> None:
    spec.add("/etc/sudoers", stock("/etc/sudoers"), mode="0440", mtime=spec.built)
    # The standard keeps only its own files in /etc/sudoers.d (Debian's README is removed).
    spec.kaku("/etc/sudoers.d/10-kaku-admins", mode="0440")
    account = vendor_account(spec)
    if account:
        unit = account.removeprefix("v-") + "-app.service"
        spec.template("/etc/sudoers.d/20-vendor", mode="0440", app=spec.host.system, unit=unit)
    if spec.role == "backup_storage":
        spec.kaku("/etc/sudoers.d/30-restic", mode="0440")
