"""Parser tests for subject 'firewall' on nft / iptables-save output recorded in network namespaces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scanner.facts import Context
from scanner.facts.firewall import parse
from scanner.inventory import local_host
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "firewall"
INV = local_host()
CTX = Context(INV.hosts[0], INV)
NFT = (OUT / "nft-ruleset.txt").read_text()
IPT = (OUT / "iptables-save.txt").read_text()
IPT_NFT = (OUT / "nft-ruleset-iptables-nft.txt").read_text()


def _facts(**probes: Any) -> dict[str, Any]:
    return parse(build_raw(probes={k.replace("_", "-"): v for k, v in probes.items()}), CTX)


def test_native_nftables_input_drop() -> None:
    assert _facts(nft_ruleset=NFT, iptables_save="") == {
        "backend": "nftables",
        "input_policy": "drop",
        "rule_count": 4,
    }


def test_iptables_nft_counted_once() -> None:
    assert _facts(nft_ruleset=IPT_NFT, iptables_save=IPT) == {
        "backend": "iptables",
        "input_policy": "drop",
        "rule_count": 3,
    }


def test_iptables_only() -> None:
    assert _facts(iptables_save=IPT) == {"backend": "iptables", "input_policy": "drop", "rule_count": 3}


def test_legacy_iptables_beside_native_nft() -> None:
    legacy = IPT.replace("(nf_tables)", "(legacy)").replace(":INPUT DROP", ":INPUT ACCEPT")
    facts = _facts(nft_ruleset=NFT, iptables_save=legacy)
    # the legacy INPUT chain accepts by default: not every input chain drops
    assert facts == {"backend": "nftables", "input_policy": "accept", "rule_count": 7}


def test_empty_rulesets() -> None:
    empty = (OUT / "nft-ruleset-empty.txt").read_text()
    assert _facts(nft_ruleset=empty, iptables_save="") == {
        "backend": "none",
        "input_policy": "none",
        "rule_count": 0,
    }


def test_accept_policy_with_final_reject_drops() -> None:
    ruleset = NFT.replace("policy drop;", "policy accept;", 1).replace(
        "icmp type echo-request accept",
        "icmp type echo-request accept\n\t\tcounter packets 3 bytes 180 reject with icmpx type admin-prohibited",
    )
    assert _facts(nft_ruleset=ruleset)["input_policy"] == "drop"
    conditional = NFT.replace("policy drop;", "policy accept;", 1).replace(
        "icmp type echo-request accept", "icmp type echo-request accept\n\t\ttcp dport 23 drop"
    )
    assert _facts(nft_ruleset=conditional)["input_policy"] == "accept"


def test_sets_and_multiline_elements_do_not_count_as_rules() -> None:
    ruleset = (
        "table inet filter {\n"
        "\tset admins {\n\t\ttype ipv4_addr\n\t\telements = { 10.0.0.1,\n\t\t\t     10.0.0.2 }\n\t}\n\n"
        "\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n"
        "\t\tip saddr @admins tcp dport { 22, 443 } accept\n\t}\n}\n"
    )
    assert _facts(nft_ruleset=ruleset) == {"backend": "nftables", "input_policy": "drop", "rule_count": 1}


def test_failed_probes() -> None:
    assert _facts(nft_ruleset={"stdout": "", "rc": 1, "stderr": "Operation not permitted"}) == {}
    assert _facts() == {}


def test_broken_output_raises() -> None:
    with pytest.raises(ValueError, match="braces"):
        _facts(nft_ruleset="table inet filter {\n\tchain input {\n")
