#!/usr/bin/env python3
"""Write the example ward's raw-fact snapshots from a hardened Debian 12 baseline plus per-host deviations.

Run from the repository root: ``python tools/make_example_ward.py`` (``--check`` only compares).

It reads ``inventories/example-ward/inventory.yaml``, the stock Debian 12 files under
``baseline/debian12/`` and the ward's standard under ``baseline/kaku/`` (架空区Linux基盤標準 v3.2:
what its Ansible role deploys), applies the deliberate deviations in ``DEVIATIONS`` (each one is
documented in the ward's README), and writes ``snapshots/<host>.json`` as the nightly scheduled
scan of 2026-11-20 02:00 JST collected them. Every file path the parsers read and the host lacks
is recorded as absent, as the collector does. The output is deterministic: the same inputs give
the same bytes, so a diff of the snapshots shows exactly what a change did.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanner.facts import SUBJECTS  # noqa: E402
from scanner.inventory import Host, Inventory, load  # noqa: E402
from scanner.rawfacts import build_raw  # noqa: E402

WARD = ROOT / "inventories" / "example-ward"
STOCK = WARD / "baseline" / "debian12"  # stock Debian 12 files and recorded probe outputs
KAKU = WARD / "baseline" / "kaku"  # the ward's standard: what its Ansible role deploys
JST = timezone(timedelta(hours=9))
AT = datetime(2026, 11, 20, 2, 0, 0, tzinfo=JST)  # the nightly scheduled scan
COLLECTOR = {"name": "kijun-local", "version": "0.1.0"}
INSTALLED = datetime(2025, 3, 18, 14, 20, tzinfo=JST)  # servers built on the 共通仮想化基盤
STANDARD = datetime(2026, 4, 14, 10, 5, tzinfo=JST)  # 基盤標準 v3.2 rolled out
DOMAIN = "kaku-ku.example"
MANAGED = "# 架空区Linux基盤標準 v3.2 (Ansible管理: 手で編集しないこと)"

# Zone design: per-zone NTP (the core L3 switches), the zone's log server, backup via mgmt.
NTP = {
    "mynumber": ["10.10.0.1", "10.10.0.2"],
    "lgwan": ["10.20.0.1", "10.20.0.2"],
    "internet": ["10.30.0.1", "10.30.0.2"],
    "mgmt": ["10.90.0.1", "10.90.0.2"],
    "dc": ["10.99.0.1"],
}
LOG_SERVER = {
    "mynumber": "log-mn-01",
    "lgwan": "log-lg-01",
    "internet": "log-in-01",
    "mgmt": "log-mg-01",
    "dc": "log-mg-01",
}
BASTION = "10.90.0.5"
ADMINS = [("adm-suzuki", 1001, "Suzuki Hiroshi"), ("adm-takahashi", 1002, "Takahashi Misaki")]
VENDORS = {
    "住民記録": "v-juki",
    "税(個人住民税・収納)": "v-zei",
    "国民健康保険": "v-kokuho",
    "戸籍": "v-koseki",
    "基幹系データベース": "v-kikandb",
    "文書管理": "v-bunsho",
    "財務会計": "v-zaimu",
    "グループウェア": "v-gw",
}
STAFF = ["s20871", "s21134", "s19502", "s22018", "s20345", "s18876", "s21790", "s22451", "s19963", "s20512"]
FS_ZONE = {"mynumber": 62, "lgwan": 13, "internet": 13, "mgmt": 13, "dc": 13}  # monthly rotations kept

# Deliberate deviations from the standard (the ward's README lists each with the control it fails).
DEVIATIONS: dict[str, dict[str, Any]] = {
    "mn-term-07": {"usb_open": True},  # replaced in 2026-10 from the vendor image; standard not applied
    "kokuho-ap-01": {"backup_stale": True},  # restic lock left behind by the 11/18 network outage
    "gw-01": {"second_nic": ("ens224", "10.30.20.15", 24)},  # NIC into the internet zone for a trial
    "koseki-ap-01": {"vendor_root_login": True},  # vendor drop-in PermitRootLogin yes
    "web-cms-01": {"nopasswd_person": "w-tanaka"},  # CMS contractor given NOPASSWD: ALL
    "juki-ap-01": {"stale_user": "adm-yamada"},  # admin transferred in April, account kept
    "mail-relay-01": {"time_broken": True},  # chrony failed after the VM move, never restarted
    "bunsho-01": {
        "pending_security": [
            ("libssl3", "3.0.17-1~deb12u3", "3.0.18-1~deb12u1", "amd64"),
            ("openssl", "3.0.17-1~deb12u3", "3.0.18-1~deb12u1", "amd64"),
        ]
    },
    "kikan-db-01": {
        "pending_security": [  # 例外措置 EXC-2026-0007 (in force)
            ("libpq5", "15.14-0+deb12u1", "15.15-0+deb12u1", "amd64"),
            ("postgresql-15", "15.14-0+deb12u1", "15.15-0+deb12u1", "amd64"),
            ("postgresql-client-15", "15.14-0+deb12u1", "15.15-0+deb12u1", "amd64"),
        ]
    },
    "zei-ap-01": {"pass_max_days": 180},  # vendor default; its 例外措置 EXC-2026-0003 expired 2026-09-30
}


def ts(moment: datetime) -> int:
    return int(moment.timestamp())


def ago(**delta: float) -> datetime:
    return AT - timedelta(**delta)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def days(moment: datetime) -> int:
    """Return days since the epoch, as /etc/shadow counts them."""
    return (moment.date() - datetime(1970, 1, 1).date()).days


def at_work(host: str, key: str, days_back: int) -> datetime:
    """Return a stable moment in office hours (08:30-17:30) some days before the scan."""
    day = (AT - timedelta(days=days_back)).replace(hour=8, minute=30, second=0)
    return day + timedelta(seconds=pick(host, key + ":t", 9 * 3600))


def pick(host: str, key: str, n: int) -> int:
    """Return a stable pseudo-random number in [0, n) for one host and purpose."""
    return int(hashlib.sha256(f"{host}:{key}".encode()).hexdigest()[:8], 16) % n


def stock(path: str) -> str:
    return (STOCK / path.lstrip("/")).read_text(encoding="utf-8")


def kaku(path: str) -> str:
    return (KAKU / path.lstrip("/")).read_text(encoding="utf-8")


def edit(text: str, *pairs: tuple[str, str]) -> str:
    """Replace each old text once; a missing one means the stock file changed, so stop."""
    for old, new in pairs:
        if old not in text:
            raise SystemExit(f"baseline edit: {old!r} not found")
        text = text.replace(old, new, 1)
    return text


def table(rows: list[list[str]], sep: str = " ") -> str:
    """Align columns as systemctl and ss do (the last column is left as is)."""
    if not rows:
        return ""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "".join(
        sep.join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + sep + r[-1] + "\n" for r in rows
    )


@dataclass
class Spec:
    """One host as the generator sees it: the inventory record, its deviations, and the items built."""

    host: Host
    inv: Inventory
    dev: dict[str, Any]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    probes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.host.name

    @property
    def zone(self) -> str:
        return self.host.zone

    @property
    def role(self) -> str:
        return self.host.role

    @property
    def terminal(self) -> bool:
        return self.host.role == "terminal"

    @property
    def smartcard(self) -> bool:
        """My Number terminals log on with the staff IC card and face recognition."""
        return self.terminal and self.zone == "mynumber"

    @property
    def standard_usb(self) -> bool:
        return not self.dev.get("usb_open")

    @property
    def usbguard(self) -> bool:
        return self.terminal and self.zone in ("mynumber", "lgwan") and self.standard_usb

    @property
    def two_factor_ssh(self) -> bool:
        return self.zone == "mynumber" or self.host.labels.get("mfa_admin") == "true"

    @property
    def ifname(self) -> str:
        return "enp0s31f6" if self.terminal else "ens192"

    @property
    def built(self) -> datetime:
        if self.dev.get("usb_open"):  # replaced from the vendor image in October 2026
            return datetime(2026, 10, 15, 16, 40, tzinfo=JST)
        return datetime(2025, 9, 2, 11, 0, tzinfo=JST) if self.terminal else INSTALLED

    def add(
        self, path: str, content: str, mode: str = "0644", mtime: datetime = STANDARD, gid: int = 0
    ) -> None:
        self.files[path] = {"content": content, "mode": mode, "uid": 0, "gid": gid, "mtime": ts(mtime)}

    def stock(self, path: str, mode: str = "0644") -> None:
        self.add(path, stock(path), mode=mode, mtime=self.built)

    def kaku(self, path: str, mode: str = "0644") -> None:
        self.add(path, kaku(path), mode=mode, mtime=max(STANDARD, self.built))

    def stat(
        self,
        path: str,
        mtime: datetime,
        mode: str = "0644",
        size: int | None = None,
        uid: int = 0,
        gid: int = 0,
    ) -> None:
        self.stats[path] = {"mtime": ts(mtime), "mode": mode, "uid": uid, "gid": gid, "size": size}

    def probe(self, name: str, stdout: str, rc: int = 0, stderr: str = "") -> None:
        self.probes[name] = {"stdout": stdout, "rc": rc, "stderr": stderr}


def vendor_account(spec: Spec) -> str:
    return VENDORS.get(spec.host.system, "") if not spec.terminal else ""


# --- sshd ---------------------------------------------------------------------------------


def has_contractors(spec: Spec) -> bool:
    """Return whether contractor accounts (group kaku-vendor) exist on the host."""
    return bool(vendor_account(spec) or spec.dev.get("nopasswd_person"))


def allow_groups(spec: Spec) -> list[str]:
    return ["kaku-admins", "kaku-vendor"] if has_contractors(spec) else ["kaku-admins"]


def sshd_dropin(spec: Spec) -> str:
    lines = [
        MANAGED,
        "# 管理者は踏み台(bastion-01)から個人IDと公開鍵で入る。rootの直接ログインとパスワード認証は不可。",
        "PermitRootLogin no",
        "PasswordAuthentication no",
        "PermitEmptyPasswords no",
        "PubkeyAuthentication yes",
    ]
    if spec.two_factor_ssh:
        lines += [
            "# マイナンバー利用事務系と踏み台: 公開鍵 + ワンタイムパスワード(TOTP, pam_google_authenticator)",
            "KbdInteractiveAuthentication yes",
            "AuthenticationMethods publickey,keyboard-interactive",
        ]
    else:
        lines.append("KbdInteractiveAuthentication no")
    lines += [
        "MaxAuthTries 3",
        "LoginGraceTime 60",
        "ClientAliveInterval 300",
        "ClientAliveCountMax 2",
        "X11Forwarding no",
        "AllowTcpForwarding " + ("local" if spec.role == "bastion" else "no"),
        "AllowAgentForwarding no",
        "LogLevel VERBOSE",
        "Banner /etc/issue.net",
        "AllowGroups " + " ".join(allow_groups(spec)),
    ]
    return "\n".join(lines) + "\n"


def sshd_t(spec: Spec) -> str:
    """Return `sshd -T` for this host: the recorded Debian 12 output with the effective settings."""
    values = {
        "permitrootlogin": "yes" if spec.dev.get("vendor_root_login") else "no",
        "passwordauthentication": "no",
        "kbdinteractiveauthentication": "yes" if spec.two_factor_ssh else "no",
        "maxauthtries": "3",
        "logingracetime": "60",
        "clientaliveinterval": "300",
        "clientalivecountmax": "2",
        "x11forwarding": "no",
        "allowtcpforwarding": "local" if spec.role == "bastion" else "no",
        "allowagentforwarding": "no",
        "loglevel": "VERBOSE",
        "banner": "/etc/issue.net",
        "authenticationmethods": "publickey,keyboard-interactive" if spec.two_factor_ssh else "any",
    }
    out = []
    for line in stock("/probes/sshd-T.txt").splitlines():
        key = line.split(" ", 1)[0]
        out.append(f"{key} {values[key]}" if key in values else line)
        if line == "hostkey /etc/ssh/ssh_host_ed25519_key":  # servconf.c prints AllowGroups next
            out += [f"allowgroups {g}" for g in allow_groups(spec)]
    return "\n".join(out) + "\n"


def add_sshd(spec: Spec) -> None:
    spec.kaku("/etc/ssh/sshd_config")
    spec.add("/etc/ssh/sshd_config.d/10-kaku-hardening.conf", sshd_dropin(spec))
    if spec.dev.get("vendor_root_login"):
        spec.add(
            "/etc/ssh/sshd_config.d/00-vendor-maint.conf",
            "# 戸籍システム保守用 (保守ベンダー設定 2025-12-10)\n"
            "# 保守作業時に root で直接ログインするため。作業後に戻すこと。\n"
            "PermitRootLogin yes\n",
            mtime=datetime(2025, 12, 10, 19, 42, tzinfo=JST),
        )
    spec.probe("sshd-T", sshd_t(spec))


# --- PAM, password quality, lockout, login.defs -------------------------------------------


def add_pam(spec: Spec) -> None:
    for name in (
        "common-auth",
        "common-account",
        "common-password",
        "common-session",
        "common-session-noninteractive",
    ):
        spec.kaku(f"/etc/pam.d/{name}")
    for name in ("su", "sudo", "other", "passwd", "cron"):
        spec.stock(f"/etc/pam.d/{name}")
    login = stock("/etc/pam.d/login")
    if spec.smartcard:
        login = edit(
            login,
            (
                "# Standard Un*x authentication.\n@include common-auth",
                "# 架空区端末認証標準: 職員証ICカード(PIN)と顔認証を必須にする (二要素)。\n"
                "auth       required   pam_pkcs11.so wait_for_card\n"
                "auth       required   pam_howdy.so\n"
                "# Standard Un*x authentication.\n@include common-auth",
            ),
        )
    spec.add("/etc/pam.d/login", login, mtime=STANDARD if spec.smartcard else spec.built)
    sshd = stock("/etc/pam.d/sshd")
    if spec.two_factor_ssh:
        sshd = edit(
            sshd,
            (
                "# Standard Un*x authentication.\n@include common-auth",
                "# 架空区基盤標準: SSHは公開鍵 + ワンタイムパスワード。パスワードは使わない。\n"
                "#@include common-auth\n"
                "auth       required     pam_google_authenticator.so",
            ),
        )
    spec.add("/etc/pam.d/sshd", sshd, mtime=STANDARD if spec.two_factor_ssh else spec.built)
    if spec.terminal:
        gdm = edit(
            stock("/etc/pam.d/gdm-password"),
            (
                "session required        pam_limits.so",
                "session required        pam_limits.so\nsession optional        pam_lastlog.so silent",
            ),
        )
        if spec.smartcard:
            gdm = edit(
                gdm,
                (
                    "@include common-auth",
                    "# 架空区端末認証標準: 職員証ICカード(PIN)と顔認証を必須にする (二要素)。\n"
                    "auth    required        pam_pkcs11.so wait_for_card\n"
                    "auth    required        pam_howdy.so\n"
                    "@include common-auth",
                ),
            )
        spec.add("/etc/pam.d/gdm-password", gdm)
        spec.stock("/etc/pam.d/gdm-launch-environment")
    spec.kaku("/etc/security/pwquality.conf")
    spec.kaku("/etc/security/faillock.conf")
    if "pass_max_days" in spec.dev:  # the vendor's build kept the Debian file with its own value
        spec.add(
            "/etc/login.defs",
            edit(
                stock("/etc/login.defs"),
                ("PASS_MAX_DAYS\t99999", f"PASS_MAX_DAYS\t{spec.dev['pass_max_days']}"),
            ),
            mtime=datetime(2025, 6, 2, 9, 30, tzinfo=JST),
        )
    else:
        spec.kaku("/etc/login.defs")


# --- accounts and sudo --------------------------------------------------------------------


def system_users() -> list[tuple[str, int, int, str, str, str]]:
    """Return the Debian 12 system accounts (stock passwd of the standard build)."""
    out = []
    for line in stock("/etc/passwd").splitlines():
        name, _, uid, gid, gecos, home, shell = line.split(":")
        out.append((name, int(uid), int(gid), gecos, home, shell))
    return out


def system_groups() -> list[tuple[str, int]]:
    return [(line.split(":")[0], int(line.split(":")[2])) for line in stock("/etc/group").splitlines()]


ROLE_USERS: dict[str, list[tuple[str, int, int, str, str, str]]] = {
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
    max_days = spec.dev.get("pass_max_days", 90)
    out = []
    for name, uid, gecos in ADMINS:
        login = at_work(spec.name, name, 1 + pick(spec.name, name + "login", 20))
        out.append(
            Person(
                name,
                uid,
                gecos + ",,,",
                "set",
                ago(days=10 + pick(spec.name, name, 70)),
                login,
                "pts/0",
                BASTION,
                max_days,
            )
        )
    if spec.dev.get("stale_user"):
        out.append(
            Person(
                spec.dev["stale_user"],
                1003,
                "Yamada Takeshi,,,",
                "set",
                datetime(2026, 3, 2, 17, 40, tzinfo=JST),
                datetime(2026, 3, 27, 16, 12, 5, tzinfo=JST),
                "pts/1",
                BASTION,
                max_days,
            )
        )
    vendor = vendor_account(spec)
    if vendor:  # enabled only for an approved maintenance window, locked the rest of the time
        out.append(
            Person(
                vendor,
                1101,
                f"{spec.host.system} 保守 (委託事業者),,,",
                "locked",
                datetime(2026, 10, 6, 9, 0, tzinfo=JST),
                datetime(2026, 10, 6, 13, 22, 41, tzinfo=JST),
                "pts/0",
                BASTION,
                max_days,
            )
        )
    if spec.dev.get("nopasswd_person"):
        out.append(
            Person(
                spec.dev["nopasswd_person"],
                1301,
                "Tanaka Kenji (CMS保守),,,",
                "set",
                ago(days=33),
                at_work(spec.name, "cms", 1),
                "pts/0",
                BASTION,
                max_days,
            )
        )
    if spec.terminal:
        start = pick(spec.name, "staff", len(STAFF))
        for i in range(3):
            name = STAFF[(start + i) % len(STAFF)]
            out.append(
                Person(
                    name,
                    1201 + STAFF.index(name),
                    ",,,",
                    "set",
                    ago(days=5 + pick(spec.name, name, 80)),
                    at_work(spec.name, name, 1 + pick(spec.name, name + "d", 3)),
                    "tty2",
                    "",
                    max_days,
                )
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
        groups.append(("kaku-vendor", 2001, [p.name for p in persons if p.name.startswith(("v-", "w-"))]))
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
        app = spec.host.system
        spec.add(
            "/etc/sudoers.d/20-vendor",
            MANAGED + "\n"
            f"# {app}の保守作業(承認済みの作業時間帯のみアカウントを有効化)で使うコマンドだけを許可する。\n"
            f"Cmnd_Alias APP_OPS = /usr/bin/systemctl restart {account.removeprefix('v-')}-app.service, "
            f"/usr/bin/systemctl status {account.removeprefix('v-')}-app.service, /usr/bin/journalctl\n"
            f"%kaku-vendor\tALL=(root) APP_OPS\n",
            mode="0440",
        )
    if spec.role == "backup_storage":
        spec.add(
            "/etc/sudoers.d/30-restic",
            MANAGED + "\n"
            "# REST サーバのアカウントには自身の再起動だけをパスワードなしで許可する(監視からの自動復旧用)。\n"
            "restic\tALL=(root) NOPASSWD: /usr/bin/systemctl restart rest-server.service\n",
            mode="0440",
        )
    person = spec.dev.get("nopasswd_person")
    if person:
        spec.add(
            "/etc/sudoers.d/90-cms-deploy",
            "# 2026-07 CMSバージョンアップ作業のため一時的に追加 (広報課依頼)\n"
            f"{person}\tALL=(ALL) NOPASSWD: ALL\n",
            mode="0440",
            mtime=datetime(2026, 7, 8, 18, 3, tzinfo=JST),
        )


# --- kernel modules and USBGuard ----------------------------------------------------------


def proc_modules(spec: Spec) -> str:
    """Return /proc/modules as root reads it (with load addresses)."""
    text = stock("/probes/proc-modules-pc.txt" if spec.terminal else "/probes/proc-modules-vm.txt")
    if spec.dev.get("usb_open"):
        text = stock("/probes/proc-modules-usb-storage.txt") + text
    out = []
    for line in text.splitlines():
        base = 0xFFFFFFFFC0000000 + pick(spec.name, line.split()[0], 0x3FFFF) * 0x1000
        out.append(f"{line} 0x{base:016x}")
    return "\n".join(out) + "\n"


def add_modules(spec: Spec) -> None:
    for name in ("aliases.conf", "fbdev-blacklist.conf", "systemd.conf"):
        spec.stock(f"/lib/modprobe.d/{name}")
    if spec.standard_usb:
        spec.kaku("/etc/modprobe.d/kaku-hardening.conf")
    spec.add("/proc/modules", proc_modules(spec), mode="0444", mtime=ago(minutes=1))
    if spec.usbguard:
        spec.kaku("/etc/usbguard/usbguard-daemon.conf", mode="0600")
        extra = kaku("/etc/usbguard/rules.conf.mynumber-terminal") if spec.smartcard else ""
        spec.add("/etc/usbguard/rules.conf", kaku("/etc/usbguard/rules.conf") + extra, mode="0600")


# --- logging: rsyslog, journald, logrotate, auditd ------------------------------------------


def log_target(spec: Spec) -> Host:
    target = spec.inv.host(LOG_SERVER[spec.zone])
    assert target is not None
    return target


TLS_GLOBAL = """global(
  DefaultNetstreamDriver="gtls"
  DefaultNetstreamDriverCAFile="/etc/ssl/kaku/kaku-ca.pem"
  DefaultNetstreamDriverCertFile="/etc/ssl/kaku/host.pem"
  DefaultNetstreamDriverKeyFile="/etc/ssl/kaku/host.key"
)
"""


def add_logging(spec: Spec) -> None:
    spec.stock("/etc/rsyslog.conf")
    if spec.role == "log_server":
        spec.add(
            "/etc/rsyslog.d/10-kaku-receive.conf",
            MANAGED + "\n"
            "# ゾーン内のホストから TLS (RFC 5425, tcp/6514) で受信し、送信元ごとに保存する。\n"
            + TLS_GLOBAL
            + 'module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1"\n'
            f'       StreamDriver.AuthMode="x509/name" PermittedPeer=["*.{DOMAIN}"])\n'
            'input(type="imtcp" port="6514" ruleset="remote")\n'
            'template(name="RemoteFile" type="string" string="/var/log/remote/%HOSTNAME%/%HOSTNAME%.log")\n'
            'ruleset(name="remote") {\n'
            '  action(type="omfile" dynaFile="RemoteFile" fileCreateMode="0640" dirCreateMode="0750"\n'
            '         fileGroup="adm")\n'
            "}\n",
        )
    else:
        target = log_target(spec)
        queue = target.name.replace("-", "_")
        spec.add(
            "/etc/rsyslog.d/90-kaku-forward.conf",
            MANAGED + "\n"
            f"# 所属ゾーンのログサーバ({target.name})へ TLS (RFC 5425, tcp/6514) で転送する。\n"
            "# ログサーバが止まっている間はディスクに溜めて、復旧後に再送する。\n"
            + TLS_GLOBAL
            + "*.* action(\n"
            '  type="omfwd"\n'
            f'  target="{target.address}"\n'
            '  port="6514"\n'
            '  protocol="tcp"\n'
            '  StreamDriver="gtls"\n'
            '  StreamDriverMode="1"\n'
            '  StreamDriverAuthMode="x509/name"\n'
            f'  StreamDriverPermittedPeers="{target.name}.{DOMAIN}"\n'
            '  queue.type="LinkedList"\n'
            f'  queue.filename="fwd_{queue}"\n'
            '  queue.maxDiskSpace="1g"\n'
            '  queue.saveOnShutdown="on"\n'
            '  action.resumeRetryCount="-1"\n'
            ")\n",
        )
    spec.stock("/etc/systemd/journald.conf")
    spec.kaku("/etc/systemd/journald.conf.d/10-kaku.conf")
    spec.stock("/etc/logrotate.conf")
    rotate = FS_ZONE[spec.zone]
    spec.add(
        "/etc/logrotate.d/rsyslog",
        edit(
            stock("/etc/logrotate.d/rsyslog"),
            ("\trotate 4\n\tweekly\n", f"\trotate {rotate}\n\tmonthly\n\tdateext\n"),
        ),
    )
    for name in ("alternatives", "apt", "btmp", "chrony", "dpkg", "wtmp"):
        spec.stock(f"/etc/logrotate.d/{name}")
    if spec.usbguard:
        spec.stock("/etc/logrotate.d/usbguard")
    if spec.role == "log_server":
        spec.add(
            "/etc/logrotate.d/kaku-remote",
            MANAGED + "\n"
            "# 受信ログ: 月次で世代化し、archive/ に圧縮して保存する(保存期間 = rotate × 30日)。\n"
            "/var/log/remote/*/*.log\n{\n"
            f"\trotate {rotate}\n\tmonthly\n\tdateext\n\tmissingok\n\tnotifempty\n\tcompress\n"
            "\tdelaycompress\n\tolddir archive\n\tcreateolddir 0750 root adm\n\tsharedscripts\n"
            "\tpostrotate\n\t\t/usr/lib/rsyslog/rsyslog-rotate\n\tendscript\n}\n",
        )
    add_auditd(spec)


def add_auditd(spec: Spec) -> None:
    spec.add(
        "/etc/audit/auditd.conf",
        edit(
            stock("/etc/audit/auditd.conf"),
            ("max_log_file = 8", "max_log_file = 50"),
            ("num_logs = 5", "num_logs = 10"),
            ("max_log_file_action = ROTATE", "max_log_file_action = keep_logs"),
        ),
        mode="0640",
    )
    spec.add(
        "/etc/audit/rules.d/audit.rules",
        stock("/etc/audit/rules.d/audit.rules"),
        mode="0640",
        mtime=spec.built,
    )
    rules = kaku("/etc/audit/rules.d/50-kaku.rules")
    spec.add("/etc/audit/rules.d/50-kaku.rules", rules, mode="0640")
    body = [line for line in rules.splitlines() if line and not line.startswith("#") and line != "-e 2"]
    generated = (
        "## This file is automatically generated from /etc/audit/rules.d\n"
        "-D\n-b 8192\n-f 1\n--backlog_wait_time 60000\n" + "\n".join(body) + "\n-e 2\n"
    )
    spec.add("/etc/audit/audit.rules", generated, mode="0640")
    spec.probe("auditctl-rules", kaku("/probes/auditctl-l.txt"))  # the kernel's form of 50-kaku.rules
    spec.probe(
        "auditctl-status",
        f"enabled 2\nfailure 1\npid {600 + pick(spec.name, 'auditd', 300)}\n"
        "rate_limit 0\nbacklog_limit 8192\nlost 0\nbacklog 0\nbacklog_wait_time 60000\n"
        "backlog_wait_time_actual 0\nloginuid_immutable 0 unlocked\n",
    )


# --- time ---------------------------------------------------------------------------------


def add_time(spec: Spec) -> None:
    servers = NTP[spec.zone]
    lines = "".join(f"server {s} iburst\n" for s in servers)
    spec.add(
        "/etc/chrony/chrony.conf",
        edit(
            stock("/etc/chrony/chrony.conf"),
            (
                "# Use Debian vendor zone.\npool 2.debian.pool.ntp.org iburst\n",
                "# 架空区基盤標準: ゾーン内の時刻サーバ(コアL3スイッチ)に同期する。外部のNTPには出られない。\n"
                + lines,
            ),
        ),
    )
    if spec.dev.get("time_broken"):
        spec.probe("chronyc-tracking", "", rc=1, stderr="506 Cannot talk to daemon\n")
        synced = "no"
    else:
        ref = servers[0]
        ref_id = "".join(f"{int(o):02X}" for o in ref.split("."))
        offset = (5 + pick(spec.name, "offset", 400)) / 1_000_000
        direction = "fast" if pick(spec.name, "dir", 2) else "slow"
        ref_time = (AT - timedelta(seconds=20 + pick(spec.name, "ref", 40))).astimezone(UTC)
        spec.probe(
            "chronyc-tracking",
            (
                f"Reference ID    : {ref_id} ({ref})\n"
                "Stratum         : 3\n"
                f"Ref time (UTC)  : {ref_time.strftime('%a %b %d %H:%M:%S %Y')}\n"
                f"System time     : {offset:.9f} seconds {direction} of NTP time\n"
                f"Last offset     : -{offset / 3:.9f} seconds\n"
                f"RMS offset      : {offset * 1.7:.9f} seconds\n"
                f"Frequency       : {3 + pick(spec.name, 'freq', 20)}.{pick(spec.name, 'f2', 999):03d} ppm slow\n"
                "Residual freq   : -0.001 ppm\n"
                "Skew            : 0.027 ppm\n"
                "Root delay      : 0.000843127 seconds\n"
                "Root dispersion : 0.000412066 seconds\n"
                "Update interval : 64.4 seconds\n"
                "Leap status     : Normal\n"
            ),
        )
        synced = "yes"
    now = AT.strftime("%a %Y-%m-%d %H:%M:%S JST")
    spec.probe(
        "timedatectl",
        f"Timezone=Asia/Tokyo\nLocalRTC=no\nCanNTP=yes\nNTP=yes\nNTPSynchronized={synced}\n"
        f"TimeUSec={now}\nRTCTimeUSec={now}\n",
    )
    spec.probe(
        "timesync-status",
        "",
        rc=1,
        stderr="Failed to query server: The name org.freedesktop.timesync1 "
        "was not provided by any .service files\n",
    )


# --- systemd: services, unit files, timers ------------------------------------------------


def units_of(sets: list[str]) -> list[tuple[str, str, str, str, str]]:
    """Return (unit, active, sub, unit-file state, description) of the standard build's service sets."""
    out = []
    for line in kaku("/systemd-units.tsv").splitlines():
        if line and not line.startswith("#"):
            group, unit, active, sub, state, desc = line.split("\t")
            if group in sets:
                out.append((unit, active, sub, "" if state == "-" else state, desc))
    return out


