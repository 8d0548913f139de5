"""Vendor parsers on recorded-format configurations: objects resolved, rules in order with their lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.netdev import asa, fortios, ios, model, rtx

DEVICES = Path(__file__).parents[2] / "inventories" / "example-ward-netdev" / "devices"
CONFIGS = Path(__file__).parent / "configs"


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_fortios_policies_resolve_objects_groups_and_keep_order_and_lines() -> None:
    dev = fortios.parse(text(DEVICES / "fw-01" / "running-config"), "fw-01", "fw")
    rules = dev.rulesets["policy"].rules
    assert [r.id for r in rules] == ["1", "2", "3", "7", "8", "9", "99"]
    mgmt = rules[0]
    assert mgmt.src == (model.network("10.90.0.0/16"),)
    assert mgmt.dst == tuple(model.network(c) for c in ("10.10.0.0/16", "10.20.0.0/16", "10.30.0.0/16"))
    assert mgmt.services == (model.Service("tcp", ((22, 22),)),) and mgmt.dst_ifs == (
        "port1",
        "port2",
        "port3",
    )
    vendor = rules[3]
    assert vendor.name == "vendor-maint-rdp" and vendor.src == (
        (model.host("10.20.100.200")[0], model.host("10.20.100.210")[0]),
    )
    assert text(DEVICES / "fw-01" / "running-config").splitlines()[vendor.line - 1].strip() == "edit 7"
    assert rules[5].enabled is False and rules[6].action == "deny" and rules[2].nat == "source NAT"
    assert dev.interfaces["port1"].zone == "z-internal" and dev.routes[-1].interface == "dc-vpn"
    assert dev.unparsed == []


def test_fortios_lines_it_cannot_read_are_kept_as_not_understood() -> None:
    conf = (
        text(DEVICES / "fw-01" / "running-config")
        .replace(
            '        set name "vendor-maint-rdp"',
            '        set name "vendor-maint-rdp"\n        set internet-service enable',
        )
        .replace(
            'edit "h-gw-01"\n        set subnet 10.20.10.11 255.255.255.255',
            'edit "h-gw-01"\n        set type fqdn\n        set fqdn "gw.example.lg.jp"',
        )
    )
    dev = fortios.parse(conf, "fw-01", "fw")
    assert {n.why for n in dev.unparsed} == {"not understood", "address type not understood"}
    assert "7" not in [r.id for r in dev.rulesets["policy"].rules]  # never guessed


def test_ios_acls_interfaces_routes_and_object_groups() -> None:
    dev = ios.parse(text(DEVICES / "cat-core-01" / "running-config"), "cat", "cat")
    assert dev.interfaces["Vlan10"].acl_in == "MN-OUT" and dev.interfaces["Vlan10"].acl_out == "MN-PROTECT"
    assert dev.interfaces["GigabitEthernet0/0"].vrf == "Mgmt-vrf"
    protect = dev.rulesets["MN-PROTECT"].rules
    assert [r.id for r in protect] == ["MN-PROTECT 10", "MN-PROTECT 20", "MN-PROTECT 30", "MN-PROTECT 40"]
    assert protect[2].dst == (model.host("10.10.10.51"),) and protect[2].services[0].ports == ((5432, 5432),)
    assert protect[3].action == "deny" and protect[3].broad
    assert dev.rulesets["MN-OUT"].rules[0].id == "MN-OUT 30"  # established entries open no new flow
    assert [n.why for n in dev.notes].count("established: matches return traffic only") == 2
    assert dev.routes[0].interface == "Vlan99"


def test_ios_numbered_and_standard_lists_and_unknown_syntax() -> None:
    conf = (
        "interface Vlan5\n ip address 10.5.0.1 255.255.255.0\n ip access-group 101 in\n!\n"
        "access-list 101 permit tcp 10.5.0.0 0.0.0.255 any range 8000 8080\n"
        "access-list 101 permit udp any eq 53 any\n"
        "access-list 101 permit tcp any any eq 22 reflect foo\n"
        "access-list 10 permit 10.5.0.0 0.0.0.255\n"
    )
    dev = ios.parse(conf, "r", "r")
    rules = dev.rulesets["101"].rules
    assert rules[0].services[0].ports == ((8000, 8080),) and rules[1].services[0].sports == ((53, 53),)
    assert [n.line for n in dev.unparsed] == [7]
    assert dev.rulesets["10"].rules[0].dst == (model.ALL_ADDRESSES,)


def test_asa_nameif_levels_objects_and_access_groups() -> None:
    dev = asa.parse(text(CONFIGS / "asa-dmz.conf"), "asa", "asa")
    assert set(dev.interfaces) == {"outside", "inside", "lgwan"} and dev.interfaces["inside"].level == 100
    inside = dev.rulesets["INSIDE-IN"].rules
    assert [r.id for r in inside] == [f"INSIDE-IN line {i}" for i in (1, 2, 3, 4)]
    assert inside[0].services == (model.Service("tcp", ((80, 80), (443, 443))),)
    assert inside[1].services == (model.Service("tcp", ((22, 22),)), model.Service("tcp", ((8443, 8444),)))
    assert inside[2].enabled is False
    assert dev.interfaces["outside"].acl_in == "OUTSIDE-IN" and any("NAT" in n.why for n in dev.notes)


def test_rtx_filters_secure_lists_pp_and_tunnel_contexts() -> None:
    dev = rtx.parse(text(DEVICES / "rtx-kita-01" / "running-config"), "rtx", "rtx")
    assert dev.interfaces["lan1"].acl_in == "lan1 in" and dev.interfaces["pp1"].acl_out == "pp1 out"
    assert [r.id for r in dev.rulesets["lan1 in"].rules] == [
        "filter 1010",
        "filter 1020",
        "filter 1030",
        "filter 1099",
    ]
    stray = dev.rulesets["lan1 in"].rules[2]
    assert stray.src == (model.host("10.10.200.11"),) and stray.services == (
        model.Service("tcp", ((80, 80),)),
    )
    assert [r.id for r in dev.rulesets["pp1 out"].rules][-2:] == ["dynamic 200080", "dynamic 200081"]
    assert [r.id for r in dev.rulesets["pp1 in"].rules] == ["filter 200003"]  # 200020 is established only
    assert {(r.interface, r.dest) for r in dev.routes} >= {
        ("pp1", model.ALL_ADDRESSES),
        ("tunnel1", model.network("10.10.0.0/16")),
    }
    assert dev.unparsed == []


@pytest.mark.parametrize(
    ("line", "why"),
    [("ip filter 5 pass * * tcpflag=0x0002 * *", "protocol"), ("ip filter dynamic 9 * * sip", "application")],
)
def test_rtx_unknown_syntax_is_not_understood(line: str, why: str) -> None:
    dev = rtx.parse(f"ip lan1 address 10.1.0.1/24\n{line}\n", "rtx", "rtx")
    assert [n.line for n in dev.unparsed] == [2] and why in dev.unparsed[0].why
