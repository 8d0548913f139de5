"""Read zone policy files: the pack's default and an inventory's own ``zones.yaml`` on top of it.

The pack ships ``policies/zones/default.yaml``; an inventory folder may carry ``zones.yaml``
(municipality-specific flows, its vantages, proxy, canaries and known addresses), which extends the
default unless it says ``extends: none``. Files are validated against
scanner/schemas/zones.schema.json with ``file:line`` errors.
"""

from __future__ import annotations

import hashlib
import ipaddress
from pathlib import Path
from typing import Any

from scanner import content, safeio
from scanner.errors import LoadError
from scanner.inventory import Inventory
from scanner.policy import Pack
from scanner.probes.zonepolicy import Canary, Endpoint, Flow, Rule, VantageSpec, ZonePolicy, check
from scanner.yamlsrc import Node, key_line, parse_yaml, validate

# The probe settings when neither file sets them (taisaku-kijun §4.3 NET-01…03 port list).
DEFAULT_PROBE: dict[str, Any] = {
    "ports": [
        *(21, 22, 23, 25, 53, 80, 110, 135, 139, 143, 389, 443, 445),
        *(1433, 1521, 3306, 3389, 5432, 5985, 5986, 8080, 8443),
    ],
    "max_retries": 1,
    "host_timeout_s": 60,
    "initial_rtt_timeout_ms": 250,
    "max_rtt_timeout_ms": 600,
    "min_rate": 500,
    "connect_timeout_s": 3,
    "vantage_timeout_s": 900,
    "sweep": True,
    "sweep_max_addresses": 65536,
    "udp_ports": [53, 123, 161, 500, 514, 4500],
    "source_ports": [53, 20],
    "deep_controls": ["NET-01"],
    "full_sweep": False,
    "full_sweep_rate": 5000,
    "full_sweep_budget_s": 600,
    "egress_probe": False,
    "egress_max_targets": 32,
    "egress_timeout_s": 1,
}


def default_path() -> Path:
    return content.policies_dir() / "zones" / "default.yaml"


def _read(path: Path) -> tuple[Node, str]:
    data = safeio.read_bytes(path)  # regular files only, size bounded
    doc = parse_yaml(safeio.decode(data, path), path)
    if doc is None:
        doc = Node()
    validate(doc, "zones", path)
    return doc, hashlib.sha256(data).hexdigest()


def _endpoint(node: dict[str, Any]) -> Endpoint:
    return Endpoint(zone=str(node.get("zone", "")), host=str(node.get("host", "")))


def _address(text: str, path: Path, line: int, cidr: bool = False) -> str:
    try:
        net = ipaddress.ip_network(text, strict=True) if cidr else ipaddress.ip_address(text)
    except ValueError:
        raise LoadError(
            str(path), line, f"{text!r} is not an IP {'network' if cidr else 'address'}"
        ) from None
    return str(net)


