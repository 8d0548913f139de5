"""Firewalls and routers read from their own configuration: rule model, reachability, NET verdicts, cross-check.

Modules: model (the common rule model), blocks/acl (block and ACE parsers), fortios, ios, asa, rtx
(vendor parsers), device (raw facts → model), reach (first-match reachability), verdict (zone
policy), findings, crosscheck (probes), scan (what a scan calls), ssh (read-only show commands),
report (the HTML section). Submodules are imported where used: the facts registry loads
``device`` while the policy modules are still loading.
"""