TIMERS = [  # (timer, activates, hour, minute, every n days)
    ("apt-daily.timer", "apt-daily.service", 6, 12, 1),
    ("apt-daily-upgrade.timer", "apt-daily-upgrade.service", 6, 41, 1),
    ("dpkg-db-backup.timer", "dpkg-db-backup.service", 0, 0, 1),
    ("e2scrub_all.timer", "e2scrub_all.service", 3, 10, 7),
    ("fstrim.timer", "fstrim.service", 0, 0, 7),
    ("logrotate.timer", "logrotate.service", 0, 0, 1),
    ("man-db.timer", "man-db.service", 3, 27, 1),
]


def role_units(spec: Spec) -> list[str]:
    system, role = spec.host.system, spec.role
    keys: list[str] = []
    if spec.terminal:  # terminals use the systems; they serve nothing
        return keys
    if system in (
        "住民記録",
        "税(個人住民税・収納)",
        "国民健康保険",
        "戸籍",
        "文書管理",
        "財務会計",
        "グループウェア",
        "ホームページCMS",
        "統合監視",
    ):
        keys.append("app")
    if system in ("基幹系データベース", "統合監視"):
        keys.append("postgres")
    if system == "統合監視":
        keys.append("zabbix")
    if system == "ファイルサーバ":
        keys.append("samba")
    if role == "proxy":
        keys.append("squid")
    if system.startswith("メール中継"):
        keys.append("postfix")
    if system == "ホームページCMS":
        keys.append("php")
    if role == "backup_storage":
        keys.append("rest")
    return keys