def _parse(doc: Node, path: Path) -> dict[str, Any]:
    """Turn one validated file into plain parts (flows and rules keep their file and line)."""
    file = str(path)
    rules = [Rule(str(r["from"]), str(r["to"]), str(r["control"])) for r in doc.get("judged_by", [])]
    flows = []
    seen: dict[str, int] = {}
    for i, f in enumerate(doc.get("flows", [])):
        line = key_line(doc["flows"], i)
        if f["id"] in seen:
            raise LoadError(file, line, f"duplicate flow id {f['id']!r} (first at line {seen[f['id']]})")
        seen[f["id"]] = line
        flows.append(
            Flow(
                str(f["id"]),
                _endpoint(f["from"]),
                _endpoint(f["to"]),
                tuple(sorted(set(f["ports"]))),
                str(f["why"]),
                str(f.get("approved_flow", "")),
                str(f.get("ticket", "")),
                file,
                line,
            )
        )
    egress = doc.get("egress") or {}
    canaries = []
    for i, c in enumerate(egress.get("canaries", [])):
        where = key_line(egress["canaries"], i)
        canaries.append(
            Canary(
                _address(str(c["address"]), path, where),
                tuple(sorted(set(c["ports"]))),
                str(c.get("label", "")),
            )
        )
    known = {}
    for i, k in enumerate(doc.get("known_addresses", [])):
        text = str(k["address"])
        known[_address(text, path, key_line(doc["known_addresses"], i), "/" in text)] = str(k["label"])
    vantages = []
    for i, v in enumerate(doc.get("vantages", [])):
        where = key_line(doc["vantages"], i)
        addresses = tuple(_address(str(a), path, where) for a in v.get("addresses", []))
        name = str(v.get("host") or v["name"])
        vantages.append(
            VantageSpec(
                name,
                str(v.get("host", "")),
                str(v.get("zone", "")),
                addresses,
                bool(v.get("sweep", True)),
                str(path),
                where,
            )
        )
    return {
        "probe": dict(doc.get("probe") or {}),
        "rules": rules,
        "flows": flows,
        "proxies": [(str(p["host"]), int(p["port"])) for p in egress.get("proxies", [])],
        "where": {
            f"proxy:{p['host']}": (str(path), key_line(egress["proxies"], i))
            for i, p in enumerate(egress.get("proxies", []))
        },
        "canaries": canaries,
        "known": known,
        "vantages": vantages,
        "has": {k for k in ("proxies", "canaries") if k in egress},
    }


def load(path: Path | None = None, base: Path | None = None) -> ZonePolicy:
    """Load a zone policy file, on top of the pack default when it extends it (the default: it does).

    >>> load(Path("inventories/lab/zones.yaml")).control_for("mynumber", "internet")  # doctest: +SKIP
    'NET-01'
    """
    base = base or default_path()
    base_doc, base_hash = _read(base)
    parts = _parse(base_doc, base)
    files = {str(base): base_hash}
    if path is not None and path.resolve() != base.resolve():
        doc, digest = _read(path)
        mine = _parse(doc, path)
        if doc.get("extends", "default") == "none":
            parts, files = mine, {}
        else:
            ids = {f.id: f for f in parts["flows"]}
            for flow in mine["flows"]:
                if flow.id in ids:
                    first = ids[flow.id]
                    raise LoadError(
                        str(path),
                        flow.line,
                        f"flow id {flow.id!r} is already declared in {first.file}:{first.line}",
                    )
            parts = {
                "probe": {**parts["probe"], **mine["probe"]},
                "rules": mine["rules"] + parts["rules"],  # the municipality's rules are tried first
                "flows": parts["flows"] + mine["flows"],
                "proxies": mine["proxies"] if "proxies" in mine["has"] else parts["proxies"],
                "canaries": mine["canaries"] if "canaries" in mine["has"] else parts["canaries"],
                "known": {**parts["known"], **mine["known"]},
                "vantages": parts["vantages"] + mine["vantages"],
                "where": {**parts["where"], **mine["where"]},
            }
        files[str(path)] = digest
    return ZonePolicy(
        probe={**DEFAULT_PROBE, **parts["probe"]},
        rules=tuple(parts["rules"]),
        flows=tuple(parts["flows"]),
        proxies=tuple(parts["proxies"]),
        canaries=tuple(parts["canaries"]),
        known=dict(parts["known"]),
        vantages=tuple(parts["vantages"]),
        where=dict(parts["where"]),
        files=files,
    )


def for_inventory(inventory: Inventory, path: Path | None = None, pack: Pack | None = None) -> ZonePolicy:
    """Return the zone policy for an inventory (``path``, else its ``zones.yaml``, else the default), checked."""
    if path is None and inventory.path.is_file():  # not for --local / --root, which have no inventory file
        candidate = inventory.base_dir / "zones.yaml"
        path = candidate if candidate.is_file() else None
    policy = load(path)
    check(policy, inventory, pack, str(default_path()))
    return policy
