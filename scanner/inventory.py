"""Own the frozen Host, Zone and Site records and kijun's own YAML inventory format.

An inventory is a YAML file, or a folder holding ``inventory.yaml`` (with ``snapshots/`` and
``waivers/`` beside it). Other formats (the CSV 資産管理台帳, Ansible inventories) are read by their
own modules, chosen by scanner.inventories, and build their hosts with ``build_host`` here, so every
format is validated alike. Credentials are never part of an inventory: keys, the agent, or the name
of an environment variable only.
"""

from __future__ import annotations

import functools
import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.errors import LoadError
from scanner.inputcheck import host_problem
from scanner.yamlsrc import Node, load_yaml, validate

ROLES = ("server", "terminal", "network_device", "log_server", "backup_storage", "bastion", "proxy")
SITE_KINDS = ("office", "external_dc", "branch", "cloud")
TRANSPORTS = ("ssh", "local", "files", "snapshot", "windows")


@dataclass(frozen=True)
class Zone:
    """A network zone (マイナンバー利用事務系, LGWAN接続系, ...) and its address ranges."""

    name: str
    label_ja: str
    label_en: str
    cidrs: tuple[str, ...] = ()

    def contains(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.split("/")[0])
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(c, strict=False) for c in self.cidrs)


@dataclass(frozen=True)
class Site:
    """A physical site: 本庁舎, an external data center, a branch, a cloud."""

    name: str
    kind: str
    label: str = ""


@dataclass(frozen=True)
class Host:
    """One inventory entry. Frozen: it crosses every module boundary."""

    name: str
    zone: str
    role: str
    address: str = ""
    site: str = ""
    owner: str = ""
    classification: str = ""
    os: str = "linux"
    transport: str = "ssh"
    user: str = ""
    port: int = 22
    become: bool = False
    jump: str = ""
    system: str = ""
    identity_file: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)
    snapshot: str = ""  # absolute path, for transport "snapshot"
    root: str = ""  # absolute path, for transport "files"
    line: int = 0  # where the host is declared

    def to_json(self) -> dict[str, Any]:
        keys = (
            "name",
            "address",
            "zone",
            "role",
            "site",
            "owner",
            "classification",
            "os",
            "transport",
            "system",
        )
        out: dict[str, Any] = {k: getattr(self, k) for k in keys}
        out["labels"] = dict(self.labels)
        return out


@dataclass(frozen=True)
class Inventory:
    """A loaded, validated inventory."""

    path: Path
    name: str
    zones: dict[str, Zone]
    sites: dict[str, Site]
    hosts: tuple[Host, ...]
    profile: str = ""
    waivers_dir: Path | None = None
    base_dir: Path = Path(".")
    municipality: dict[str, str] = field(default_factory=dict)

    def host(self, name: str) -> Host | None:
        """Return the host with this exact name (a dict lookup: called per host at 10,000 hosts)."""
        index = self._index.get(("name", name))
        return None if index is None else self.hosts[index]

    def first(self, *keys: tuple[str, str]) -> Host | None:
        """Return the first host, in inventory order, that has any of ``keys``.

        A key is ``("name", name)``, ``("address", address)`` or ``("lower", lower-cased name)``.
        """
        found = [i for key in keys if (i := self._index.get(key)) is not None]
        return self.hosts[min(found)] if found else None

    @functools.cached_property
    def _index(self) -> dict[tuple[str, str], int]:
        """The first position of each name, address and lower-cased name (frozen: built once)."""
        out: dict[tuple[str, str], int] = {}
        for i, h in enumerate(self.hosts):
            for key in (("name", h.name), ("address", h.address), ("lower", h.name.lower())):
                out.setdefault(key, i)
        return out

    def zones_of(self, address: str) -> list[str]:
        """Return the names of the zones whose CIDRs contain an address."""
        return [z.name for z in self.zones.values() if z.contains(address)]

    def site_kind(self, site: str) -> str:
        found = self.sites.get(site)
        return found.kind if found else ""