def backed_up(spec: Spec) -> bool:
    return spec.role in ("server", "log_server", "bastion", "proxy")


def backup_unit(spec: Spec) -> tuple[str, str, int, int, str] | None:
    """Return the host's backup timer (timer, service, hour, minute, description), if it has one."""
    if backed_up(spec):
        return (
            "restic-backup.timer",
            "restic-backup.service",
            1,
            0,
            "Daily backup to backup-local-01 (restic)",
        )
    if spec.name == "backup-local-01":
        return (
            "restic-copy-dc.timer",
            "restic-copy-dc.service",
            3,
            0,
            "Copy restic repositories to backup-dc-01",
        )
    if spec.role == "backup_storage":
        return ("restic-check.timer", "restic-check.service", 5, 0, "Check restic repositories")
    return None


def add_systemd(spec: Spec) -> None:
    units = units_of(["base", "desktop" if spec.terminal else "vm", *role_units(spec)])
    if spec.terminal and spec.smartcard:
        units.append(("pcscd.service", "inactive", "dead", "indirect", "PC/SC Smart Card Daemon"))
    if spec.usbguard:
        units.append(("usbguard.service", "active", "running", "enabled", "USBGuard daemon"))
    job = backup_unit(spec)
    if job:
        units.append((job[1], "inactive", "dead", "static", job[4]))
    if spec.dev.get("time_broken"):
        units = [
            ("chrony.service", "failed", "failed", "enabled", u[4]) if u[0] == "chrony.service" else u
            for u in units
        ]
    units.sort(key=lambda u: u[0].lower())
    rows = []
    for unit, active, sub, state, desc in units:
        load = "not-found" if state == "" and unit.startswith("systemd-timesyncd") else "loaded"
        rows.append([unit, load, active, sub, desc])
    spec.probe("systemctl-units", table(rows))
    files = [
        [u[0], u[3], "enabled" if u[3] in ("enabled", "indirect") else "-" if u[3] == "static" else "enabled"]
        for u in units
        if u[3] and not u[0].startswith(("ifup@", "getty@", "postgresql@", "postfix@"))
    ]
    files += [["getty@.service", "enabled", "enabled"], ["ifup@.service", "static", "-"]]
    for template in ("postgresql@.service", "postfix@.service"):
        if any(u[0].startswith(template.removesuffix(".service")) for u in units):
            files.append([template, "indirect", "enabled"])
    timers = list(TIMERS)
    if job:
        timers.append((job[0], job[1], job[2], job[3], 1))
    files += [[t[0], "enabled", "enabled"] for t in timers]
    files.sort(key=lambda r: r[0].lower())
    spec.probe("systemctl-unit-files", table(files))
    trows = []
    for timer, service, hour, minute, every in timers:
        last = AT.replace(hour=hour, minute=minute, second=pick(spec.name, timer, 59))
        if last > AT:
            last -= timedelta(days=1)
        if every == 7:  # weekly timers last ran on Monday (fstrim) or Sunday (e2scrub)
            last -= timedelta(days=(last.weekday() - (0 if timer == "fstrim.timer" else 6)) % 7)
        if spec.dev.get("backup_stale") and timer == "restic-backup.timer":
            last = AT.replace(hour=1, minute=0, second=7)
        nxt = last + timedelta(days=every)
        trows.append(
            [
                fmt_time(nxt),
                until(nxt - AT) + " left",
                fmt_time(last),
                until(AT - last) + " ago",
                timer,
                service,
            ]
        )
    trows.sort(key=lambda r: r[0])
    spec.probe("systemctl-timers", table(trows))


