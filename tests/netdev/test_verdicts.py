"""NET verdicts from rules: the example ward's devices, first-match semantics, never a false pass, cross-checks."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from scanner.engine import control_finding
from scanner.inventory import Host, load
from scanner.netdev import asa, crosscheck, fortios, ios, reach, verdict
from scanner.netdev.model import Device, Interface, Rule, RuleSet, Service, host, network
from scanner.netdev.scan import summary
from scanner.policy import Pack
from scanner.probes.zonefile import for_inventory
from scanner.results import CheckResult, Finding, Status
from scanner.run import Options, scan

WARD = Path(__file__).parents[2] / "inventories" / "example-ward-netdev"


def line_of(device: str, start: str) -> int:
    """Return the line of a device's exported configuration that starts with ``start``."""
    lines = (WARD / "devices" / device / "running-config").read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.startswith(start))


@pytest.fixture(scope="module")
def ward_run(pack: Pack) -> dict[tuple[str, str], Finding]:
    run, _ = scan(load(WARD), pack, [], Options())
    return {(f.host, f.control_id): f for f in run.findings}


def test_the_ward_with_a_fortigate_an_rtx_and_a_catalyst_gets_net_findings_naming_rules(
    ward_run: dict[tuple[str, str], Finding],
) -> None:
    statuses = {
        k: f.status
        for k, f in ward_run.items()
        if k[0] in ("fw-01", "cat-core-01", "rtx-kita-01")
        and k[1] in ("NET-01", "NET-02", "NET-03", "NET-05")
    }
    assert statuses == {
        ("fw-01", "NET-01"): Status.PASS,
        ("fw-01", "NET-02"): Status.PASS,
        ("fw-01", "NET-03"): Status.FAIL,
        ("fw-01", "NET-05"): Status.PASS,
        ("cat-core-01", "NET-01"): Status.NOT_APPLICABLE,  # it joins no mynumber-internet pair
        ("cat-core-01", "NET-02"): Status.FAIL,
        ("cat-core-01", "NET-03"): Status.NOT_APPLICABLE,
        ("cat-core-01", "NET-05"): Status.NOT_APPLICABLE,
        ("rtx-kita-01", "NET-01"): Status.FAIL,
        ("rtx-kita-01", "NET-02"): Status.FAIL,
        ("rtx-kita-01", "NET-03"): Status.PASS,
        ("rtx-kita-01", "NET-05"): Status.NOT_APPLICABLE,
    }
    assert (
        ward_run[("cat-core-01", "NET-01")].message == "cat-core-01 connects no zone pair that NET-01 judges"
    )
    fw = ward_run[("fw-01", "NET-03")].message
    edit7 = line_of("fw-01", "    edit 7")
    assert fw.startswith(f"fw-01 7 (vendor-maint-rdp) (fw-01:/running-config:{edit7}) permits lgwan")
    assert "tcp/3389: no declared flow covers it; zone policy judged_by lgwan → internet: NET-03" in fw
    cat = ward_run[("cat-core-01", "NET-02")].message
    lg20, mn30 = (
        line_of("cat-core-01", " 20 permit tcp 10.20.10.0"),
        line_of("cat-core-01", " 30 permit tcp 10.20.0.0"),
    )
    where = f"(cat-core-01:/running-config:{lg20}, cat-core-01:/running-config:{mn30})"
    assert cat.startswith(f"cat-core-01 LG-IN 20 + MN-PROTECT 30 {where}")
    assert "→ mynumber 10.10.10.51/32 tcp/5432" in cat and "FLOW-JUKI" not in cat  # the declared 443 passes
    rtx = ward_run[("rtx-kita-01", "NET-01")].message
    f1030 = line_of("rtx-kita-01", "ip filter 1030 ")
    assert rtx.startswith(f"rtx-kita-01 filter 1030 + filter 200099 (rtx-kita-01:/running-config:{f1030},")
    assert "mynumber 10.10.200.11/32 → outside" in rtx and "tcp/80" in rtx