def inventory_file(path: Path) -> Path:
    """Return the YAML file for an inventory path (a file, or a folder with inventory.yaml)."""
    if path.is_dir():
        for name in ("inventory.yaml", "inventory.yml"):
            if (path / name).is_file():
                return path / name
        raise LoadError(str(path), None, "no inventory.yaml in this folder")
    if not path.exists():
        raise LoadError(str(path), None, "no such inventory")
    return path


def label_text(value: Any) -> str:
    """Return a label value as text; YAML booleans become "true"/"false" so selectors match."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _labels(value: Any) -> dict[str, str]:
    if isinstance(value, list):
        return {str(v): "true" for v in value}
    if isinstance(value, dict):
        return {str(k): label_text(v) for k, v in value.items()}
    return {}


def _merge(*layers: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if key in ("labels", "vars") and isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = {**out[key], **value}
            else:
                out[key] = value
    return out


def load(path: Path, doc: Any = None) -> Inventory:
    """Load and validate a kijun YAML inventory, raising LoadError (file:line) on the first problem.

    ``doc`` is the file's document when the caller has parsed it already (scanner.inventories, which
    reads it to tell the format). Other formats: scanner.inventories.load picks the format of a path.

    >>> inv = load(Path("inventories/example-ward"))  # doctest: +SKIP
    >>> inv.hosts[0].zone  # doctest: +SKIP
    'mynumber'
    """
    forget_folders()  # folders are resolved anew for every inventory read
    file = inventory_file(path)
    if doc is None:
        doc = load_yaml(file)
    validate(doc, "inventory", file)
    base = file.parent
    zones = {
        name: Zone(
            name, str(z.get("label_ja", name)), str(z.get("label_en", name)), tuple(z.get("cidrs", ()))
        )
        for name, z in doc.get("zones", {}).items()
    }
    for name, z in doc.get("zones", {}).items():
        for cidr in z.get("cidrs", ()):
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise LoadError(str(file), z.line_of("cidrs"), f"zone {name}: bad CIDR {cidr!r}") from None
    sites = {
        name: Site(name, str(s.get("kind", "office")), str(s.get("label", "")))
        for name, s in doc.get("sites", {}).items()
    }
    defaults: dict[str, Any] = dict(doc.get("defaults", {}))
    groups: dict[str, Any] = doc.get("groups", {})
    hosts: list[Host] = []
    seen: dict[str, int] = {}
    for entry in doc.get("hosts", []):
        line = entry.line if isinstance(entry, Node) else 0
        layers: list[dict[str, Any]] = [defaults]
        for group in entry.get("groups", []):
            if group not in groups:
                raise LoadError(
                    str(file), entry.line_of("groups"), f"host {entry['name']}: undeclared group {group!r}"
                )
            layers.append(dict(groups[group]))
        merged = _merge(*layers, dict(entry))
        hosts.append(build_host(merged, file, base, zones, sites, line, entry))
        claim_name(seen, merged["name"], str(file), line)
    names = set(seen)
    for host in hosts:
        if host.jump and host.jump not in names:
            raise LoadError(
                str(file), host.line, f"host {host.name}: jump host {host.jump!r} is not in the inventory"
            )
    waivers = doc.get("waivers")
    waivers_dir = (base / waivers) if waivers else (base / "waivers" if (base / "waivers").is_dir() else None)
    return Inventory(
        path=file,
        name=str(doc.get("name", file.parent.name)),
        zones=zones,
        sites=sites,
        hosts=tuple(hosts),
        profile=str(doc.get("profile", "")),
        waivers_dir=waivers_dir,
        base_dir=base,
        municipality={str(k): str(v) for k, v in (doc.get("municipality") or {}).items()},
    )


def claim_name(seen: dict[str, int], name: str, file: str, line: int) -> None:
    """Record the line a host name is given at; LoadError when an earlier entry has it."""
    if name in seen:
        raise LoadError(file, line, f"duplicate host name {name!r} (first at line {seen[name]})")
    seen[name] = line


def build_host(
    merged: dict[str, Any],
    file: Path,
    base: Path,
    zones: dict[str, Zone],
    sites: dict[str, Site],
    line: int,
    entry: Node,
) -> Host:
    """Build one Host from the merged mapping of any inventory format, raising LoadError when invalid."""
    name = str(merged["name"])
    key, problem = host_problem(
        name, str(merged.get("owner", "")), _labels(merged.get("labels")), merged.get("vars")
    )
    if problem:  # a name that cannot become a file name, or a credential
        raise LoadError(str(file), entry.line_of(key) or line, problem)
    for key in ("zone", "role"):
        if key not in merged:
            raise LoadError(
                str(file), line, f"host {name}: no {key} (set it on the host, a group or defaults)"
            )
    if merged["zone"] not in zones:
        declared = ", ".join(sorted(zones)) or "none"
        raise LoadError(
            str(file),
            entry.line_of("zone"),
            f"host {name}: zone {merged['zone']!r} is not declared (declared: {declared})",
        )
    if merged["role"] not in ROLES:
        raise LoadError(
            str(file),
            entry.line_of("role"),
            f"host {name}: unknown role {merged['role']!r} (one of {', '.join(ROLES)})",
        )
    site = str(merged.get("site", ""))
    if site and site not in sites:
        raise LoadError(str(file), entry.line_of("site"), f"host {name}: site {site!r} is not declared")
    transport = str(merged.get("transport", "ssh"))
    snapshot = ""
    if transport == "snapshot":
        snapshot = resolved(base / str(merged.get("snapshot", f"snapshots/{name}.json")))
    root = resolved(base / str(merged["root"])) if merged.get("root") else ""
    if transport == "files" and not root:
        raise LoadError(str(file), line, f"host {name}: transport files needs root (a folder)")
    return Host(
        name=name,
        zone=str(merged["zone"]),
        role=str(merged["role"]),
        address=str(merged.get("address", "")),
        site=site,
        owner=str(merged.get("owner", "")),
        classification=str(merged.get("classification", "")),
        os=str(merged.get("os", "linux")),
        transport=transport,
        user=str(merged.get("user", "")),
        port=int(merged.get("port", 22)),
        become=bool(merged.get("become", False)),
        jump=str(merged.get("jump", "")),
        system=str(merged.get("system", "")),
        identity_file=str(merged.get("identity_file", "")),
        labels=_labels(merged.get("labels")),
        vars=dict(merged.get("vars", {})),
        snapshot=snapshot,
        root=root,
        line=line,
    )


@functools.lru_cache(maxsize=256)
def _real_folder(folder: Path) -> str:
    return str(folder.resolve())


def forget_folders() -> None:
    """Resolve folders anew from now on (each inventory read starts with this)."""
    _real_folder.cache_clear()


def resolved(path: Path) -> str:
    """Return ``str(path.resolve())``, resolving each folder once for all the hosts whose files are in it.

    An inventory of 10,000 hosts names 10,000 snapshots in one folder; resolving every path anew
    costs a stat per component per host. The last component is still looked at for each path: a
    symbolic link there is resolved in full.
    """
    name = path.name
    if name in ("", ".", "..") or os.path.islink(path):
        return str(path.resolve())
    return os.path.join(_real_folder(path.parent), name)


def single_host(root: Path, name: str = "", zone: str = "lgwan", role: str = "server") -> Inventory:
    """Build an inventory of one ``files`` host: a folder treated as a host's root (--root)."""
    host = Host(
        name=name or root.name or "root", zone=zone, role=role, transport="files", root=str(root.resolve())
    )
    zones = {zone: Zone(zone, zone, zone)}
    return Inventory(path=root, name=host.name, zones=zones, sites={}, hosts=(host,), base_dir=root)


def local_host(name: str = "localhost", zone: str = "lgwan", role: str = "server") -> Inventory:
    """Build an inventory of this machine as one ``local`` host."""
    host = Host(name=name, zone=zone, role=role, transport="local", address="127.0.0.1")
    return Inventory(path=Path("."), name=name, zones={zone: Zone(zone, zone, zone)}, sites={}, hosts=(host,))
