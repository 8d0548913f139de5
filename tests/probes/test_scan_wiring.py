"""A scan runs the zone probes: findings of the vantage's pseudo host and its evidence join the run.

Real nmap from this machine (the scanner as a local vantage) to loopback addresses only, which
answer every port with a reset: a path, so the undeclared ports fail NET-02 by name.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from scanner.inventory import load
from scanner.policy import Pack
from scanner.results import Status
from scanner.run import Options, scan

INVENTORY = """\
zones:
  mgmt: {cidrs: [127.90.0.0/24]}
  mynumber: {cidrs: [127.10.0.0/24]}
hosts:
  - {name: mn-01, address: 127.10.0.5, zone: mynumber, role: server, transport: files, root: root}
"""
ZONES = """\
probe: {ports: [22, 445], max_rtt_timeout_ms: 200}
vantages:
  - {name: scanner, local: true, zone: mgmt, addresses: [127.90.0.2], sweep: false}
"""


@pytest.mark.skipif(shutil.which("nmap") is None, reason="needs nmap")
def test_scan_includes_the_probe_findings_and_their_evidence(tmp_path: Path, pack: Pack) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "inventory.yaml").write_text(INVENTORY)
    (tmp_path / "zones.yaml").write_text(ZONES)
    run, raws = scan(load(tmp_path), pack, [], Options(timeout=60))
    probed = {f.control_id: f for f in run.findings if f.host == "probes-scanner"}
    assert set(probed) == {"NET-02", "NET-05"}
    # mgmt → mynumber: tcp/22 is FLOW-MGMT-SSH (administration), tcp/445 is not.
    assert probed["NET-02"].status is Status.FAIL
    # As root a SYN scan (a reset), else a connect scan (refused); as root UDP too (the port-unreachable
    # comes from the target itself: a path).
    flows = probed["NET-02"].message.split("; ")
    assert flows[0] in (
        "scanner (127.90.0.2) → mn-01 (127.10.0.5) tcp/445 closed (reset)",
        "scanner (127.90.0.2) → mn-01 (127.10.0.5) tcp/445 closed (conn-refused)",
    )
    if os.geteuid() == 0:
        assert "scanner (127.90.0.2) → mn-01 (127.10.0.5) udp/53 closed (port-unreach)" in flows
    # Egress from mgmt is judged too, and without a canary it cannot be shown: an error, not a pass.
    assert probed["NET-05"].status is Status.ERROR and "no canary declared" in probed["NET-05"].message
    assert run.exit_code() == 1
    raw = raws["probes-scanner"]
    matrix = raw.items["probe:nmap-syn-matrix" if os.geteuid() == 0 else "probe:nmap-zone-matrix"]
    assert matrix.cmd is not None and matrix.cmd.endswith("-p 22,445 -oX - 127.10.0.5")
    assert matrix.text.lstrip().startswith("<?xml") and raw.collector["tool"] == "nmap"
    # The host itself was scanned as usual, and nothing else probes without a declared vantage.
    assert "mn-01" in raws and any(f.host == "mn-01" for f in run.findings)
    (tmp_path / "zones.yaml").unlink()
    run, raws = scan(load(tmp_path), pack, [], Options(timeout=60))
    assert not [f for f in run.findings if f.host.startswith("probes-")] and set(raws) == {"mn-01"}