def test_mgmt_ssh_and_the_mail_sanitiser_are_declared_flows_on_the_fortigate(
    ward_run: dict[tuple[str, str], Finding],
) -> None:
    checks = {c.check_id: c for c in ward_run[("fw-01", "NET-03")].checks}
    flows = checks["netdev-lgwan-to-internet-rules-declared"].observed
    assert any(v["why"].startswith("no declared flow") for v in flows)
    passed = checks["netdev-mgmt-to-internet-rules-declared"]
    assert passed.status is Status.PASS
    assert [(f["rule"], f["service"], f["why"]) for f in passed.observed] == [
        ("1 (mgmt-ssh)", "tcp/22", "FLOW-MGMT-SSH")
    ]


def _device(rules: list[Rule], unparsed: bool = False) -> Device:
    dev = Device("r1", "cisco-ios", "r1.conf", "acl")
    dev.interfaces = {
        "a": Interface("a", (network("10.10.0.0/24"),), acl_in="IN"),
        "b": Interface("b", (network("10.30.0.0/24"),)),
    }
    dev.rulesets = {"IN": RuleSet("IN", tuple(rules))}
    return dev


HTTPS = Service("tcp", ((443, 443),))


def _rule(n: int, action: str, dst: str = "10.30.0.0/24", svc: Service = HTTPS) -> Rule:
    return Rule(f"IN {n}", n, action, (network("10.10.0.0/24"),), (network(dst),), (svc,))


def test_first_match_decides_and_a_shadowed_permit_opens_nothing() -> None:
    dev = _device(
        [_rule(10, "deny"), _rule(20, "permit"), _rule(30, "permit", svc=Service("tcp", ((22, 22),)))]
    )
    permits, connected = reach.permitted(dev, [network("10.10.0.0/24")], [network("10.30.0.0/24")])
    assert connected and {(p.box.proto, p.box.ports, p.rules[0].id) for p in permits} == {
        ("tcp", (22, 22), "IN 30")
    }
    assert [(r.id, e.id if e else None) for r, e in reach.shadowed(dev)] == [("IN 20", "IN 10")]


def test_an_interface_without_acl_routes_everything_and_that_is_a_finding(pack: Pack) -> None:
    dev = _device([])
    dev.interfaces["a"] = dataclasses.replace(dev.interfaces["a"], acl_in="")
    permits, _ = reach.permitted(dev, [network("10.10.0.0/24")], [network("10.30.0.0/24")])
    assert {p.box.proto for p in permits} == {"tcp", "udp", "icmp", "other"} and all(
        not p.rules for p in permits
    )