def fmt_time(moment: datetime) -> str:
    return moment.strftime("%a %Y-%m-%d %H:%M:%S JST")


def until(delta: timedelta) -> str:
    """Format a span as systemctl list-timers does (systemd's format_timestamp_relative)."""
    seconds = int(delta.total_seconds())
    days, hours, minutes = seconds // 86400, seconds // 3600, seconds // 60
    if days >= 2:
        return f"{days} days"
    if hours >= 25:
        return f"1 day {hours - 24}h"
    if hours >= 6:
        return f"{hours}h"
    if hours >= 1:
        return f"{hours}h {minutes - 60 * hours}min"
    return f"{minutes}min"


# --- network and host firewall ------------------------------------------------------------


def mac(spec: Spec, ifname: str) -> str:
    digest = hashlib.sha256(f"{spec.name}:{ifname}".encode()).digest()
    prefix = "3c:52:82" if spec.terminal else "00:50:56"  # HP desktops / VMware guests
    return prefix + "".join(f":{b:02x}" for b in digest[:3])


def link_local(hwaddr: str) -> str:
    octets = [int(x, 16) for x in hwaddr.split(":")]
    octets[0] ^= 0x02
    eui = [*octets[:3], 0xFF, 0xFE, *octets[3:]]
    groups = [f"{(eui[i] << 8) | eui[i + 1]:x}" for i in range(0, 8, 2)]
    return "fe80::" + ":".join(groups)


