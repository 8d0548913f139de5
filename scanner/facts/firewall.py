"""Facts of subject 'firewall': the packet filter in use and what its input hook does by default."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from scanner.facts import Context, Subject
from scanner.facts.services import probe_text
from scanner.rawfacts import RawFacts

# A last rule that drops everything left makes the chain drop by default whatever its policy says.
_NFT_CATCH_ALL = re.compile(r"(?:counter(?: packets \d+ bytes \d+)?\s+)?(?:drop|reject\b.*)")
_IPT_CATCH_ALL = re.compile(r"-A INPUT -j (?:DROP|REJECT)\b.*")


@dataclass
class _Chain:
    """A chain of either tool, reduced to what the verdict needs."""

    table: tuple[str, str]  # (family, name)
    name: str
    hook: str = ""
    kind: str = ""
    policy: str = "accept"
    rules: list[str] = field(default_factory=list)

    def drops(self, catch_all: re.Pattern[str]) -> bool:
        return self.policy == "drop" or bool(self.rules and catch_all.fullmatch(self.rules[-1]))


def _nft(text: str) -> tuple[set[tuple[str, str]], list[_Chain]]:
    """Parse ``nft list ruleset`` into its tables and chains."""
    tables: set[tuple[str, str]] = set()
    chains: list[_Chain] = []
    depth = 0
    table: tuple[str, str] | None = None
    chain: _Chain | None = None
    for line in text.splitlines():
        text_line = line.strip()
        if not text_line or text_line.startswith("#"):
            continue
        words = text_line.split()
        if depth == 0 and words[0] == "table":
            if len(words) < 4:
                raise ValueError(f"nft: unexpected table line {text_line!r}")
            table = (words[1], words[2])
            tables.add(table)
        elif depth == 1 and words[0] == "chain" and table is not None:
            chain = _Chain(table, words[1])
            chains.append(chain)
        elif depth == 2 and chain is not None and text_line != "}":
            if text_line.startswith("type "):
                match = re.match(r"type (\w+) hook (\w+)", text_line)
                policy = re.search(r"policy (\w+);", text_line)
                if match:
                    chain.kind, chain.hook = match.groups()
                if policy:
                    chain.policy = policy.group(1)
            elif not text_line.startswith("comment "):
                chain.rules.append(text_line)
        depth += text_line.count("{") - text_line.count("}")
        if depth < 0:
            raise ValueError("nft: unbalanced braces")
        if depth <= 1:
            chain = None
    if depth != 0:
        raise ValueError("nft: unbalanced braces")
    return tables, chains


def _iptables(text: str) -> tuple[set[str], list[_Chain]]:
    """Parse ``iptables-save`` into its tables and the filter table's INPUT chain."""
    tables: set[str] = set()
    chains: dict[str, _Chain] = {}
    table = ""
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
            tables.add(table)
        elif line.startswith(":"):
            name, policy = line[1:].split()[:2]
            chains[f"{table}/{name}"] = _Chain(("ip", table), name, policy=policy.lower())
        elif line.startswith("-A "):
            key = f"{table}/{line.split()[1]}"
            if key not in chains:
                raise ValueError(f"iptables-save: rule for undeclared chain {line!r}")
            chains[key].rules.append(line)
    input_chain = chains.get("filter/INPUT")
    if input_chain is not None:
        input_chain.kind, input_chain.hook = "filter", "input"
    return tables, list(chains.values())


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return ``backend, input_policy, rule_count``."""
    nft_text, ipt_text = probe_text(raw, "nft-ruleset"), probe_text(raw, "iptables-save")
    if nft_text is None and ipt_text is None:
        return {}
    nft_tables, nft_chains = _nft(nft_text) if nft_text is not None else (set(), [])
    ipt_tables, ipt_chains = _iptables(ipt_text) if ipt_text is not None else (set(), [])
    # iptables-nft keeps its rules in nftables tables: count them once, through nft.
    via_nft = ipt_text is not None and "(nf_tables)" in ipt_text.split("\n", 1)[0] and nft_text is not None
    native = {t for t in nft_tables if not (via_nft and t[0] == "ip" and t[1] in ipt_tables)}
    backend = "nftables" if native else "iptables" if ipt_tables else "none"
    inputs = [(c, _NFT_CATCH_ALL) for c in nft_chains if c.kind == "filter" and c.hook == "input"]
    if not via_nft:
        inputs += [(c, _IPT_CATCH_ALL) for c in ipt_chains if c.hook == "input"]
    if not inputs:
        policy = "none"
    else:
        policy = "drop" if all(chain.drops(pattern) for chain, pattern in inputs) else "accept"
    chains = nft_chains + ([] if via_nft else ipt_chains)
    return {"backend": backend, "input_policy": policy, "rule_count": sum(len(c.rules) for c in chains)}


SUBJECT = Subject(name="firewall", parse=parse, probes=("nft-ruleset", "iptables-save"))
