"""The zone policy: the default matrix, an inventory's zones.yaml on top, and errors as file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.errors import LoadError
from scanner.inventory import Inventory, load
from scanner.policy import Pack
from scanner.probes.zonefile import default_path, for_inventory
from scanner.probes.zonefile import load as load_policy

from .conftest import ZONES, write


def test_default_matrix_names_the_judging_control() -> None:
    policy = load_policy()
    assert policy.files == {str(default_path()): policy.files[str(default_path())]}
    table = {
        ("mynumber", "internet"): "NET-01",
        ("internet", "mynumber"): "NET-01",
        ("mynumber", "outside"): "NET-01",
        ("mynumber", "lgwan"): "NET-02",
        ("lgwan", "mynumber"): "NET-02",
        ("dc", "mynumber"): "NET-02",
        ("lgwan", "internet"): "NET-03",
        ("lgwan", "outside"): "NET-03",
        ("internet", "dc"): "NET-03",
        ("mgmt", "internet"): "NET-03",
        ("internet", "outside"): "NET-05",
        ("mgmt", "outside"): "NET-05",
        ("lgwan", "dc"): "",  # internal zones: not judged by default
        ("lgwan", "lgwan"): "",  # inside one zone: never judged
    }
    assert {pair: policy.control_for(*pair) for pair in table} == table
    # Only administration over SSH from mgmt is allowed by default, and never "outside".
    assert policy.allowed("", "mgmt", "mn-01", "mynumber", 22) == "FLOW-MGMT-SSH"
    assert policy.allowed("", "mgmt", "mn-01", "mynumber", 445) == ""
    assert policy.allowed("", "mgmt", "", "outside", 22) == ""
    assert policy.canaries == () and policy.vantages == ()


def test_inventory_zones_yaml_extends_the_default(inventory: Inventory, pack: Pack) -> None:
    policy = for_inventory(inventory, pack=pack)
    assert len(policy.files) == 2
    assert [f.id for f in policy.flows] == ["FLOW-MGMT-SSH", "FLOW-ELTAX"]
    assert policy.allowed("mn-app-01", "mynumber", "lg-relay-01", "lgwan", 443) == "FLOW-ELTAX"
    assert policy.allowed("mn-app-01", "mynumber", "lg-probe-01", "lgwan", 443) == ""
    # The declared proxy is the one way out; nobody else's.
    assert policy.allowed("in-proxy-01", "internet", "canary", "outside", 443) == "egress-proxy"
    assert policy.allowed("in-probe-01", "internet", "canary", "outside", 443) == ""
    assert policy.probe["max_rtt_timeout_ms"] == 300 and policy.probe["max_retries"] == 1
    assert [v.name for v in policy.vantages] == ["scanner", "mn-probe-01", "lg-probe-01", "in-probe-01"]
    assert policy.known == {"10.10.0.1": "zone firewall", "10.20.0.0/28": "lgwan switches"}


def test_extends_none_replaces_the_default(tmp_path: Path) -> None:
    inventory = load(write(tmp_path, "extends: none\njudged_by: [{from: lgwan, to: dc, control: NET-02}]\n"))
    policy = for_inventory(inventory)
    assert policy.control_for("mynumber", "internet") == ""
    assert policy.control_for("lgwan", "dc") == "NET-02"
    assert policy.flows == () and policy.probe["ports"][0] == 21  # built-in probe settings remain


def test_municipal_rules_are_tried_first(tmp_path: Path) -> None:
    inventory = load(write(tmp_path, "judged_by: [{from: lgwan, to: '*', control: NET-03}]\n"))
    policy = for_inventory(inventory)
    assert policy.control_for("lgwan", "dc") == "NET-03"
    assert policy.control_for("lgwan", "mynumber") == "NET-03"


def error(tmp: Path, zones: str, pack: Pack | None = None) -> LoadError:
    inventory = load(write(tmp, zones))
    with pytest.raises(LoadError) as caught:
        for_inventory(inventory, pack=pack)
    return caught.value


def test_schema_error_names_the_line(tmp_path: Path) -> None:
    err = error(tmp_path, ZONES.replace("ports: [443]", "ports: [443, 70000]"))
    assert err.path.endswith("zones.yaml") and err.line == 6
    assert "flows/0/ports/1" in err.message and "65535" in err.message


def test_unknown_host_zone_and_duplicate_ids(tmp_path: Path) -> None:
    err = error(tmp_path, ZONES.replace("to: {host: lg-relay-01}", "to: {host: lg-relay-99}"))
    assert (err.line, "host 'lg-relay-99' is not in the inventory" in err.message) == (3, True)
    err = error(tmp_path, ZONES.replace("from: {zone: mynumber}", "from: {zone: mynumbr}"))
    assert "zone 'mynumbr' is not declared" in err.message
    err = error(tmp_path, ZONES.replace("- {host: in-probe-01}", "- {host: in-probe-09}"))
    assert (err.line, "vantages: host 'in-probe-09'" in err.message) == (19, True)
    err = error(tmp_path, ZONES.replace("{host: in-proxy-01, port", "{host: in-proxy-09, port"))
    assert (err.line, "egress.proxies: host 'in-proxy-09'" in err.message) == (10, True)
    err = error(
        tmp_path, "flows:\n" + 2 * "  - {id: F-1, from: {zone: mgmt}, to: {zone: dc}, ports: [22], why: x}\n"
    )
    assert (err.line, "duplicate flow id 'F-1' (first at line 2)" in err.message) == (3, True)
    err = error(
        tmp_path, "flows: [{id: FLOW-MGMT-SSH, from: {zone: dc}, to: {zone: mgmt}, ports: [22], why: x}]\n"
    )
    assert "already declared in" in err.message and "default.yaml" in err.message
    err = error(tmp_path, "egress: {canaries: [{address: 10.0.0.300, ports: [80]}]}\n")
    assert "not an IP address" in err.message


def test_no_flow_may_cross_an_unwaivable_pair(tmp_path: Path, pack: Pack) -> None:
    flow = "  - {id: FLOW-BAD, from: {host: mn-app-01}, to: {zone: '*'}, ports: [443], why: updates}\n"
    err = error(tmp_path, "flows:\n" + flow, pack)
    assert err.line == 2
    assert "mynumber → internet" in err.message and "NET-01 cannot be waived" in err.message
    # Without the pack (no control records) the same file loads: the check is the control's own flag.
    assert for_inventory(load(tmp_path)).flows[-1].id == "FLOW-BAD"
