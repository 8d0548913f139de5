"""The probe script: only validated data goes in, framing survives banners, every tool classifies alike.

The runs here touch loopback only (127.0.0.1); the zone lab runs them across real zones.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator

import pytest

from scanner.probes import observe, script
from scanner.probes.vantage import local_runner

NONCE = "0123456789abcdef0123456789abcdef"


def test_only_addresses_and_ports_go_in() -> None:
    text, commands = script.build(
        ["10.0.0.5", "10.0.0.6"], [445, 22, 22], ["10.0.0.0/24"], script.Timing(), NONCE
    )
    assert "T='10.0.0.5 10.0.0.6'" in text and "P='22 445'" in text and "S=10.0.0.0/24" in text
    assert commands["nmap-zone-matrix"] == (
        "nmap -n -Pn -sT -v --reason --max-retries 1 --host-timeout 60s --initial-rtt-timeout 250ms "
        "--max-rtt-timeout 600ms --min-rate 500 -p 22,445 -oX - 10.0.0.5 10.0.0.6"
    )
    assert commands["nmap-zone-sweep"] == (
        "nmap -n -sn --max-retries 1 --host-timeout 60s --min-rate 500 -oX - 10.0.0.0/24"
    )
    for bad in (["10.0.0.5; reboot"], ["$(id)"], ["host.example"]):
        with pytest.raises(ValueError):
            script.build(bad, [22], [], script.Timing(), NONCE)
    with pytest.raises(ValueError):
        script.build(["10.0.0.5"], [0], [], script.Timing(), NONCE)
    with pytest.raises(ValueError):
        script.build(["10.0.0.5"], [22], ["10.0.0.0/33"], script.Timing(), NONCE)
    with pytest.raises(ValueError):
        script.build(["10.0.0.5"], [22], [], script.Timing(), "not-a-nonce'")
    # The fallback program is one single-quoted sh word: it must hold no quote of its own.
    assert "'" not in script.PYTHON


def test_framing_ignores_banners_and_other_nonces() -> None:
    mark = f"==KIJUN-PROBE:{NONCE}:"
    data = (
        "Welcome to the server\n==KIJUN-PROBE:ffffffffffffffffffffffffffffffff:START 1\n"
        f"{mark}START 1\n{mark}EUID 1000\n{mark}TOOL nc\n{mark}BEGIN tcp-connect-matrix\n"
        f"nc 10.0.0.5 22 0 Connection to 10.0.0.5 22 port [tcp/*] succeeded!\n"
        "==KIJUN-PROBE:ffffffffffffffffffffffffffffffff:DONE\n"
        f"\n{mark}STDERR\n\n{mark}RC 0\n{mark}BEGIN sweep-unsupported\n"
    ).encode()
    out = script.parse(data, NONCE)
    assert (out.tool, out.euid, out.complete) == ("nc", "1000", False)
    matrix = out.sections["tcp-connect-matrix"]
    assert matrix.rc == 0 and matrix.stdout.splitlines()[0].startswith("nc 10.0.0.5 22 0")
    assert "ffffffff" in matrix.stdout  # a foreign marker is content, not a frame
    assert out.sections["sweep-unsupported"].rc is None  # the output ended inside it
    seen = observe.read(out, [22], probing=True, sweeping=True)
    # Foreign text inside a section is refused, never skipped over: the whole matrix is unknown.
    assert "unexpected fallback line" in seen.matrix_error and seen.ports == {}
    assert "nc cannot sweep" in seen.sweep_error


@pytest.fixture
def listener() -> Iterator[int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        yield int(server.getsockname()[1])
    finally:
        server.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("tool", ["nmap", "nc", "python3"])
def test_each_tool_sees_open_and_closed_on_loopback(tool: str, listener: int) -> None:
    closed = _free_port()
    text, _ = script.build(["127.0.0.1"], [listener, closed], [], script.Timing(connect_timeout_s=2), NONCE)
    # Switch off the tools before this one, as a vantage without them would.
    if tool in ("nc", "python3"):
        text = text.replace("if kj_has nmap; then", "if false; then")
    if tool == "python3":
        text = text.replace("elif kj_has nc; then", "elif false; then")
    if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode != 0:
        pytest.skip(f"{tool} is not installed")
    out = script.parse(local_runner(text, 60), NONCE)
    seen = observe.read(out, [listener, closed], probing=True, sweeping=False)
    assert out.tool == tool and seen.matrix_error == ""
    assert {p: s for (_, p), (s, _) in seen.ports.items()} == {listener: "open", closed: "closed"}


def test_no_tool_at_all_is_an_error_not_a_pass() -> None:
    text, _ = script.build(["127.0.0.1"], [22], ["127.0.0.0/30"], script.Timing(), NONCE)
    for branch in ("if kj_has nmap", "elif kj_has nc", "elif kj_has python3"):
        text = text.replace(f"{branch}; then", f"{branch.split(' kj_has')[0]} false; then")
    seen = observe.read(script.parse(local_runner(text, 30), NONCE), [22], probing=True, sweeping=True)
    assert seen.tool == "none" and seen.ports == {}
    assert "neither nmap, nc nor python3" in seen.matrix_error and seen.sweep_error
