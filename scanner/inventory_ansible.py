"""Load an Ansible inventory (INI, YAML, or a folder with group_vars/host_vars) through ansible-core's own loader.

ansible-core is an optional extra (``pip install 'kijun[ansible]'``). Only its ``ini`` and
``yaml`` inventory plugins are enabled (no scripts, no cloud plugins), an unparsable source is an
error rather than an empty inventory, and templates are never rendered. Each host takes
``ansible_host``, ``ansible_user``, ``ansible_port``, ``ansible_become``,
``ansible_ssh_private_key_file`` and ``ansible_connection`` as Ansible defines them, and kijun's own
``kijun_zone``, ``kijun_role``, ``kijun_owner``, ... (see FIELDS) as host or group vars; the
groups a host belongs to become labels. Other variables (and any vaulted value) are never read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from scanner.errors import LoadError
from scanner.inventory import Inventory, Site, Zone, build_host
from scanner.register_words import ZONE_NAMES
from scanner.safeio import CONFIG_LIMIT
from scanner.yamlsrc import Node

# kijun host field <- Ansible variable (kijun_* win over ansible_* when both are set).
FIELDS = {
    "zone": ("kijun_zone",),
    "role": ("kijun_role",),
    "owner": ("kijun_owner",),
    "site": ("kijun_site",),
    "classification": ("kijun_classification",),
    "os": ("kijun_os",),
    "transport": ("kijun_transport",),
    "system": ("kijun_system",),
    "labels": ("kijun_labels",),
    "vars": ("kijun_vars",),
    "jump": ("kijun_jump",),
    "snapshot": ("kijun_snapshot",),
    "root": ("kijun_root",),
    "address": ("kijun_address", "ansible_host"),
    "user": ("kijun_user", "ansible_user"),
    "port": ("kijun_port", "ansible_port"),
    "become": ("kijun_become", "ansible_become"),
    "identity_file": ("kijun_identity_file", "ansible_ssh_private_key_file", "ansible_private_key_file"),
}
_CONNECTIONS = {
    "ssh": "ssh",
    "paramiko": "ssh",
    "smart": "ssh",
    "local": "local",
    "winrm": "windows",
    "psrp": "windows",
}
MAX_FILES = 10_000


def _missing_extra(path: Path) -> LoadError:
    return LoadError(
        str(path),
        None,
        "this is an Ansible inventory; reading it needs ansible-core: pip install 'kijun[ansible]' "
        "/ Ansible インベントリの読み込みには ansible-core が必要です",
    )


def _check_tree(source: Path) -> None:
    """Refuse FIFOs, devices and huge files before ansible-core opens them (it would block or fill memory)."""
    roots = (
        [source] if source.is_dir() else [source, source.parent / "group_vars", source.parent / "host_vars"]
    )
    seen = 0
    for root in roots:
        walk = (
            os.walk(root) if root.is_dir() else [(str(root.parent), [], [root.name])] if root.exists() else []
        )
        for folder, _dirs, files in walk:
            for name in files:
                seen += 1
                path = Path(folder) / name
                try:
                    info = path.stat()
                except OSError as exc:
                    raise LoadError(str(path), None, f"cannot read: {exc.strerror or exc}") from None
                if seen > MAX_FILES or not stat.S_ISREG(info.st_mode) or info.st_size > CONFIG_LIMIT:
                    why = (
                        "too many files"
                        if seen > MAX_FILES
                        else "too large"
                        if stat.S_ISREG(info.st_mode)
                        else ""
                    )
                    raise LoadError(
                        str(path), None, why or "not a regular file / 通常のファイルではありません"
                    )


def _origin(value: Any, fallback: Path) -> tuple[str, int | None]:
    """Return the file and line an Ansible value came from (ansible-core >= 2.19 tags values with it)."""
    try:
        from ansible._internal._datatag._tags import Origin

        origin = Origin.get_tag(value)
    except (ImportError, AttributeError):
        origin = None
    if origin is None or not origin.path:
        return str(fallback), None
    return str(origin.path), origin.line_num


def _plain(value: Any, key: str, source: Path) -> Any:
    """Return a var as plain Python data; vaulted and templated values are refused."""
    if type(value).__name__ in ("AnsibleVaultEncryptedUnicode", "EncryptedString", "VaultedValue"):
        raise LoadError(
            *_origin(value, source), f"{key} is vaulted; kijun never decrypts or holds credentials"
        )
    if isinstance(value, dict):
        return {str(k): _plain(v, key, source) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, key, source) for v in value]
    if isinstance(value, str):
        if "{{" in value or "{%" in value:
            raise LoadError(*_origin(value, source), f"{key} is a template; kijun does not render templates")
        return str(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    return value


def _entry(name: str, hostvars: dict[str, Any], groups: list[str], source: Path) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name}
    for field, keys in FIELDS.items():
        key = next((k for k in keys if hostvars.get(k) is not None), None)
        if key is not None:
            entry[field] = _plain(hostvars[key], key, source)
    connection = str(hostvars.get("ansible_connection") or "")
    if "transport" not in entry and connection:
        if connection not in _CONNECTIONS:
            raise LoadError(
                str(source), None, f"host {name}: ansible_connection {connection!r} is not supported"
            )
        entry["transport"] = _CONNECTIONS[connection]
    if "os" not in entry:
        network = hostvars.get("ansible_network_os") is not None
        entry["os"] = "windows" if entry.get("transport") == "windows" else "network" if network else "linux"
    if "port" in entry:
        try:
            entry["port"] = int(entry["port"])
        except (TypeError, ValueError):
            where = _origin(hostvars.get("kijun_port", hostvars.get("ansible_port")), source)
            raise LoadError(*where, f"host {name}: port {entry['port']!r} is not a number") from None
    labels = {g: "true" for g in groups if g not in ("all", "ungrouped")}
    own = entry.get("labels") or {}
    entry["labels"] = {**labels, **({str(v): "true" for v in own} if isinstance(own, list) else own)}
    return entry


def _zones(all_vars: dict[str, Any], source: Path) -> dict[str, Zone]:
    declared = all_vars.get("kijun_zones")
    if declared is None:
        return {z: Zone(z, ja, en) for z, (ja, en) in ZONE_NAMES.items()}
    if not isinstance(declared, dict) or not declared:
        raise LoadError(
            *_origin(declared, source), "kijun_zones: a mapping of zone name to {label_ja, label_en, cidrs}"
        )
    return {
        str(z): Zone(
            str(z), str(d.get("label_ja", z)), str(d.get("label_en", z)), tuple(map(str, d.get("cidrs", ())))
        )
        for z, d in ((z, d if isinstance(d, dict) else {}) for z, d in declared.items())
    }


def load_ansible(path: Path) -> Inventory:
    """Load an Ansible inventory source as a kijun inventory, raising LoadError (file:line) when invalid.

    >>> load_ansible(Path("ansible/hosts.ini")).hosts[0].zone  # doctest: +SKIP
    'lgwan'
    """
    if not path.exists():
        raise LoadError(str(path), None, "no such inventory")
    _check_tree(path)
    try:
        import ansible.constants as C
        from ansible.errors import AnsibleError
        from ansible.inventory.manager import InventoryManager
        from ansible.parsing.dataloader import DataLoader
        from ansible.vars.manager import VariableManager
    except ImportError:
        raise _missing_extra(path) from None
    C.INVENTORY_ENABLED = ["ini", "yaml"]  # never run inventory scripts or cloud plugins
    C.INVENTORY_UNPARSED_IS_FAILED = True
    C.INVENTORY_ANY_UNPARSED_IS_FAILED = True
    loader = DataLoader()
    try:
        manager = InventoryManager(loader=loader, sources=[str(path)])
        variables = VariableManager(loader=loader, inventory=manager)
        hosts = [(h, variables.get_vars(host=h)) for h in manager.get_hosts()]
        all_vars = manager.groups["all"].get_vars()
    except AnsibleError as exc:
        first = str(exc.message if hasattr(exc, "message") else exc).splitlines()[0][:300]
        raise LoadError(str(path), None, f"Ansible: {first}") from None
    base = path if path.is_dir() else path.parent
    zones = _zones(all_vars, path)
    sites = {
        str(s): Site(str(s), str((d or {}).get("kind", "office")))
        for s, d in (all_vars.get("kijun_sites") or {}).items()
    }
    built = []
    for host, hostvars in hosts:
        entry = _entry(host.name, hostvars, sorted(g.name for g in host.get_groups()), path)
        anchor = next(
            (hostvars[k] for k in ("kijun_zone", "kijun_role", "ansible_host") if k in hostvars), None
        )
        where, line = _origin(anchor, path)
        node = Node(entry)
        node.line, node.key_lines = line or 0, {}
        for field, keys in FIELDS.items():  # point each field's error at the line that set it
            key = next((k for k in keys if hostvars.get(k) is not None), None)
            file, at = _origin(hostvars[key], path) if key else ("", None)
            if at and file == where:
                node.key_lines[field] = at
        try:
            built.append(build_host(entry, Path(where), base, zones, sites, line or 0, node))
        except LoadError as exc:
            if "(set it on the host" in exc.message:  # say it in Ansible's terms
                exc.message = (
                    exc.message.split(" (")[0] + " (set kijun_zone and kijun_role as host or group vars)"
                )
            raise
    if not built:
        raise LoadError(str(path), None, "the Ansible inventory has no hosts")
    waivers = base / "waivers"
    return Inventory(
        path=path,
        name=str(all_vars.get("kijun_name") or base.name),
        zones=zones,
        sites=sites,
        hosts=tuple(built),
        profile=str(all_vars.get("kijun_profile") or ""),
        waivers_dir=waivers if waivers.is_dir() else None,
        base_dir=base,
    )