def interfaces(spec: Spec) -> list[tuple[str, str, int]]:
    out = [(spec.ifname, spec.host.address, 24)]
    if spec.dev.get("second_nic"):
        out.append(spec.dev["second_nic"])
    return out


FOREVER = 4294967295
ROUTE_KEYS = (
    "type",
    "dst",
    "gateway",
    "dev",
    "table",
    "protocol",
    "scope",
    "prefsrc",
    "metric",
    "flags",
    "pref",
)


def address_info(family: str, local: str, prefix: int, scope: str, **extra: Any) -> dict[str, Any]:
    """Return one addr_info entry in the key order `ip -j addr` prints."""
    info: dict[str, Any] = {"family": family, "local": local, "prefixlen": prefix}
    info.update({k: v for k, v in extra.items() if k == "broadcast"})
    info["scope"] = scope
    info.update({k: v for k, v in extra.items() if k != "broadcast"})
    return {**info, "valid_life_time": FOREVER, "preferred_life_time": FOREVER}


def link(
    index: int, name: str, flags: list[str], kind: str, hwaddr: str, addrs: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    """Return one interface in the key order `ip -j addr` prints."""
    loopback = kind == "loopback"
    out: dict[str, Any] = {
        "ifindex": index, "ifname": name, "flags": flags, "mtu": 65536 if loopback else 1500,
        "qdisc": extra.pop("qdisc", "noqueue"), "operstate": "UNKNOWN" if loopback else "UP", "group": "default",
        "txqlen": 1000, "link_type": kind, "address": hwaddr,
        "broadcast": "00:00:00:00:00:00" if loopback else "ff:ff:ff:ff:ff:ff",
    }  # fmt: skip
    return {**out, **extra, "addr_info": addrs}


def ip_addr(spec: Spec) -> str:
    links = [link(1, "lo", ["LOOPBACK", "UP", "LOWER_UP"], "loopback", "00:00:00:00:00:00", [
        address_info("inet", "127.0.0.1", 8, "host", label="lo"),
        address_info("inet6", "::1", 128, "host", noprefixroute=True),
    ])]  # fmt: skip
    for index, (ifname, address, prefix) in enumerate(interfaces(spec), start=2):
        hwaddr = mac(spec, ifname)
        net = address.rsplit(".", 1)[0]
        extra: dict[str, Any] = {"qdisc": "fq_codel" if spec.terminal else "mq"}
        if not spec.terminal:
            extra["altnames"] = [f"enp{11 + 8 * (index - 2)}s0"]
        links.append(link(index, ifname, ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"], "ether", hwaddr, [
            address_info("inet", address, prefix, "global", broadcast=f"{net}.255", label=ifname),
            address_info("inet6", link_local(hwaddr), 64, "link"),
        ], **extra))  # fmt: skip
    return json.dumps(links, separators=(",", ":")) + "\n"


