"""The planning and judging behind each class of hole (issue 11), without a network.

Every address in a host's facts is a target (IPv6 too), each on the ports it listens on; NET-01
pairs get source-port probes and, on request, a full sweep; UDP answers are read by who sent
them; the egress probe's targets are bounded and quoted; routed networks are probed from the
host holding the route. The lab (tests/lab/test_zone_lab.py) proves each against real traffic.
"""

from __future__ import annotations

import dataclasses
import shlex
import subprocess

import pytest

from scanner.collect.probes import EGRESS, egress_command
from scanner.inventory import Inventory
from scanner.policy import Pack
from scanner.probes import egress, observe, routes, script
from scanner.probes.evaluate import udp_verdict
from scanner.probes.plan import addresses_of, plan_for
from scanner.probes.vantage import vantages_for
from scanner.probes.zonefile import for_inventory

FACTS = {
    "in-probe-01": {
        "network": {
            "addresses": [
                {"ifname": "eth0", "address": "10.30.0.10", "prefix": 24},
                {"ifname": "eth0", "address": "fd00:30::a", "prefix": 64},
                {"ifname": "eth0", "address": "fe80::1", "prefix": 64},
            ],
            "listening": [
                {"proto": "tcp", "address": "0.0.0.0", "port": 41234},
                {"proto": "udp", "address": "0.0.0.0", "port": 1812},
            ],
        }
    }
}


def _mn_plan(inventory: Inventory, pack: Pack, full: bool = False) -> object:
    policy = for_inventory(inventory, pack=pack)
    vantage = next(v for v in vantages_for(policy, inventory) if v.name == "mn-probe-01")
    return plan_for(vantage, policy, inventory, pack, FACTS, full)


def test_every_routable_address_in_the_facts_is_a_target_on_the_ports_it_listens_on(
    inventory: Inventory, pack: Pack
) -> None:
    host = inventory.host("in-probe-01")
    assert host is not None
    assert addresses_of(host, FACTS["in-probe-01"]) == ["10.30.0.10", "fd00:30::a"]  # not link-local
    plan = _mn_plan(inventory, pack)
    mine = [t for t in plan.targets if t.name == "in-probe-01"]  # type: ignore[attr-defined]
    assert [(t.address, t.judged_by, t.deep) for t in mine] == [
        ("10.30.0.10", "NET-01", True),
        ("fd00:30::a", "NET-01", True),
    ]
    assert 41234 in plan.ports and 1812 in plan.udp  # type: ignore[attr-defined]
    assert plan.udp[:6] == [53, 123, 161, 500, 514, 1812]  # type: ignore[attr-defined]
    assert plan.sports == [20, 53] and not plan.full  # type: ignore[attr-defined]
    assert _mn_plan(inventory, pack, full=True).cost(5000)["full_sweep"] == 4 * 65535  # type: ignore[attr-defined]


def test_the_script_runs_syn_udp_source_port_and_sweep_as_root_and_says_what_it_skips_otherwise() -> None:
    text, commands = script.build(
        ["10.30.0.10", "fd00:30::a"],
        [22, 53],
        [],
        script.Timing(),
        script.new_nonce(),
        script.Runs([53], ["10.30.0.10", "fd00:30::a"], [53, 20], True),
    )
    assert subprocess.run(["sh", "-n"], input=text.encode(), check=False).returncode == 0
    assert text.index("main() {") < text.index("exec 6>&1 </dev/null")  # parsed whole before stdin closes
    assert shlex.split(commands["nmap-syn-matrix"])[:5] == ["nmap", "-n", "-Pn", "-sS", "-v"]
    assert (
        commands["nmap-syn-matrix-v6"].startswith("nmap -6 -n -Pn -sS")
        and "fd00:30::a" in commands["nmap-syn-matrix-v6"]
    )
    assert " -sU " in commands["nmap-udp-matrix"] and " -g 53 " in commands["nmap-sport-53"]
    # Never tcp/53 from source port 53: a vantage in the other zone sends the mirror image at once.
    assert " -p 22 " in commands["nmap-sport-53-v6"] and " -p 22,53 " in commands["nmap-sport-20"]
    assert "-p 1-65535" in commands["nmap-full-sweep"] and "--max-rate 5000" in commands["nmap-full-sweep"]
    assert commands["nmap-zone-matrix"].startswith("nmap -n -Pn -sT")  # not root: connect scan
    assert "UDP and source-port probes not run" in text
    with pytest.raises(ValueError):
        script.build(["10.0.0.1; reboot"], [22], [], script.Timing(), script.new_nonce())


