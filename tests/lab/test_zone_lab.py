"""Network separation on a real zone lab: a scan passes every NET control, and each break fails exactly one.

The lab (tests/lab/zones.py, a layer on tests/lab/netlab.py) puts mynumber, lgwan, internet, dc and mgmt behind a router whose
nftables implement the lab's zones.yaml; vantages are real sshd hosts reached over SSH (the
production path) plus the scanner itself in mgmt. Each broken variant is undone afterwards.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scanner import compact
from scanner.cli import main
from scanner.policy import Pack
from scanner.probes import observe, script
from scanner.results import Finding, Run, Status
from scanner.run import Options, scan
from tests.lab import zonespec
from tests.lab.netns import run
from tests.lab.session import built, point_scanner
from tests.lab.zones import ZoneLab, build

pytestmark = pytest.mark.lab

JUDGED = ("NET-01", "NET-02", "NET-03", "NET-05", "NET-06", "NET-10", "INV-01")


@pytest.fixture(scope="module")
def zlab() -> Iterator[ZoneLab]:
    """Build the zone lab once for this module, pointing the scanner's HOME at its keys."""
    with built(lambda: build(zonespec.functional)) as made, pytest.MonkeyPatch.context() as mp:
        point_scanner(mp, made)
        yield made


def kijun_scan(
    lab: ZoneLab, pack: Pack, raws: dict[str, Any] | None = None, options: Options | None = None
) -> Run:
    # The network controls only: collection takes seconds instead of a minute (no apt, no file tree).
    run_, got = scan(lab.inventory, net_pack(pack), [], options or Options(timeout=90))
    assert all(h.assessed for h in run_.hosts), [h.message for h in run_.hosts if not h.assessed]
    if raws is not None:
        raws.update(got)
    return run_


def verdicts(run_: Run) -> dict[tuple[str, str], Finding]:
    return {(f.host, f.control_id): f for f in run_.findings if f.control_id in JUDGED}


def changed(before: Run, after: Run) -> dict[tuple[str, str], Status]:
    old, new = verdicts(before), verdicts(after)
    assert set(old) == set(new)
    return {key: new[key].status for key in new if new[key].status is not old[key].status}


def flows(finding: Finding) -> list[dict[str, Any]]:
    return [f for c in finding.checks if c.status is Status.FAIL for f in c.observed]


@pytest.fixture(scope="module")
def baseline(zlab: ZoneLab, pack: Pack) -> Run:
    return kijun_scan(zlab, pack)


def test_with_correct_separation_every_net_control_passes(baseline: Run) -> None:
    judged = {k: f.status for k, f in verdicts(baseline).items() if f.status is not Status.NOT_APPLICABLE}
    assert {k: s for k, s in judged.items() if s is not Status.PASS} == {
        ("(organization)", "INV-01"): Status.MANUAL  # the asset register check of unconnected devices
    }
    probed = {k for k in judged if k[0].startswith("probes-")}
    assert probed == {
        *(("probes-scanner", c) for c in ("NET-02", "NET-03", "NET-05", "INV-01")),
        *(("probes-mn-probe-01", c) for c in ("NET-01", "NET-02", "INV-01")),
        *(("probes-lg-probe-01", c) for c in ("NET-02", "NET-03", "INV-01")),
        *(("probes-in-probe-01", c) for c in ("NET-01", "NET-03", "NET-05", "INV-01")),
        *(("probes-dc-backup-01", c) for c in ("NET-02", "NET-03", "NET-05", "INV-01")),
    }
    # Host side too: no default route in mynumber, one zone per host, the proxy configured.
    assert judged[("mn-app-01", "NET-01")] is Status.PASS and judged[("in-probe-01", "NET-05")] is Status.PASS