ZONE_ROUTES = {  # static routes per zone; only LGWAN and internet hosts have a default route
    "mynumber": ["10.10.0.0/16", "10.90.0.0/16"],
    "mgmt": ["10.10.0.0/16", "10.20.0.0/16", "10.30.0.0/16", "10.99.0.0/16"],
    "dc": ["10.90.0.0/16"],
}


def route(dst: str, **fields: Any) -> dict[str, Any]:
    """Return one route in the key order `ip -j route` prints."""
    values = {"dst": dst, "flags": [], **fields}
    return {k: values[k] for k in ROUTE_KEYS if k in values}


def ip_route(spec: Spec) -> str:
    ifname, address, _ = interfaces(spec)[0]
    gateway = address.rsplit(".", 1)[0] + ".1"
    routes = [route("default", gateway=gateway, dev=ifname)] if spec.zone in ("lgwan", "internet") else []
    routes += [
        route(dst, gateway=gateway, dev=ifname, protocol="boot") for dst in ZONE_ROUTES.get(spec.zone, [])
    ]
    local = []
    for dev, addr, prefix in interfaces(spec):
        net = addr.rsplit(".", 1)[0]
        routes.append(route(f"{net}.0/{prefix}", dev=dev, protocol="kernel", scope="link", prefsrc=addr))
        host = {"dev": dev, "table": "local", "protocol": "kernel", "prefsrc": addr}
        local += [
            route(addr, type="local", scope="host", **host),
            route(f"{net}.255", type="broadcast", scope="link", **host),
        ]
    lo = {"dev": "lo", "table": "local", "protocol": "kernel", "prefsrc": "127.0.0.1"}
    loopback = [
        route("127.0.0.0/8", type="local", scope="host", **lo),
        route("127.0.0.1", type="local", scope="host", **lo),
        route("127.255.255.255", type="broadcast", scope="link", **lo),
    ]
    six = [
        route("fe80::/64", dev=dev, protocol="kernel", metric=256, pref="medium")
        for dev, _, _ in interfaces(spec)
    ]
    six.append(
        route("::1", type="local", dev="lo", table="local", protocol="kernel", metric=0, pref="medium")
    )
    return json.dumps(routes + loopback + local + six, separators=(",", ":")) + "\n"


def services_ports(spec: Spec) -> list[tuple[str, int, str]]:
    """Return (proto, port, who may connect) for what the host serves beyond SSH."""
    system, role = spec.host.system, spec.role
    zone_cidr = spec.inv.zones[spec.zone].cidrs[0]
    all_zones = "10.10.0.0/16, 10.20.0.0/16, 10.30.0.0/16, 10.90.0.0/16"
    if role == "log_server":
        return [("tcp", 6514, zone_cidr + (", 10.99.0.0/16" if spec.zone == "mgmt" else ""))]
    if role == "proxy":
        return [("tcp", 8080, zone_cidr)]
    if role == "backup_storage":
        return [("tcp", 443, "10.90.0.10" if spec.name == "backup-dc-01" else all_zones)]
    if system == "基幹系データベース":
        return [("tcp", 5432, "10.10.10.0/24")]
    if system == "ファイルサーバ":
        return [("tcp", 139, zone_cidr), ("tcp", 445, zone_cidr)]
    if system == "ホームページCMS":
        return [("tcp", 80, "0.0.0.0/0"), ("tcp", 443, "0.0.0.0/0")]
    if system.startswith("メール中継"):
        return [("tcp", 25, "0.0.0.0/0")]
    if system == "統合監視":
        return [("tcp", 443, zone_cidr), ("tcp", 10051, all_zones)]
    if "app" in role_units(spec):
        return [("tcp", 443, zone_cidr)]
    return []


def ss_listen(spec: Spec) -> str:
    rows = [
        ["udp", "UNCONN", "0", "0", "127.0.0.1:323", "0.0.0.0:*"],
        ["udp", "UNCONN", "0", "0", "[::1]:323", "[::]:*"],
        ["tcp", "LISTEN", "0", "128", "0.0.0.0:22", "0.0.0.0:*"],
        ["tcp", "LISTEN", "0", "128", "[::]:22", "[::]:*"],
    ]
    if spec.terminal:
        rows.append(["tcp", "LISTEN", "0", "128", "127.0.0.1:631", "0.0.0.0:*"])
    if spec.host.system.startswith("メール中継"):
        rows.append(["tcp", "LISTEN", "0", "100", "127.0.0.1:10025", "0.0.0.0:*"])
    for proto, port, _ in services_ports(spec):
        if port == 5432:
            rows += [
                ["tcp", "LISTEN", "0", "244", "127.0.0.1:5432", "0.0.0.0:*"],
                ["tcp", "LISTEN", "0", "244", f"{spec.host.address}:5432", "0.0.0.0:*"],
            ]
        else:
            backlog = (
                "511"
                if port in (80, 443)
                else "4096"
                if port in (6514, 8080)
                else "100"
                if port == 25
                else "50"
            )
            rows.append([proto, "LISTEN", "0", backlog, f"0.0.0.0:{port}", "0.0.0.0:*"])
            rows.append([proto, "LISTEN", "0", backlog, f"[::]:{port}", "[::]:*"])
    rows.sort(key=lambda r: (r[0] != "udp", int(r[4].rsplit(":", 1)[1])))
    out = []
    for netid, state, recv, send, local, peer in rows:
        addr, number = local.rsplit(":", 1)
        out.append(f"{netid:<5} {state:<6} {recv:<6} {send:<6} {addr:>15}:{number:<5} {peer:>9}")
    return "\n".join(out) + "\n"


