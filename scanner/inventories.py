"""Pick the format of an inventory path (kijun YAML, CSV 資産管理台帳, Ansible) and load it: one registry.

Each format is a function from a path to an Inventory; every one builds its hosts with
scanner.inventory.build_host, so names, zones, roles and credentials are checked alike.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scanner import inventory
from scanner.errors import LoadError
from scanner.inventory import Inventory
from scanner.yamlsrc import Node, load_yaml

Loader = Callable[[Path], Inventory]
_ANSIBLE_MARKERS = (
    "group_vars",
    "host_vars",
    "hosts",
    "hosts.ini",
    "hosts.yml",
    "hosts.yaml",
    "inventory.ini",
)


def _csv(path: Path) -> Inventory:
    from scanner.inventory_csv import load_csv

    return load_csv(path)


def _ansible(path: Path) -> Inventory:
    from scanner.inventory_ansible import load_ansible  # ansible-core is imported only for Ansible sources

    return load_ansible(path)


FORMATS: dict[str, Loader] = {"yaml": inventory.load, "csv": _csv, "ansible": _ansible}


def _ansible_yaml(doc: object) -> bool:
    """Tell an Ansible YAML inventory (groups of hosts/children/vars) from kijun's (zones and a host list)."""
    if not isinstance(doc, Node) or "zones" in doc or isinstance(doc.get("hosts"), list):
        return False
    groups = [v for v in doc.values() if v is not None]
    return bool(groups) and all(
        isinstance(g, dict) and set(g) <= {"hosts", "children", "vars"} for g in groups
    )


def kind(path: Path) -> str:
    """Return the format name of an inventory path (a key of FORMATS)."""
    return _kind_and_doc(path)[0]


def _kind_and_doc(path: Path) -> tuple[str, object]:
    """Return the format name of an inventory path and, for a YAML file, its parsed document.

    A YAML file is read once whatever its kind: a kijun inventory of 10,000 hosts takes seconds to
    parse, so the document that told the kind is the one loaded.
    """
    if path.is_dir():
        if any((path / name).is_file() for name in ("inventory.yaml", "inventory.yml")):
            return "yaml", None
        return ("ansible" if any((path / m).exists() for m in _ANSIBLE_MARKERS) else "yaml"), None
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv", None
    if suffix in (".ini", ".cfg", ""):
        return "ansible", None
    if suffix in (".yaml", ".yml") and path.exists():
        try:
            doc = load_yaml(path)
        except LoadError:
            return "yaml", None  # the YAML loader reports the problem with its line
        return ("ansible", None) if _ansible_yaml(doc) else ("yaml", doc)
    return "yaml", None


def load(path: Path, fmt: str | None = None) -> Inventory:
    """Load an inventory of any known format, raising LoadError (file:line) on the first problem.

    >>> load(Path("ansible/hosts.ini")).hosts[0].transport  # doctest: +SKIP
    'ssh'
    """
    inventory.forget_folders()
    if fmt is not None:
        return FORMATS[fmt](path)
    found, doc = _kind_and_doc(path)
    if found == "yaml" and doc is not None:
        return inventory.load(path, doc)
    return FORMATS[found](path)
