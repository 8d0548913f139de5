"""The lab's inventory template and router rules, checked without root (no namespaces are made)."""

from __future__ import annotations

import ipaddress
from itertools import combinations
from pathlib import Path

from scanner.inventory import load
from tests.lab import hosts as profiles
from tests.lab.lab import TEMPLATE, _render


def test_template_loads_and_every_host_has_a_profile() -> None:
    inventory = load(TEMPLATE)
    assert {h.name for h in inventory.hosts} == set(profiles.PROFILES)
    for host in inventory.hosts:
        assert inventory.zones_of(host.address) == [host.zone], host.name
    nets = [ipaddress.ip_network(z.cidrs[0]) for z in inventory.zones.values()]
    assert not any(a.overlaps(b) for a, b in combinations(nets, 2))
    inner = inventory.host("inner")
    assert inner is not None and inner.jump == "bastion" and inner.zone != "mgmt"


def test_render_moves_every_address_to_the_run_prefix(tmp_path: Path) -> None:
    lab = _render("abc123", tmp_path, "10.244.")
    assert all(h.address.startswith("10.244.") for h in lab.inventory.hosts)
    assert all(z.cidrs[0].startswith("10.244.") for z in lab.inventory.zones.values())
    assert lab.hosts["inner"].ns == "kj-abc123-inner"


def test_router_lets_only_the_bastion_reach_inner(tmp_path: Path) -> None:
    lab = _render("abc123", tmp_path, "10.231.")
    rules = profiles.router_rules(lab)
    assert "policy drop;" in rules
    assert (
        'ip saddr 10.231.90.10 ip daddr 10.231.10.10 tcp dport 22 accept comment "bastion -> inner ssh"'
        in rules
    )
    into_mynumber = [
        line for line in rules.splitlines() if "ip daddr 10.231.10." in line and "accept" in line
    ]
    assert [line.strip() for line in into_mynumber] == [
        'ip saddr 10.231.10.0/24 ip daddr 10.231.10.0/24 accept comment "inside mynumber"',
        'ip saddr 10.231.90.10 ip daddr 10.231.10.10 tcp dport 22 accept comment "bastion -> inner ssh"',
    ]
    assert 'ip saddr 10.231.90.0/24 ip daddr 10.231.20.0/24 accept comment "mgmt -> lgwan"' in rules