def test_a_port_opened_from_lgwan_to_mynumber_fails_net02(zlab: ZoneLab, pack: Pack, baseline: Run) -> None:
    mn_app = zlab.address("mn-app-01")
    broken = f"ip saddr {zonespec.cidr(zlab.prefix, 'lgwan')} ip daddr {mn_app} tcp dport 445 accept"
    with zlab.extra_rules([("broken", broken)]):
        after = kijun_scan(zlab, pack)
    # The lgwan vantage, and every lgwan host's own egress probe (tcp/445 is declared on mn-app-01).
    assert changed(baseline, after) == {
        (host, "NET-02"): Status.FAIL
        for host in ("probes-lg-probe-01", "egress-lg-probe-01", "egress-lg-relay-01", "egress-lg-app-01")
    }
    finding = verdicts(after)[("probes-lg-probe-01", "NET-02")]
    assert [(f["from"], f["to"], f["to_address"], f["port"], f["state"]) for f in flows(finding)] == [
        ("lg-probe-01", "mn-app-01", mn_app, "tcp/445", "open")
    ]
    assert (
        f"lg-probe-01 ({zlab.address('lg-probe-01')}) → mn-app-01 ({mn_app}) tcp/445 open" in finding.message
    )


def test_a_route_from_mynumber_to_internet_fails_net01(zlab: ZoneLab, pack: Pack, baseline: Run) -> None:
    p = zlab.prefix
    broken = f"ip saddr {zonespec.cidr(p, 'mynumber')} ip daddr {zonespec.cidr(p, 'internet')} accept"
    with zlab.extra_rules([("broken", broken)]):
        after = kijun_scan(zlab, pack)
    assert changed(baseline, after) == {
        (host, "NET-01"): Status.FAIL
        for host in ("probes-mn-probe-01", "egress-mn-probe-01", "egress-mn-app-01")
    }
    named = {
        (f["to"], f["port"], f["state"]) for f in flows(verdicts(after)[("probes-mn-probe-01", "NET-01")])
    }
    assert {("in-proxy-01", "tcp/8080", "open"), ("in-probe-01", "tcp/22", "open")} <= named
    assert {to for to, _, _ in named} == {"in-proxy-01", "in-probe-01"}  # the canary stays out of reach


def test_a_dual_homed_host_fails_net03(zlab: ZoneLab, pack: Pack, baseline: Run) -> None:
    raws: dict[str, Any] = {}
    with zlab.dual_homed("lg-app-01", "internet", 50) as second:
        after = kijun_scan(zlab, pack, raws)
    assert changed(baseline, after) == {("lg-app-01", "NET-03"): Status.FAIL}
    check = verdicts(after)[("lg-app-01", "NET-03")].checks[0]
    assert (check.check_id, check.observed) == ("network-host-single-zone", ["internet", "lgwan"])
    # The internet zone's sweep met the second address; the host's own interfaces account for it.
    sweep = raws["probes-in-probe-01"].items["probe:nmap-zone-sweep"].text
    assert f'addr="{second}"' in sweep


def test_an_unknown_host_in_mynumber_fails_inv01(zlab: ZoneLab, pack: Pack, baseline: Run) -> None:
    with zlab.stranger("rogue", "mynumber", 66) as address:
        after = kijun_scan(zlab, pack)
    assert changed(baseline, after) == {("probes-mn-probe-01", "INV-01"): Status.FAIL}
    finding = verdicts(after)[("probes-mn-probe-01", "INV-01")]
    assert [s["address"] for s in finding.checks[0].observed] == [address]
    assert finding.message.startswith(f"{address} answered in mynumber")


def test_kijun_scan_writes_the_probe_evidence(zlab: ZoneLab, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["scan", str(zlab.inventory_path), "--out", str(tmp_path), "--format", "json", "--quiet"]
    )
    folder = Path(result.output.strip().split()[-1])
    results = {"findings": [f.to_json() for f in compact.load(folder / "results.json").findings]}
    probed = [f for f in results["findings"] if f["host"] == "probes-mn-probe-01"]
    assert {f["control"]: f["status"] for f in probed} == {
        "NET-01": "pass",
        "NET-02": "pass",
        "INV-01": "pass",
    }
    evidence = json.loads((folder / "evidence" / "probes-mn-probe-01.json").read_text())
    # The vantage collects as root (sudo): a SYN scan with reasons, UDP, and source port 53 towards NET-01.
    matrix = evidence["items"]["probe:nmap-syn-matrix"]
    assert matrix["cmd"].startswith("nmap -n -Pn -sS -v --reason --max-retries 1 --host-timeout 30s")
    assert {"probe:nmap-udp-matrix", "probe:nmap-sport-53", "probe:nmap-syn-matrix-v6"} <= set(
        evidence["items"]
    )
    assert "<nmaprun" in matrix["stdout"] and evidence["collector"]["tool_version"] == "7.93"
    assert evidence["collector"]["transport"] == "ssh" and evidence["collector"]["euid"] == "0"


