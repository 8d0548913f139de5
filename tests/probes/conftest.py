"""Shared pieces of the probe tests: a five-zone inventory with a zones.yaml beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.inventory import Inventory, load

INVENTORY = """\
name: probe-test
zones:
  mynumber: {cidrs: [10.10.0.0/24]}
  lgwan: {cidrs: [10.20.0.0/24]}
  internet: {cidrs: [10.30.0.0/24]}
  mgmt: {cidrs: [10.90.0.0/24]}
  dc: {cidrs: [10.99.0.0/24]}
defaults: {transport: ssh, role: server}
hosts:
  - {name: mn-probe-01, address: 10.10.0.10, zone: mynumber}
  - {name: mn-app-01, address: 10.10.0.20, zone: mynumber, vars: {allowed_ports: [tcp/445]}}
  - {name: lg-probe-01, address: 10.20.0.10, zone: lgwan}
  - {name: lg-relay-01, address: 10.20.0.20, zone: lgwan}
  - {name: in-probe-01, address: 10.30.0.10, zone: internet, role: terminal}
  - {name: in-proxy-01, address: 10.30.0.20, zone: internet, role: proxy}
  - {name: dc-backup-01, address: 10.99.0.10, zone: dc, role: backup_storage, transport: snapshot}
"""
ZONES = """\
probe: {max_rtt_timeout_ms: 300}
flows:
  - id: FLOW-ELTAX
    from: {zone: mynumber}
    to: {host: lg-relay-01}
    ports: [443]
    why: 特定通信 (eLTAX)
    approved_flow: eltax
egress:
  proxies: [{host: in-proxy-01, port: 8080}]
  canaries: [{address: 10.200.0.10, ports: [80, 443], label: canary}]
known_addresses:
  - {address: 10.10.0.1, label: zone firewall}
  - {address: 10.20.0.0/28, label: lgwan switches}
vantages:
  - {name: scanner, local: true, zone: mgmt, addresses: [10.90.0.2]}
  - {host: mn-probe-01}
  - {host: lg-probe-01}
  - {host: in-probe-01}
"""


def write(tmp: Path, zones: str = ZONES, inventory: str = INVENTORY) -> Path:
    (tmp / "inventory.yaml").write_text(inventory, "utf-8")
    if zones:
        (tmp / "zones.yaml").write_text(zones, "utf-8")
    return tmp


@pytest.fixture
def inventory(tmp_path: Path) -> Inventory:
    return load(write(tmp_path))