def test_a_device_with_lines_not_understood_is_never_a_pass(pack: Pack, tmp_path: Path) -> None:
    conf = (WARD / "devices" / "fw-01" / "running-config").read_text(encoding="utf-8")
    conf = conf.replace('set name "mgmt-ssh"', 'set name "mgmt-ssh"\n        set srcaddr-negate enable')
    folder = tmp_path / "ward"
    folder.mkdir()
    inv = (
        (WARD / "inventory.yaml")
        .read_text(encoding="utf-8")
        .replace("root: devices/fw-01", f"root: {tmp_path}/fw")
    )
    inv = inv.replace("../example-ward/", f"{WARD.parent}/example-ward/").replace(
        "devices/", f"{WARD}/devices/"
    )
    (folder / "inventory.yaml").write_text(inv, encoding="utf-8")
    (folder / "zones.yaml").write_text((WARD / "zones.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "fw").mkdir()
    (tmp_path / "fw" / "running-config").write_text(conf, encoding="utf-8")
    run, _ = scan(load(folder), pack, [], Options(limit=("fw-01",)))
    got = {f.control_id: f for f in run.findings if f.host == "fw-01" and f.control_id.startswith("NET-0")}
    assert got["NET-01"].status is Status.ERROR and got["NET-05"].status is Status.ERROR
    assert "not assessed: 1 line(s) not understood: fw-01:/running-config:" in got["NET-01"].message
    assert got["NET-03"].status is Status.FAIL  # the understood part still proves a hole
    (tmp_path / "fw" / "running-config").unlink()
    run, _ = scan(load(folder), pack, [], Options(limit=("fw-01",)))
    missing = {
        f.control_id: f.status
        for f in run.findings
        if f.host == "fw-01" and f.control_id in ("NET-01", "NET-02", "NET-03")
    }
    assert missing == {"NET-01": Status.ERROR, "NET-02": Status.ERROR, "NET-03": Status.ERROR}


def test_an_open_probe_path_with_no_permitting_rule_means_another_path(pack: Pack) -> None:
    inventory = load(WARD)
    policy = for_inventory(inventory, None, pack)
    dev = fortios.parse(
        (WARD / "devices" / "fw-01" / "running-config").read_text(encoding="utf-8"), "fw-01", "fw"
    )
    pairs = verdict.judge(dev, inventory, policy)
    path = {
        "from_address": "10.20.100.101",
        "to": "in-term-01",
        "to_address": "10.30.100.101",
        "port": "tcp/445",
        "state": "open",
    }
    rdp = {**path, "port": "tcp/3389", "from_address": "10.20.100.201"}
    check = CheckResult("probe-lgwan-to-internet-blocked", Status.FAIL, observed=[path, rdp])
    vantage = Host(name="probes-lg-probe-01", zone="lgwan", role="probe")
    probe = control_finding(pack.controls["NET-03"], vantage, pack, Status.FAIL, checks=(check,))
    probes = crosscheck.probe_results([probe])
    extra = crosscheck.probe_checks(dev, pairs, probes)
    [unexplained] = extra["NET-03"]
    assert [p["port"] for p in unexplained.observed] == ["tcp/445"]
    assert "no rule on fw-01 permits it: open but no rule found — another path exists" in unexplained.message
    assert rdp["explained_by"] == [f"fw-01 7 (vendor-maint-rdp) (fw:{line_of('fw-01', '    edit 7')})"]
    assert crosscheck.explain(dev, host("10.20.10.11")[0], host("10.30.10.21")[0], "tcp", 25)[1].startswith(
        "2 (mail-sanitize)"
    )


def test_a_declared_flow_without_a_permitting_rule_is_reported(pack: Pack) -> None:
    inventory = load(WARD)
    policy = for_inventory(inventory, None, pack)
    conf = (WARD / "devices" / "fw-01" / "running-config").read_text(encoding="utf-8")
    names = set()
    for text in (conf, conf.replace('set srcaddr "h-gw-01"', 'set srcaddr "none"')):
        dev = fortios.parse(text, "fw-01", "fw")
        missing = crosscheck.missing_rules(dev, verdict.judge(dev, inventory, policy), policy, inventory)
        names.add(frozenset((m["flow"], m["from_zone"], m["to_zone"]) for m in missing))
    before, after = sorted(names, key=len)
    # SSH to dc and the resident-record portal go through other devices; the mail relay is this one's.
    assert before == {("FLOW-MGMT-SSH", "mgmt", "dc"), ("FLOW-JUKI-PORTAL", "lgwan", "mynumber")}
    assert after - before == {("FLOW-MAIL-SANITIZE", "lgwan", "internet")}


def test_secrets_in_device_configs_never_reach_the_evidence(pack: Pack) -> None:
    _, raws = scan(load(WARD), pack, [], Options(limit=("os=network",)))
    for name in ("fw-01", "cat-core-01", "rtx-kita-01"):
        original = (WARD / "devices" / name / "running-config").read_text(encoding="utf-8")
        kept = raws[name].items["file:/running-config"].text
        assert len(kept.splitlines()) == len(original.splitlines())  # findings cite lines: none move
        assert int(raws[name].collector["redacted_lines"]) >= 1
        for secret in (
            "ENC SH2nN0",
            "$9$",
            "0822455D0A16",
            "k1jun-RO-community",
            "2Fp7Wq9xZ1",
            "Kq8Rt2Yw4U",
            "s3cr3t-pppoe",
        ):
            assert secret not in kept, (name, secret)


def test_a_zone_only_dynamic_routing_could_reach_is_not_assessed(pack: Pack) -> None:
    inventory = load(WARD)
    policy = for_inventory(inventory, None, pack)
    conf = (WARD / "devices" / "cat-core-01" / "running-config").read_text(encoding="utf-8")
    dev = ios.parse(conf + "router ospf 1\n network 10.0.0.0 0.255.255.255 area 0\n", "cat", "cat")
    verdict.judge(dev, inventory, policy)
    assert {n.text for n in dev.unparsed} == {"zone internet"}  # lgwan, mynumber, dc, mgmt are routed
    plain = ios.parse(conf, "cat", "cat")
    verdict.judge(plain, inventory, policy)
    assert plain.unparsed == []


def test_shadowed_disabled_and_unused_rules_are_noted(pack: Pack) -> None:
    inventory = load(WARD)
    policy = for_inventory(inventory, None, pack)
    dev = fortios.parse(
        (WARD / "devices" / "fw-01" / "running-config").read_text(encoding="utf-8"), "fw-01", "fw"
    )
    got = summary(dev, verdict.judge(dev, inventory, policy))
    assert [(r["rule"], r["covered_by"]) for r in got["shadowed"]] == [
        ("8 (mail-sanitize-dup)", "2 (mail-sanitize)")
    ]
    assert [r["rule"] for r in got["disabled"]] == ["9 (old-test)"] and got["unused"] == []


def test_asa_acls_and_security_levels_decide_the_paths(pack: Pack) -> None:
    inventory = load(WARD)
    policy = for_inventory(inventory, None, pack)
    dev = asa.parse(
        (Path(__file__).parent / "configs" / "asa-dmz.conf").read_text(encoding="utf-8"), "asa", "asa"
    )
    pairs = {(p.source, p.dest): p for p in verdict.judge(dev, inventory, policy)}
    # inside (internet zone) → lgwan: the proxy's web rule has destination any4, an any rule.
    [web] = pairs[("internet", "lgwan")].violations
    assert (web["rule"], web["src"], web["service"]) == ("INSIDE-IN line 1", "10.30.1.20/32", "tcp/80,443")
    # lgwan (level 80) → outside (level 0) has no ACL: the security levels let everything out.
    [open_] = pairs[("lgwan", "outside")].violations
    assert open_["rule"] == "no filter on security-level 80 → 0, outside out" and open_["service"] == "all"
    # lgwan → inside (80 → 100) is denied without an ACL; the proxy's egress is declared.
    assert pairs[("lgwan", "internet")].flows == [] and pairs[("internet", "outside")].violations == []


def test_a_fortios_policy_to_a_vip_reaches_the_mapped_address(pack: Pack) -> None:
    inventory = load(WARD)
    policy = for_inventory(inventory, None, pack)
    conf = (WARD / "devices" / "fw-01" / "running-config").read_text(encoding="utf-8")
    vip = 'config firewall vip\n    edit "v-cms"\n        set extip 198.51.100.10\n        set mappedip "10.30.10.11"\n    next\nend\n'
    conf = conf.replace("config firewall policy\n", vip + "config firewall policy\n")
    conf = conf.replace(
        'set dstaddr "h-mail-relay-01"\n        set schedule "always"\n        set service "SMTP"\n        set logtraffic',
        'set dstaddr "v-cms"\n        set schedule "always"\n        set service "HTTPS"\n        set logtraffic',
    )
    dev = fortios.parse(conf, "fw-01", "fw")
    pairs = {(p.source, p.dest): p for p in verdict.judge(dev, inventory, policy)}
    found = [(v["rule"], v["dst"], v["service"]) for v in pairs[("lgwan", "internet")].violations]
    assert ("2 (mail-sanitize)", "10.30.10.11/32", "tcp/443") in found
    assert any("static NAT" in n.why for n in dev.notes)
