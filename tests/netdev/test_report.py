"""The HTML section of the device rules beside the probes: every value escaped, empty when no device was judged."""

from __future__ import annotations

from scanner.netdev.report import section


def test_section_shows_rules_and_probes_side_by_side_escaped() -> None:
    row = {
        "device": "fw<1>",
        "vendor": "fortios",
        "from_zone": "lgwan",
        "to_zone": "mynumber",
        "control": "NET-02",
        "rules": [
            {
                "rule": "7 (<script>)",
                "src": "10.20.0.0/16",
                "dst": "10.10.0.5/32",
                "service": "tcp/445",
                "where": "fw:/running-config:12",
                "why": "no declared flow covers it; ...",
            }
        ],
        "declared_without_rule": [{"note": "declared flow FLOW-X has no permitting rule on fw"}],
        "probes": [
            {
                "vantage": "probes-lg-probe-01",
                "control": "NET-02",
                "status": "fail",
                "paths": [
                    {
                        "from_address": "10.20.0.10",
                        "to_address": "10.10.0.5",
                        "port": "tcp/445",
                        "state": "open",
                        "explained_by": [],
                    }
                ],
            }
        ],
    }
    device = {
        "device": "fw<1>",
        "shadowed": [{"rule": "8", "where": "fw:90", "covered_by": "2"}],
        "unused": [],
    }
    html = section({"netdev": {"pairs": [row], "devices": [device]}})
    assert "<script>" not in html and "7 (&lt;script&gt;)" in html and "fw&lt;1&gt;" in html
    assert "✗ <code>" in html and "⚠ declared flow FLOW-X" in html
    assert "tcp/445 open: no rule found — another path exists" in html
    assert "shadowed</span>: 8 (fw:90; 2)" in html
    assert section({}) == ""