def test_fallbacks_see_what_nmap_sees_across_the_router(zlab: ZoneLab) -> None:
    targets = [zlab.address(n) for n in ("mn-app-01", "in-probe-01", "lg-relay-01", "in-proxy-01")]
    ports = [22, 443, 445, 8080]
    if shutil.which("nc") is None:
        pytest.skip("needs nc (Debian package netcat-openbsd)")
    seen = {}
    for tool, off in (
        ("nmap", ()),
        ("nc", ("if kj_has nmap",)),
        ("python3", ("if kj_has nmap", "elif kj_has nc")),
    ):
        nonce = script.new_nonce()
        text, _ = script.build(targets, ports, [], script.Timing(connect_timeout_s=2), nonce)
        for branch in off:
            text = text.replace(f"{branch}; then", f"{branch.split(' kj_has')[0]} false; then")
        output = script.parse(zlab.runner("lg-probe-01")(text, 120), nonce)
        assert output.tool == tool
        seen[tool] = {k: s for k, (s, _) in observe.read(output, ports, True, False).ports.items()}
    assert seen["nmap"] == seen["nc"] == seen["python3"] and len(seen["nmap"]) == 16
    assert seen["nmap"][(zlab.address("lg-relay-01"), 443)] == "open"
    assert seen["nmap"][(zlab.address("mn-app-01"), 445)] == "filtered"


def test_nothing_leaves_the_lab(zlab: ZoneLab) -> None:
    for name in [*zlab.specs, "router"]:
        ns = zlab.router if name == "router" else zlab.ns(name)
        routes = json.loads(run("ip", "-n", ns, "-j", "route", "show", "table", "all").stdout)
        assert [r for r in routes if r.get("dst") == "default"] == [], name
    ruleset = run("ip", "netns", "exec", zlab.router, "nft", "list", "ruleset").stdout.decode()
    assert "policy drop" in ruleset and 'ip daddr != @lab drop comment "nothing leaves the lab"' in ruleset


# The classes of hole a probe from one address per zone, on 22 TCP ports over IPv4, could not see
# (issue 11), each made in the lab, and the correct network behind a router that refuses instead of
# dropping.


def net_pack(pack: Pack) -> Pack:
    return dataclasses.replace(pack, controls={k: v for k, v in pack.controls.items() if k in JUDGED})


def failing_flows(run_: Run, host: str, control: str) -> list[dict[str, Any]]:
    return flows(verdicts(run_)[(host, control)])


def test_a_rejecting_router_keeps_the_correct_network_clean(zlab: ZoneLab, pack: Pack) -> None:
    dropping = kijun_scan(zlab, pack)
    zlab.set_extra_rules([], reject=True)
    try:
        rejecting = kijun_scan(zlab, pack)
    finally:
        zlab.set_extra_rules([])
    # A router that rejects (ICMP) instead of dropping changes no verdict: no false alarm; and the
    # correct network passes under both (a tcp/53-from-53 run once met its mirror image from the other
    # vantage, a simultaneous open, and failed here: source-port runs no longer probe their own port).
    assert changed(dropping, rejecting) == {}
    judged = {k: f.status for k, f in verdicts(rejecting).items() if f.status is not Status.NOT_APPLICABLE}
    assert {s for k, s in judged.items() if k[0] != "(organization)"} == {Status.PASS}
    # Every collected host ran its egress probe; the refusals are said to be not assessed, not passed over.
    assert {k[0] for k in judged if k[0].startswith("egress-")} == {
        f"egress-{s.name}" for s in zlab.specs.values() if s.sshd
    }
    note = verdicts(rejecting)[("egress-mn-app-01", "NET-01")].message
    assert "not assessed" in note and "in-proxy-01 (" in note and "tcp/8080 refused" in note
    # The SYN scan read the router's ICMP port-unreachable as blocked, and says whose it was.
    matrix = {
        f.host: f for f in rejecting.findings if f.host == "probes-mn-probe-01" and f.control_id == "NET-01"
    }
    assert matrix and matrix["probes-mn-probe-01"].status is Status.PASS


