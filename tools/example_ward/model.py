"""One host as the generator sees it, the ward's constants and the small helpers every area uses."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from string import Template
from typing import Any

from scanner.inventory import Host, Inventory

ROOT = Path(__file__).resolve().parents[2]
WARD = ROOT / "inventories" / "example-ward"
STOCK = WARD / "baseline" / "debian12"  # stock Debian 12 files and recorded probe outputs
KAKU = WARD / "baseline" / "kaku"  # the ward's standard: what its Ansible role deploys
JST = timezone(timedelta(hours=9))
AT = datetime(2026, 11, 20, 2, 0, 0, tzinfo=JST)  # the nightly scheduled scan
COLLECTOR = {"name": "kijun-local", "version": "0.1.0"}
INSTALLED = datetime(2025, 3, 18, 14, 20, tzinfo=JST)  # servers built on the 共通仮想化基盤
TERMINALS = datetime(2025, 9, 2, 11, 0, tzinfo=JST)  # terminals imaged
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
    """One host as the generator sees it: the inventory record, its deviations' facts, the items built.

    ``facts`` holds what the host's deviations change in the baseline model (deviations.yaml,
    key ``facts``): ``built``, ``usb_standard``, ``interfaces``, ``people``, ``pass_max_days``,
    ``pending_security``, ``units``, ``backup``, ``ports``.
    """

    host: Host
    inv: Inventory
    facts: dict[str, Any] = field(default_factory=dict)
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
        return bool(self.facts.get("usb_standard", True))

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
        if "built" in self.facts:
            return datetime.fromisoformat(self.facts["built"])
        return TERMINALS if self.terminal else INSTALLED

    def add(
        self, path: str, content: str, mode: str = "0644", mtime: datetime = STANDARD, gid: int = 0
    ) -> None:
        self.files[path] = {"content": content, "mode": mode, "uid": 0, "gid": gid, "mtime": ts(mtime)}

    def stock(self, path: str, mode: str = "0644") -> None:
        self.add(path, stock(path), mode=mode, mtime=self.built)

    def kaku(self, path: str, mode: str = "0644") -> None:
        self.add(path, kaku(path), mode=mode, mtime=max(STANDARD, self.built))

    def template(self, path: str, mode: str = "0644", mtime: datetime = STANDARD, **values: object) -> None:
        """Write a file from the standard's template baseline/kaku/templates/<path> (``${name}`` fields)."""
        self.add(path, Template(kaku("/templates" + path)).substitute(values), mode=mode, mtime=mtime)

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


def contractor(name: str) -> bool:
    """Return whether an account is a contractor's (group kaku-vendor): v-<system> or w-<person>."""
    return name.startswith(("v-", "w-"))


def has_contractors(spec: Spec) -> bool:
    """Return whether contractor accounts (group kaku-vendor) exist on the host."""
    return bool(vendor_account(spec)) or any(contractor(p["name"]) for p in spec.facts.get("people", []))