def nft_ruleset(spec: Spec) -> str:
    rules = [
        "\t\tct state established,related accept",
        "\t\tct state invalid drop",
        '\t\tiif "lo" accept',
        "\t\ticmp type echo-request accept",
        "\t\tmeta l4proto ipv6-icmp accept",
        f'\t\tip saddr {BASTION} tcp dport 22 accept comment "bastion-01"',
    ]
    for proto, port, sources in services_ports(spec):
        src = (
            ""
            if sources == "0.0.0.0/0"
            else (f"ip saddr {{ {sources} }} " if "," in sources else f"ip saddr {sources} ")
        )
        rules.append(f"\t\t{src}{proto} dport {port} accept")
    rules.append('\t\tlimit rate 10/minute log prefix "nft-input-drop: "')
    return (
        "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n"
        + "\n".join(rules)
        + "\n\t}\n\n\tchain forward {\n\t\ttype filter hook forward priority filter; "
        "policy drop;\n\t}\n\n\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n"
        "\t}\n}\n"
    )


def add_network(spec: Spec) -> None:
    spec.probe("ip-addr", ip_addr(spec))
    spec.probe("ip-route", ip_route(spec))
    spec.probe("ss-listen", ss_listen(spec))
    spec.probe("nft-ruleset", nft_ruleset(spec))
    spec.probe("iptables-save", "", rc=127, stderr="sh: 1: iptables-save: not found\n")


# --- packages, anti-malware ---------------------------------------------------------------


def add_packages(spec: Spec) -> None:
    spec.add("/etc/os-release", stock("/etc/os-release"), mtime=datetime(2026, 9, 6, 10, 0, tzinfo=JST))
    pending: list[tuple[str, str, str, str, str]] = [
        (name, old, new, "Debian-Security:12/oldstable-security", arch)
        for name, old, new, arch in spec.dev.get("pending_security", [])
    ]
    if pick(spec.name, "pointrelease", 5) == 0:  # the 12.13 point release, not yet applied here
        pending += [
            ("base-files", "12.4+deb12u12", "12.4+deb12u13", "Debian:12.13/oldstable", "amd64"),
            ("tzdata", "2025b-0+deb12u2", "2026a-0+deb12u1", "Debian:12.13/oldstable", "all"),
        ]
    out = "Reading package lists...\nBuilding dependency tree...\nReading state information...\nCalculating upgrade...\n"
    if pending:
        names = " ".join(sorted(p[0] for p in pending))
        out += f"The following packages will be upgraded:\n  {names}\n"
    out += f"{len(pending)} upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n"
    out += "".join(f"Inst {n} [{old}] ({new} {origin} [{arch}])\n" for n, old, new, origin, arch in pending)
    out += "".join(f"Conf {n} ({new} {origin} [{arch}])\n" for n, _, new, origin, arch in pending)
    spec.probe("apt-upgradable", out)


def add_malware(spec: Spec) -> None:
    updated = ago(hours=2 + pick(spec.name, "freshclam", 9), minutes=pick(spec.name, "fc-min", 60))
    spec.stat("/var/lib/clamav", updated, mode="0755", uid=103, gid=105)
    signatures = [  # bytecode and main change rarely; daily.cld is updated by freshclam every few hours
        ("bytecode.cvd", datetime(2026, 9, 22, 4, 11, tzinfo=JST), 283_136),
        ("daily.cld", updated, 93_102_592),
        ("freshclam.dat", updated, 1_604),
        ("main.cvd", datetime(2025, 10, 1, 10, 33, tzinfo=JST), 170_479_789),
    ]
    for name, mtime, size in signatures:
        spec.stat(f"/var/lib/clamav/{name}", mtime, size=size, uid=103, gid=105)


# --- backup -------------------------------------------------------------------------------


def add_backup(spec: Spec) -> None:
    spec.stock("/etc/crontab")
    spec.stock("/etc/cron.d/e2scrub_all")
    job = backup_unit(spec)
    if job is None:
        return
    generations = (
        {"daily": 14, "weekly": 8, "monthly": 12}
        if spec.zone == "mynumber"
        else {"daily": 7, "weekly": 4, "monthly": 6}
    )
    finished = ago(minutes=30 + pick(spec.name, "backup", 40))
    copied = AT - timedelta(days=1) + timedelta(hours=1, minutes=38 + pick(spec.name, "copy", 20))
    status: dict[str, Any] = {"tool": "restic", "job": job[1].removesuffix(".service")}
    if spec.role == "backup_storage":
        status.update(
            last_success=iso(copied if spec.name == "backup-local-01" else ago(hours=20, minutes=31)),
            repository={"host": spec.name, "path": "/srv/restic"},
        )
        if spec.name == "backup-local-01":
            status["copies"] = [{"host": "backup-dc-01", "last_success": iso(copied)}]
    elif spec.dev.get("backup_stale"):
        stale = AT - timedelta(hours=48)
        status.update(
            last_success=iso(stale),
            last_run=iso(AT.replace(hour=1, minute=0, second=7)),
            last_result="failure",
            last_error="unable to create lock in backend: repository is already locked by PID 2841 "
            "on backup-local-01 since 2026-11-18 01:12:55",
            repository={"host": "backup-local-01", "path": f"/srv/restic/{spec.name}"},
            copies=[{"host": "backup-dc-01", "last_success": iso(stale + timedelta(hours=1, minutes=41))}],
        )
    else:
        status.update(
            last_success=iso(finished),
            repository={"host": "backup-local-01", "path": f"/srv/restic/{spec.name}"},
            copies=[{"host": "backup-dc-01", "last_success": iso(copied)}],
        )
    status.setdefault("last_run", status["last_success"])
    status.setdefault("last_result", "success")
    status["generations"] = generations
    tested = datetime(2026, 6, 3 + pick(spec.name, "restore", 25), tzinfo=JST)
    status["restore_test"] = {
        "date": tested.date().isoformat(),
        "result": "success",
        "record": f"情報政策課 復元テスト記録 R8-{40 + pick(spec.name, 'rec', 50):03d}",
    }
    order = [
        "tool",
        "job",
        "last_success",
        "last_run",
        "last_result",
        "last_error",
        "repository",
        "copies",
        "generations",
        "restore_test",
    ]
    ordered = {k: status[k] for k in order if k in status}
    spec.add(
        "/var/lib/kijun/backup-status.json",
        json.dumps(ordered, ensure_ascii=False, indent=2) + "\n",
        mode="0640",
        mtime=datetime.fromisoformat(str(ordered["last_run"])),
    )


# --- idle lock, log freshness -------------------------------------------------------------