XML = """<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap -sU" start="1" version="7.93">
<scaninfo type="udp" protocol="udp" numservices="4" services="53,123,161,514"/>
<host><status state="up" reason="user-set" reason_ttl="0"/>
<address addr="10.30.0.20" addrtype="ipv4"/><hostnames></hostnames><ports>
<port protocol="udp" portid="53"><state state="open" reason="udp-response" reason_ttl="63"/></port>
<port protocol="udp" portid="123"><state state="closed" reason="port-unreach" reason_ttl="63"
 reason_ip="10.10.0.1"/></port>
<port protocol="udp" portid="514"><state state="open|filtered" reason="no-response" reason_ttl="0"/></port>
<port protocol="udp" portid="161"><state state="closed" reason="port-unreach" reason_ttl="63"/></port>
</ports></host><runstats><finished time="2" timestr="x" elapsed="1.00" summary="x" exit="success"/>
<hosts up="1" down="0" total="1"/></runstats></nmaprun>"""


def test_who_answered_decides_a_udp_verdict() -> None:
    found, _ = observe.nmap_ports(XML, [53, 123, 161, 514], "udp")
    verdicts = {port: udp_verdict(state, why, port) for (_, port), (state, why) in found.items()}
    assert found[("10.30.0.20", 123)] == ("closed", "port-unreach from 10.10.0.1")
    # The DNS answer is a path; the router's ICMP is blocked; the target's own ICMP is a path;
    # syslog never answers, so open|filtered there is not assessed (never read as blocked).
    assert verdicts == {53: "path", 123: "blocked", 161: "path", 514: "unassessed"}
    assert udp_verdict("open|filtered", "no-response", 53) == "blocked"  # a DNS query gets an answer


def test_a_target_without_a_route_is_blocked_at_the_vantage() -> None:
    assert observe.unrouted("setup_target: failed to determine route to 10.200.0.10\nWARNING: x\n") == [
        "10.200.0.10"
    ]


def test_the_egress_probe_is_bounded_quoted_and_deep_pairs_come_first(
    inventory: Inventory, pack: Pack
) -> None:
    policy = for_inventory(inventory, pack=pack)
    policy = dataclasses.replace(
        policy, probe={**policy.probe, "egress_probe": True, "egress_max_targets": 5}
    )
    host = inventory.host("mn-app-01")
    assert host is not None
    plan = egress.plan_for(host, policy, inventory, pack)
    pairs = [(t.address, p, t.judged_by) for t in plan.targets for p in t.ports]
    assert len(pairs) == 5 and {c for _, _, c in pairs} == {"NET-01"}  # NET-01 first, then the budget ends
    assert ("10.20.0.20", 443, "NET-02") not in pairs  # FLOW-ELTAX is declared
    generated = egress.generated(inventory, pack, policy, None)
    name, command = generated["mn-app-01"][0]
    assert name == EGRESS and all(f" {a} {p}" in command for a, p, _ in pairs)
    assert "dc-backup-01" not in generated  # a snapshot host runs nothing
    with pytest.raises(ValueError):
        egress_command([("10.0.0.1 && reboot", 22)], 1)


def test_routed_networks_proxies_and_ntp_servers_are_destinations(inventory: Inventory) -> None:
    facts = {
        "network": {
            "routes": [
                {"dst": "192.0.2.0/29", "gateway": "10.10.0.1"},
                {"dst": "198.51.100.0/22", "gateway": "10.10.0.2"},
            ],
            "routes_outside_zones": ["192.0.2.0/29", "198.51.100.0/22"],
        },
        "proxy": {"endpoints": [{"host": "10.30.0.20", "port": 8080}]},
        "time": {"servers": ["10.10.0.1", "203.0.113.5"]},
    }
    found = routes.destinations(facts, "mynumber", inventory)
    # A small routed network address by address; a large one by its gateway, dropped here because it
    # lies in the host's own zone, like the first NTP server; the proxy in another zone and an NTP
    # server in none are probed from the host.
    assert found == [
        *((f"192.0.2.{i}", "route 192.0.2.0/29") for i in range(1, 7)),
        ("10.30.0.20", "proxy"),
        ("203.0.113.5", "NTP server"),
    ]
