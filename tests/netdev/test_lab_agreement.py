"""Lab proof: on the real zone lab, the config verdict (FortiOS and IOS renderings of the router) and the probes agree.

For every variant of the router (correct, a stray rule, an any rule, a /32 exception, an unusual
port) the nftables ruleset is loaded into the lab router, the probes run from the lab's vantages,
and the pairs the probes find broken are exactly the pairs the rendered configurations break,
each config finding naming the variant's rule. The unusual port is probed only when the zone
policy lists it; the config verdict finds it either way (what no vantage tests).
"""

from __future__ import annotations

import pytest

from scanner.netdev import crosscheck, verdict
from scanner.netdev.device import PARSERS
from scanner.policy import Pack
from scanner.probes import scan_probes
from scanner.probes.zonefile import for_inventory
from scanner.results import Finding, Status
from scanner.run import Options
from tests.lab import zonespec
from tests.lab.test_zone_lab import zlab as zlab  # the zone lab fixture, built once for this module
from tests.lab.zones import ZoneLab
from tests.netdev import labrender
from tests.netdev.test_lab_render import RENDER, config_verdict, rule_name

pytestmark = pytest.mark.lab


def probe_verdict(
    lab: ZoneLab, pack: Pack, zone_policy: str = "", seen: list[Finding] | None = None
) -> set[tuple[str, str, str]]:
    """Return the (control, from, to) pairs whose probe check failed (the findings go into ``seen``)."""
    findings, _ = scan_probes(lab.inventory, pack, Options(timeout=90, zone_policy=zone_policy))
    if seen is not None:
        seen += findings
    out = set()
    for finding in findings:
        for check in finding.checks:
            cid = check.check_id
            if check.status is Status.FAIL and cid.startswith("probe-") and cid.endswith("-blocked"):
                source, _, dest = cid.removeprefix("probe-").removesuffix("-blocked").partition("-to-")
                out.add((finding.control_id, source, dest))
    return out


def with_port(lab: ZoneLab, port: int) -> str:
    """Write the lab's zone policy with one more probe port and return its path."""
    import yaml

    doc = yaml.safe_load((lab.dir / "zones.yaml").read_text(encoding="utf-8"))
    ports = list(doc.get("probe", {}).get("ports") or zonespec_ports())
    doc.setdefault("probe", {})["ports"] = [*ports, port]
    path = lab.dir / f"zones-{port}.yaml"
    path.write_text(zonespec.dump(doc), encoding="utf-8")
    return str(path)


def zonespec_ports() -> list[int]:
    from scanner.probes.zonefile import DEFAULT_PROBE

    return list(DEFAULT_PROBE["ports"])


@pytest.mark.parametrize("variant", ["correct", "stray", "any", "host32", "port"])
def test_config_and_probe_verdicts_agree_and_name_the_rule(zlab: ZoneLab, pack: Pack, variant: str) -> None:
    address = {name: zlab.address(name) for name in zlab.specs}
    extra = labrender.variants(zlab.prefix, address)[variant]
    configs = {vendor: render(zlab.prefix, extra) for vendor, render in RENDER.items()}
    by_config = {vendor: config_verdict(text, vendor, zlab.dir, pack) for vendor, text in configs.items()}
    zlab.set_extra_rules(extra)
    seen: list[Finding] = []
    try:
        probed = probe_verdict(zlab, pack, seen=seen)
        widened = probe_verdict(zlab, pack, with_port(zlab, 4444)) if variant == "port" else probed
    finally:
        zlab.set_extra_rules([])
    expected = labrender.BROKEN[variant]
    assert widened == expected
    for vendor, got in by_config.items():
        assert set(got) == expected, vendor
        assert all(
            rules == {rule_name(vendor, configs[vendor], zlab.prefix, extra)} for rules in got.values()
        )
    if variant == "port":
        assert probed == set()  # no vantage probes tcp/4444 by default: only the rules show the hole
    # Cross-check: every open path the probes saw is explained by the variant's rule on the device
    # that has it, and is "another path" on a device rendered without it (the correct policy).
    policy = for_inventory(zlab.inventory, None, pack)
    probes = crosscheck.probe_results(seen)
    for vendor, render in RENDER.items():
        broken = PARSERS[vendor](configs[vendor], "lab-router", "lab-router:/running-config")
        assert crosscheck.probe_checks(broken, verdict.judge(broken, zlab.inventory, policy), probes) == {}
        correct = PARSERS[vendor](render(zlab.prefix, []), "lab-router", "lab-router:/running-config")
        unexplained = crosscheck.probe_checks(correct, verdict.judge(correct, zlab.inventory, policy), probes)
        assert {c for c, _, _ in probed} == set(unexplained), vendor
        assert all(
            "open but no rule found — another path exists" in c.message
            for cs in unexplained.values()
            for c in cs
        )