def test_every_class_of_hole_is_found(zlab: ZoneLab, pack: Pack) -> None:
    p = zlab.prefix
    mn_app, proxy, in_probe = (
        zlab.address("mn-app-01"),
        zlab.address("in-proxy-01"),
        zlab.address("in-probe-01"),
    )
    vendor_net, vendor = f"{p}210.0/28", zlab.address("vendor-srv")
    stray6 = f"fd00:{p.split('.')[1]}:77::5"
    holes = [
        (
            "high ports",
            f"ip saddr {zonespec.cidr(p, 'mynumber')} ip daddr {proxy} tcp dport {{ 41234, 50123 }} accept",
        ),
        ("one source", f"ip saddr {mn_app} ip daddr {proxy} tcp dport 8080 accept"),
        ("udp 53", f"ip saddr {zonespec.cidr(p, 'mynumber')} ip daddr {proxy} udp dport 53 accept"),
        (
            "ipv6",
            f"ip6 saddr {zonespec.cidr6(p, 'mynumber')} ip6 daddr {zlab.address6('in-probe-01')} accept",
        ),
        ("sport 53", f"ip saddr {zonespec.cidr(p, 'internet')} ip daddr {mn_app} tcp sport 53 accept"),
        ("vendor", f"ip saddr {mn_app} ip daddr {vendor_net} accept"),
    ]
    with (
        zlab.extra_rules(holes),
        zlab.listening("in-proxy-01", (41234,)),
        zlab.routed("mn-app-01", vendor_net),
        zlab.extra_address("mn-app-01", f"{stray6}/64"),
    ):
        after = kijun_scan(zlab, pack, options=Options(timeout=90, mode="audit"))
    mn = {
        (f["to_address"], f["port"], f["state"]) for f in failing_flows(after, "probes-mn-probe-01", "NET-01")
    }
    # 1. Ports: one the target listens on (its facts), one nothing listens on (the audit's full sweep).
    assert (proxy, "tcp/41234", "open") in mn and (proxy, "tcp/50123 (full sweep)", "closed") in mn
    # 3. UDP: the resolver answered the DNS query across the boundary.
    assert (proxy, "udp/53", "open") in mn
    # 4. IPv6: routed unfiltered to in-probe-01's ULA address (found in its facts), not over IPv4.
    assert (zlab.address6("in-probe-01"), "tcp/22", "open") in mn
    assert not any(a == in_probe for a, _, _ in mn)
    host = {c.check_id: c for c in verdicts(after)[("mn-app-01", "NET-01")].checks}
    assert host["network-addresses-inside-zones"].observed == [stray6]
    # 2. Sources: only mn-app-01 may pass the /32 rule; its own egress probe finds it and names it.
    assert not any(port == "tcp/8080" and a == proxy for a, port, _ in mn)
    egress = failing_flows(after, "egress-mn-app-01", "NET-01")
    assert [(f["from"], f["to_address"], f["port"], f["state"]) for f in egress] == [
        ("mn-app-01", proxy, "tcp/8080", "open")
    ]
    # 5. Source port 53: the stateless rule lets the SYN in only from that port.
    inn = {
        (f["to_address"], f["port"], f["state"]) for f in failing_flows(after, "probes-in-probe-01", "NET-01")
    }
    assert (mn_app, "tcp/445 from source port 53", "open") in inn and (mn_app, "tcp/445", "open") not in inn
    # 6. Routes: the host side names the route; probing from the host reaches the vendor's server.
    assert host["network-routes-inside-zones"].status is Status.FAIL
    assert vendor_net in host["network-routes-inside-zones"].observed
    routed = failing_flows(after, "route-mn-app-01", "NET-01")
    assert (vendor, "tcp/443", "open") in {(f["to_address"], f["port"], f["state"]) for f in routed}
