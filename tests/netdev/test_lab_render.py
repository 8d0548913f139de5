"""The lab router's policy rendered as FortiOS and IOS: each broken variant fails by config, naming its rule.

No namespaces here (tests/netdev/test_lab_agreement.py runs the same variants against the real
lab and its probes); the inventory and zone policy are the lab's own renderings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.inventory import load
from scanner.netdev import verdict
from scanner.netdev.device import PARSERS
from scanner.policy import Pack
from scanner.probes.zonefile import for_inventory
from tests.lab import zonespec
from tests.netdev import labrender

PREFIX = "10.231."
RENDER = {"fortios": labrender.fortios, "cisco-ios": labrender.ios}


def config_verdict(text: str, vendor: str, folder: Path, pack: Pack) -> dict[tuple[str, str, str], set[str]]:
    """Return the broken (control, from, to) pairs of a rendered config and the rules each names."""
    inventory = load(folder / "inventory.yaml")
    policy = for_inventory(inventory, None, pack)
    device = PARSERS[vendor](text, "lab-router", "lab-router:/running-config")
    assert device.unparsed == []
    out: dict[tuple[str, str, str], set[str]] = {}
    for pair in verdict.judge(device, inventory, policy):
        for v in pair.violations:
            out.setdefault((pair.control, pair.source, pair.dest), set()).add(v["rule"])
    return out


def render_lab(folder: Path, prefix: str) -> dict[str, str]:
    specs = zonespec.functional(prefix)
    (folder / "inventory.yaml").write_text(zonespec.dump(zonespec.inventory(prefix, specs)), encoding="utf-8")
    (folder / "zones.yaml").write_text(zonespec.dump(zonespec.zone_policy(prefix, specs)), encoding="utf-8")
    return {s.name: zonespec.address(prefix, s.zone, s.last) for s in specs}


@pytest.mark.parametrize("vendor", sorted(RENDER))
@pytest.mark.parametrize("variant", sorted(labrender.BROKEN))
def test_each_variant_fails_by_config_exactly_where_it_is_broken(
    vendor: str, variant: str, tmp_path: Path, pack: Pack
) -> None:
    address = render_lab(tmp_path, PREFIX)
    extra = labrender.variants(PREFIX, address)[variant]
    text = RENDER[vendor](PREFIX, extra)
    got = config_verdict(text, vendor, tmp_path, pack)
    assert set(got) == labrender.BROKEN[variant]
    assert all(named == {rule_name(vendor, text, PREFIX, extra)} for named in got.values())


def rule_name(vendor: str, text: str, prefix: str, extra: list[tuple[str, str]]) -> str:
    """Return how a finding names the variant's rule in the rendered configuration."""
    if vendor == "fortios":
        return f"{len(zonespec.matrix(prefix)) + 1} ({extra[0][0]})"
    lines = text.splitlines()
    return f"LAB-FWD {lines[lines.index(f' remark {extra[0][0]}') + 1].split()[0]}"
