"""Parser tests for subject 'network' on real ip -j / ss output from this machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.facts import Context
from scanner.facts.network import parse
from scanner.inventory import Host, Inventory, Zone
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "network"
HOST = Host(name="web1", zone="lgwan", role="server")
ZONES = {
    "lgwan": Zone("lgwan", "LGWAN接続系", "LGWAN", ("192.0.2.0/24",)),
    "internet": Zone("internet", "インターネット接続系", "Internet", ("198.51.100.0/24", "2001:db8::/32")),
    "mynumber": Zone("mynumber", "マイナンバー利用事務系", "My Number", ("10.10.0.0/16",)),
}
CTX = Context(HOST, Inventory(path=Path("."), name="t", zones=ZONES, sites={}, hosts=(HOST,)))
ADDR = (OUT / "ip-addr.json").read_text()


def test_this_machine() -> None:
    raw = build_raw(
        probes={
            "ip-addr": ADDR,
            "ip-route": (OUT / "ip-route.json").read_text(),
            "ss-listen": (OUT / "ss-listen.txt").read_text(),
        }
    )
    facts = parse(raw, CTX)
    assert facts["addresses"] == [
        {"ifname": "eth0", "address": "192.0.2.2", "prefix": 24},
        {"ifname": "eth0", "address": "fd00::2", "prefix": 64},
        {"ifname": "eth0", "address": "fe80::fc:ff:fe00:1", "prefix": 64},
    ]
    assert facts["zones"] == ["lgwan"]
    assert facts["dual_homed"] is False
    assert facts["default_route"] is True
    assert {"dst": "default", "table": "main", "gateway": "192.0.2.1", "dev": "eth0"} in facts["routes"]
    assert all(r["table"] != "local" for r in facts["routes"])  # kernel local/broadcast routes dropped
    assert len(facts["routes"]) == 5
    assert facts["listening"] == [{"proto": "tcp", "address": "0.0.0.0", "port": 2024}]
    assert facts["listening_ports"] == ["tcp/2024"]


def test_dual_homed_host() -> None:
    links = json.loads(ADDR)
    eth0 = next(link for link in links if link["ifname"] == "eth0")
    eth1 = json.loads(json.dumps(eth0))
    eth1["ifname"] = "eth1"
    eth1["addr_info"] = [{"family": "inet", "local": "10.10.5.20", "prefixlen": 16, "scope": "global"}]
    facts = parse(build_raw(probes={"ip-addr": json.dumps([*links, eth1])}), CTX)
    assert facts["zones"] == ["lgwan", "mynumber"]
    assert facts["dual_homed"] is True


def test_server_listeners_without_loopback() -> None:
    facts = parse(build_raw(probes={"ss-listen": (OUT / "ss-listen-server.txt").read_text()}), CTX)
    assert facts["listening"] == [
        {"proto": "udp", "address": "0.0.0.0", "port": 514},
        {"proto": "udp", "address": "::", "port": 514},
        {"proto": "tcp", "address": "0.0.0.0", "port": 22},
        {"proto": "tcp", "address": "::", "port": 22},
        {"proto": "tcp", "address": "*", "port": 9100},
    ]
    assert facts["listening_ports"] == ["tcp/22", "tcp/9100", "udp/514"]


def test_no_default_route_and_blackhole_kept() -> None:
    routes = [
        {"dst": "192.0.2.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link", "flags": []},
        {"type": "blackhole", "dst": "default", "flags": []},
    ]
    facts = parse(build_raw(probes={"ip-route": json.dumps(routes)}), CTX)
    assert facts["default_route"] is False
    assert {"dst": "default", "table": "main", "type": "blackhole"} in facts["routes"]


def test_failed_probe_omits_its_facts_and_garbage_raises() -> None:
    facts = parse(build_raw(probes={"ip-addr": {"stdout": "", "rc": 127}, "ss-listen": ""}), CTX)
    assert facts == {"listening": [], "listening_ports": [], "declared_ports": [], "undeclared_ports": []}
    with pytest.raises(json.JSONDecodeError):
        parse(build_raw(probes={"ip-route": "default via 192.0.2.1 dev eth0"}), CTX)
    with pytest.raises(ValueError, match="ss"):
        parse(build_raw(probes={"ss-listen": "tcp LISTEN 0 128 0.0.0.0 x\n"}), CTX)


def test_ports_declared_for_the_host_in_the_inventory_are_not_undeclared() -> None:
    from scanner.facts import Context
    from scanner.inventory import Host

    host = Host(name="fs", zone="lgwan", role="server", vars={"allowed_ports": ["tcp/445"]})
    ss = "tcp LISTEN 0 128 0.0.0.0:445 0.0.0.0:*\ntcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n"
    facts = parse(build_raw(probes={"ss-listen": ss}), Context(host, CTX.inventory))
    assert facts["declared_ports"] == ["tcp/445"]
    assert facts["undeclared_ports"] == ["tcp/22"]