def add_screenlock(spec: Spec) -> None:
    spec.stock("/etc/profile")
    spec.stock("/etc/bash.bashrc")
    spec.kaku("/etc/profile.d/kaku-tmout.sh")
    if spec.terminal:
        spec.kaku("/etc/dconf/db/local.d/00-kaku-screensaver")
        spec.kaku("/etc/dconf/db/local.d/locks/00-kaku-screensaver")


LOG_FILES = [  # (name, mode, gid, minutes since last write, size)
    ("audit", "0750", 4, 1, None),
    ("auth.log", "0640", 4, 3, 48_210),
    ("btmp", "0660", 43, 60 * 24 * 9, 0),
    ("cron.log", "0640", 4, 43, 9_877),
    ("journal", "2755", 101, 0, None),
    ("kern.log", "0640", 4, 60 * 9, 12_338),
    ("lastlog", "0664", 43, 60 * 20, 292_292),
    ("sudo.log", "0600", 0, 60 * 18, 6_530),
    ("syslog", "0640", 4, 0, 1_204_551),
    ("wtmp", "0664", 43, 60 * 20, 38_016),
]


def add_logs(spec: Spec) -> None:
    for name, mode, gid, minutes, size in LOG_FILES:
        spec.stat(
            f"/var/log/{name}",
            ago(minutes=minutes, seconds=pick(spec.name, name, 50)),
            mode=mode,
            size=size,
            gid=gid,
        )
    if spec.role != "log_server":
        return
    spec.stat("/var/log/remote", ago(days=3), mode="0750", gid=4)
    zones = ("mgmt", "dc") if spec.zone == "mgmt" else (spec.zone,)
    for source in spec.inv.hosts:
        if source.zone not in zones or source.name == spec.name or source.os != "linux":
            continue
        last = ago(seconds=2 + pick(source.name, "lastlog", 170))
        spec.stat(
            f"/var/log/remote/{source.name}", ago(days=pick(source.name, "dir", 30)), mode="0750", gid=4
        )
        spec.stat(
            f"/var/log/remote/{source.name}/{source.name}.log",
            last,
            mode="0640",
            gid=4,
            size=2_000_000 + pick(source.name, "size", 40_000_000),
        )
        spec.stat(
            f"/var/log/remote/{source.name}/archive",
            datetime(2026, 11, 1, 0, 0, 4, tzinfo=JST),
            mode="0750",
            gid=4,
        )


def add_proxy(spec: Spec) -> None:
    """Internet-zone hosts reach the web only through proxy-01 (自治体情報セキュリティクラウド)."""
    if spec.host.zone != "internet" or spec.host.role == "proxy":
        return
    proxy = "http://10.30.1.20:8080/"
    text = (
        f'http_proxy="{proxy}"\nhttps_proxy="{proxy}"\nHTTP_PROXY="{proxy}"\nHTTPS_PROXY="{proxy}"\n'
        'no_proxy="localhost,127.0.0.1,.in.kaku.lg.jp"\n'
    )
    spec.add("/etc/environment", text, mtime=datetime(2026, 4, 1, 9, 0, tzinfo=JST))


# --- assemble -----------------------------------------------------------------------------

BUILDERS = (
    add_sshd,
    add_pam,
    add_accounts,
    add_modules,
    add_logging,
    add_time,
    add_systemd,
    add_network,
    add_packages,
    add_malware,
    add_backup,
    add_screenlock,
    add_logs,
    add_proxy,
)


def declared_paths() -> list[str]:
    """Return the exact (glob-free) file paths the parsers read: absent ones are collected as absent."""
    paths = {p for s in SUBJECTS.values() for p in s.files if not any(c in p for c in "*?[")}
    return sorted(paths)


WINDOWS_BASELINE = WARD / "baseline" / "windows" / "terminal.json"


def windows_snapshot(spec: Spec) -> dict[str, Any]:
    """Return a Windows terminal's raw facts: the recorded collector output, moved to this scan's date."""
    base = json.loads(WINDOWS_BASELINE.read_text(encoding="utf-8"))
    shift = AT.date() - datetime.fromisoformat(base["collected_at"]).date()

    def moved(text: str) -> str:
        def one(m: re.Match[str]) -> str:
            sep = m.group(2)
            day = datetime.strptime(m.group(0), f"%Y{sep}%m{sep}%d").date() + shift
            return day.strftime(f"%Y{sep}%m{sep}%d")

        text = re.sub(r"(\d{4})([-/])\d{2}\2\d{2}", one, text)
        # The LGWAN zone's own time server, not the My Number zone's.
        return (
            text.replace("ntp1.mn.", "ntp1.lg.")
            .replace("10.10.1.5", "10.20.1.5")
            .replace("0x0A0A0105", "0x0A140105")
        )

    items = {}
    for item_id, item in base["items"].items():
        item = dict(item)
        if "stdout" in item:
            item["stdout"] = moved(item["stdout"])
            item["sha256"] = hashlib.sha256(item["stdout"].encode("utf-8")).hexdigest()
        items[item_id] = item
    return {"host": spec.name, "collected_at": iso(AT), "collector": dict(base["collector"]), "items": items}


def snapshot(spec: Spec) -> dict[str, Any]:
    """Build one host's raw facts (Windows terminals: the recorded Windows collector output)."""
    if spec.host.os == "windows":
        return windows_snapshot(spec)
    if spec.host.os == "linux":
        for build in BUILDERS:
            build(spec)
    absent = [p for p in declared_paths() if p not in spec.files] if spec.host.os == "linux" else []
    raw = build_raw(
        host=spec.name,
        collected_at=iso(AT),
        files=spec.files,
        absent=absent,
        stats=spec.stats,
        probes=spec.probes,
    )
    raw = replace(raw, collector=dict(COLLECTOR))
    return raw.to_json()


def dump(obj: dict[str, Any]) -> str:
    """Serialise raw facts with one item per line: readable diffs at a fraction of the indented size."""
    head = {k: v for k, v in obj.items() if k != "items"}
    lines = [
        f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False, sort_keys=True)},"
        for k, v in sorted(head.items())
    ]
    items = [
        f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False, sort_keys=True)}"
        for k, v in sorted(obj["items"].items())
    ]
    body = "{\n" + ",\n".join(items) + "\n }" if items else "{}"
    return "{\n" + "\n".join(lines) + f'\n "items": {body}\n}}\n'


def main() -> int:
    """Write (or with --check, compare) every host's snapshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 when a snapshot differs")
    args = parser.parse_args()
    inv = load(WARD)
    unknown = sorted(set(DEVIATIONS) - {h.name for h in inv.hosts})
    if unknown:
        raise SystemExit(f"DEVIATIONS name hosts not in the inventory: {', '.join(unknown)}")
    out_dir = WARD / "snapshots"
    out_dir.mkdir(exist_ok=True)
    wanted: set[str] = set()
    changed = 0
    for host in inv.hosts:
        spec = Spec(host=host, inv=inv, dev=DEVIATIONS.get(host.name, {}))
        text = dump(snapshot(spec))
        path = out_dir / f"{host.name}.json"
        wanted.add(path.name)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            changed += 1
            if not args.check:
                path.write_text(text, encoding="utf-8")
    stale = sorted(p for p in out_dir.glob("*.json") if p.name not in wanted)
    for path in stale:
        changed += 1
        if not args.check:
            path.unlink()
    total = sum(p.stat().st_size for p in out_dir.glob("*.json"))
    verb = "differ" if args.check else "written"
    print(f"{len(inv.hosts)} hosts, {changed} snapshot(s) {verb}, {total / 1_000_000:.2f} MB in {out_dir}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
