"""Network separation on a real zone lab: a scan passes every NET control, and each break fails exactly one.

The lab (tests/lab/zones.py) puts mynumber, lgwan, internet, dc and mgmt behind a router whose
nftables implement the lab's zones.yaml; vantages are real sshd hosts reached over SSH (the
production path) plus the scanner itself in mgmt. Each broken variant is undone afterwards.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scanner import compact
from scanner.cli import main
from scanner.collect import hostkeys
from scanner.policy import Pack
from scanner.probes import observe, script
from scanner.results import Finding, Run, Status
from scanner.run import Options, scan
from tests.lab import zonespec
from tests.lab.lab import cleanup_stale, run, unavailable
from tests.lab.zones import ZoneLab, build, teardown

pytestmark = pytest.mark.lab

JUDGED = ("NET-01", "NET-02", "NET-03", "NET-05", "NET-06", "NET-10", "INV-01")


@pytest.fixture(scope="module")
def zlab() -> Iterator[ZoneLab]:
    """Build the zone lab once for this module, pointing the scanner's HOME at its keys."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    cleanup_stale()
    built = build(zonespec.functional)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(built.home))
        for name in ("SSH_AUTH_SOCK", "KIJUN_TOFU", "KIJUN_KNOWN_HOSTS"):
            mp.delenv(name, raising=False)
        mp.setattr(hostkeys, "trust_on_first_use", False)
        try:
            yield built
        finally:
            teardown(built)


def kijun_scan(lab: ZoneLab, pack: Pack, raws: dict[str, Any] | None = None) -> Run:
    run_, got = scan(lab.inventory, pack, [], Options(timeout=90))
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
    zlab.set_extra_rules(
        [("broken", f"ip saddr {zonespec.cidr(zlab.prefix, 'lgwan')} ip daddr {mn_app} tcp dport 445 accept")]
    )
    try:
        after = kijun_scan(zlab, pack)
    finally:
        zlab.set_extra_rules([])
    assert changed(baseline, after) == {("probes-lg-probe-01", "NET-02"): Status.FAIL}
    finding = verdicts(after)[("probes-lg-probe-01", "NET-02")]
    assert [(f["from"], f["to"], f["to_address"], f["port"], f["state"]) for f in flows(finding)] == [
        ("lg-probe-01", "mn-app-01", mn_app, "tcp/445", "open")
    ]
    assert (
        f"lg-probe-01 ({zlab.address('lg-probe-01')}) → mn-app-01 ({mn_app}) tcp/445 open" in finding.message
    )


def test_a_route_from_mynumber_to_internet_fails_net01(zlab: ZoneLab, pack: Pack, baseline: Run) -> None:
    p = zlab.prefix
    zlab.set_extra_rules(
        [
            (
                "broken",
                f"ip saddr {zonespec.cidr(p, 'mynumber')} ip daddr {zonespec.cidr(p, 'internet')} accept",
            )
        ]
    )
    try:
        after = kijun_scan(zlab, pack)
    finally:
        zlab.set_extra_rules([])
    assert changed(baseline, after) == {("probes-mn-probe-01", "NET-01"): Status.FAIL}
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
    matrix = evidence["items"]["probe:nmap-zone-matrix"]
    assert matrix["cmd"].startswith("nmap -n -Pn -sT -v --reason --max-retries 1 --host-timeout 30s")
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
