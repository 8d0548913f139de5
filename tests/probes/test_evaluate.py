"""From what a vantage saw to findings: each breaking flow named, doubt never a pass, evidence kept.

A fake runner answers the real probe script in the python3 fallback's format, with the states a
test chooses, so the whole path (plan, script, framing, reading, judging) runs without a network.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from scanner.collect import CollectError
from scanner.errors import LoadError
from scanner.facts import Facts
from scanner.inventory import Inventory
from scanner.policy import Pack
from scanner.probes import probe_findings
from scanner.probes.vantage import Vantage, vantages_for
from scanner.probes.zonefile import for_inventory
from scanner.probes.zonepolicy import ZonePolicy
from scanner.results import Finding, Status

Runner = Callable[[str, float], bytes]


def fake(
    opened: dict[tuple[str, int], str] | None = None,
    up: tuple[str, ...] = (),
    missing: str = "",
    same_zone: str = "closed",
) -> Runner:
    """Answer the probe script: listed (address, port) states, ``same_zone`` inside it, the rest filtered."""
    opened = opened or {}

    def run(text: str, timeout: float) -> bytes:
        nonce = re.search(r"==KIJUN-PROBE:([0-9a-f]+):", text)
        targets = re.search(r"^T='?([^'\n]*)'?$", text, re.M)
        ports = re.search(r"^P='?([^'\n]*)'?$", text, re.M)
        sweep = re.search(r"^S='?([^'\n]*)'?$", text, re.M)
        assert nonce and targets and ports and sweep
        mark = f"==KIJUN-PROBE:{nonce.group(1)}:"
        me = re.search(r"10\.(\d+)\.0\.", sweep.group(1) or "x")
        lines = [f"{mark}START 1", f"{mark}EUID 1000", f"{mark}TOOL python3"]
        if targets.group(1):
            lines.append(f"{mark}BEGIN tcp-connect-matrix")
            for addr in targets.group(1).split():
                if addr == missing:
                    continue
                for port in ports.group(1).split():
                    same = me is not None and addr.startswith(f"10.{me.group(1)}.0.")
                    state = opened.get((addr, int(port)), same_zone if same else "filtered")
                    lines.append(f"tcp {addr} {port} {state} test")
            lines += ["", f"{mark}STDERR", "", f"{mark}RC 0"]
        if sweep.group(1):
            lines.append(f"{mark}BEGIN tcp-connect-sweep")
            lines += [f"up {a} conn-refused" for a in up]
            lines += ["", f"{mark}STDERR", "", f"{mark}RC 0"]
        return ("\n".join([*lines, f"{mark}DONE", ""])).encode()

    return run


def vantage(policy: ZonePolicy, inventory: Inventory, name: str, runner: Runner) -> Vantage:
    found = next(v for v in vantages_for(policy, inventory) if v.name == name)
    return dataclasses.replace(found, run=runner)


def probe(
    inventory: Inventory,
    pack: Pack,
    name: str,
    runner: Runner,
    policy: ZonePolicy | None = None,
    **facts: Any,
) -> dict[str, Finding]:
    policy = policy or for_inventory(inventory, pack=pack)
    host_facts = {h: Facts(tree={"network": {"addresses": a}}) for h, a in facts.items()}
    findings, raws = probe_findings(
        inventory, pack, policy, None, [vantage(policy, inventory, name, runner)], host_facts
    )
    assert set(raws) == {f"probes-{name}"}
    assert all(f.host == f"probes-{name}" and f.role == "probe" for f in findings)
    return {f.control_id: f for f in findings}


def check(finding: Finding, prefix: str) -> Any:
    return next(c for c in finding.checks if c.check_id.startswith(prefix))


def test_separation_holds(inventory: Inventory, pack: Pack) -> None:
    found = probe(inventory, pack, "mn-probe-01", fake(up=("10.10.0.1", "10.10.0.10", "10.10.0.20")))
    assert {c: f.status for c, f in found.items()} == {
        "NET-01": Status.PASS,
        "NET-02": Status.PASS,
        "INV-01": Status.PASS,
    }
    assert [c.check_id for c in found["NET-01"].checks] == [
        "probe-mynumber-to-internet-blocked",
        "probe-mynumber-to-outside-blocked",
    ]
    assert [c.check_id for c in found["NET-02"].checks] == [
        "probe-mynumber-to-dc-blocked",
        "probe-mynumber-to-lgwan-blocked",
    ]


def test_an_open_port_names_the_flow(inventory: Inventory, pack: Pack) -> None:
    found = probe(inventory, pack, "lg-probe-01", fake({("10.10.0.20", 445): "open"}))
    net02 = found["NET-02"]
    assert net02.status is Status.FAIL and found["NET-03"].status is Status.PASS
    assert net02.message == "lg-probe-01 (10.20.0.10) → mn-app-01 (10.10.0.20) tcp/445 open (test)"
    assert check(net02, "probe-lgwan-to-mynumber").observed == [
        {
            "from": "lg-probe-01",
            "from_address": "10.20.0.10",
            "from_zone": "lgwan",
            "to": "mn-app-01",
            "to_address": "10.10.0.20",
            "to_zone": "mynumber",
            "port": "tcp/445",
            "state": "open",
            "reason": "test",
        }
    ]
    assert check(net02, "probe-lgwan-to-mynumber").evidence == ("probe:tcp-connect-matrix",)


def test_a_reset_is_a_path_and_a_declared_flow_is_not_a_failure(inventory: Inventory, pack: Pack) -> None:
    runner = fake({("10.30.0.10", 3389): "closed", ("10.20.0.20", 443): "open"})
    found = probe(inventory, pack, "mn-probe-01", runner)
    assert found["NET-01"].status is Status.FAIL
    assert "in-probe-01 (10.30.0.10) tcp/3389 closed" in found["NET-01"].message
    assert found["NET-02"].status is Status.PASS  # mynumber → the eLTAX relay on 443 is FLOW-ELTAX


def test_doubt_is_an_error_and_a_proven_path_still_fails(inventory: Inventory, pack: Pack) -> None:
    found = probe(inventory, pack, "mn-probe-01", fake(missing="10.30.0.20"))
    assert found["NET-01"].status is Status.ERROR
    assert (
        "in-proxy-01 (10.30.0.20) tcp/21: no result for this port (host timeout?)" in found["NET-01"].message
    )
    found = probe(inventory, pack, "mn-probe-01", fake({("10.30.0.10", 22): "open"}, missing="10.30.0.20"))
    assert found["NET-01"].status is Status.FAIL


def test_egress_needs_a_canary_and_a_reachable_proxy(inventory: Inventory, pack: Pack) -> None:
    found = probe(inventory, pack, "in-probe-01", fake({("10.30.0.20", 8080): "open"}))
    assert found["NET-05"].status is Status.PASS
    assert check(found["NET-05"], "probe-egress-proxy").observed == {"in-proxy-01 10.30.0.20:8080": "open"}
    found = probe(
        inventory, pack, "in-probe-01", fake({("10.30.0.20", 8080): "open", ("10.200.0.10", 443): "open"})
    )
    assert found["NET-05"].status is Status.FAIL
    assert "in-probe-01 (10.30.0.10) → canary (10.200.0.10) tcp/443 open" in found["NET-05"].message
    found = probe(inventory, pack, "in-probe-01", fake())  # the proxy's port is closed
    assert found["NET-05"].status is Status.ERROR
    assert "the declared proxy does not answer" in found["NET-05"].message
    policy = dataclasses.replace(for_inventory(inventory, pack=pack), canaries=())
    found = probe(inventory, pack, "in-probe-01", fake({("10.30.0.20", 8080): "open"}), policy)
    assert found["NET-05"].status is Status.ERROR and "no canary declared" in found["NET-05"].message


def test_a_vantage_that_reaches_nothing_proves_nothing(inventory: Inventory, pack: Pack) -> None:
    found = probe(inventory, pack, "mn-probe-01", fake(same_zone="filtered"))
    assert found["NET-01"].status is Status.ERROR
    witness = check(found["NET-01"], "probe-vantage-reaches")
    assert "reached no witness" in witness.message and "mn-app-01 (10.10.0.20)" in witness.message
    # The zone's gateway answering the sweep is enough to show the vantage reaches its network.
    found = probe(inventory, pack, "mn-probe-01", fake(same_zone="filtered", up=("10.10.0.1",)))
    assert found["NET-01"].status is Status.PASS


def test_unknown_hosts_in_the_zone(inventory: Inventory, pack: Pack) -> None:
    up = ("10.10.0.1", "10.10.0.10", "10.10.0.20", "10.10.0.66", "10.10.0.77")
    found = probe(inventory, pack, "mn-probe-01", fake(up=up))
    inv = found["INV-01"]
    assert inv.status is Status.FAIL
    assert [s["address"] for s in check(inv, "probe-sweep-mynumber").observed] == ["10.10.0.66", "10.10.0.77"]
    assert inv.message.startswith(
        "10.10.0.66 answered in mynumber (conn-refused) and is in no inventory entry"
    )
    # An address seen on an inventory host's interface is that host's, not a stranger.
    found = probe(
        inventory,
        pack,
        "mn-probe-01",
        fake(up=up),
        **{"mn-app-01": [{"address": "10.10.0.66"}, {"address": "10.10.0.77"}]},
    )
    assert found["INV-01"].status is Status.PASS


def test_a_failed_vantage_errors_every_verdict(inventory: Inventory, pack: Pack) -> None:
    def down(text: str, timeout: float) -> bytes:
        raise CollectError("unreachable", "10.20.0.10:22: TCP connect timed out after 10s")

    policy = for_inventory(inventory, pack=pack)
    findings, raws = probe_findings(
        inventory, pack, policy, None, [vantage(policy, inventory, "lg-probe-01", down)]
    )
    assert {f.control_id: f.status for f in findings} == dict.fromkeys(
        ("NET-02", "NET-03", "INV-01"), Status.ERROR
    )
    assert "TCP connect timed out" in findings[0].message
    raw = raws["probes-lg-probe-01"]
    assert "failed (unreachable)" in raw.collector["error"] and list(raw.items) == ["probe:zone-plan"]


def test_evidence_holds_plan_commands_and_timing(inventory: Inventory, pack: Pack) -> None:
    policy = for_inventory(inventory, pack=pack)
    v = vantage(policy, inventory, "lg-probe-01", fake())
    _, raws = probe_findings(inventory, pack, policy, None, [v])
    raw = raws["probes-lg-probe-01"]
    plan = json.loads(raw.items["probe:zone-plan"].text)
    assert {t["name"] for t in plan["targets"]} >= {"mn-app-01", "in-probe-01", "canary", "lg-relay-01"}
    assert plan["judged"] == {"NET-02": ["mynumber"], "NET-03": ["internet", "outside"]}
    assert (
        445 in plan["ports"] and 8080 in plan["ports"]
    )  # declared services and the proxy port join the list
    assert raw.items["probe:tcp-connect-matrix"].cmd.startswith("nc -z -v -n -w 3 <address> <port> | python3")
    assert raw.collector["max_rtt_timeout_ms"] == "300" and raw.collector["zone_policy_sha256"]


def test_choosing_vantages(inventory: Inventory, pack: Pack) -> None:
    policy = for_inventory(inventory, pack=pack)
    assert [v.name for v in vantages_for(policy, inventory)] == [
        "scanner",
        "mn-probe-01",
        "lg-probe-01",
        "in-probe-01",
    ]
    assert vantages_for(policy, inventory, SimpleNamespace(probe=False)) == []
    chosen = vantages_for(policy, inventory, SimpleNamespace(vantages=("in-proxy-01", "local:dc")))
    assert [(v.name, v.zone, v.transport) for v in chosen] == [
        ("in-proxy-01", "internet", "ssh"),
        ("scanner", "dc", "local"),
    ]
    assert [v.name for v in vantages_for(policy, inventory, SimpleNamespace(limit=("zone=lgwan",)))] == [
        "lg-probe-01"
    ]
    with pytest.raises(LoadError, match="not a declared vantage"):
        vantages_for(policy, inventory, SimpleNamespace(vantages=("nowhere",)))
    with pytest.raises(LoadError, match="transport snapshot cannot run probes"):
        vantages_for(policy, inventory, SimpleNamespace(vantages=("dc-backup-01",)))
