"""Reading probe output recorded in the zone lab: nmap XML through python-nmap, and the fallbacks' lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.probes import observe, script

OUT = Path(__file__).parent / "outputs"
NONCE = "0123456789abcdef0123456789abcdef"
PORTS = [22, 443, 445, 8080]


def states(seen: observe.Observed) -> dict[tuple[str, int], str]:
    return {key: state for key, (state, _) in seen.ports.items()}


def test_matrix_xml_gives_every_target_and_port() -> None:
    found, version = observe.nmap_ports((OUT / "matrix-lgwan-445-open.xml").read_text(), PORTS)
    assert version == "7.93" and len(found) == 5 * 4
    assert found[("10.231.10.20", 445)] == ("open", "syn-ack")  # the hole in the router
    assert found[("10.231.10.20", 22)] == ("filtered", "no-response")
    assert found[("10.231.20.20", 445)] == ("closed", "conn-refused")  # same zone: a reset
    assert found[("10.231.200.10", 443)] == ("filtered", "no-response")  # the canary


def test_every_tool_classifies_the_same_on_real_separation() -> None:
    seen = {
        tool: observe.read(
            script.parse((OUT / f"framed-lgwan-{tool}.txt").read_bytes(), NONCE), PORTS, True, tool == "nmap"
        )
        for tool in ("nmap", "nc", "python3")
    }
    assert seen["nmap"].tool == "nmap" and seen["nmap"].matrix_error == ""
    assert states(seen["nmap"]) == states(seen["nc"]) == states(seen["python3"])
    assert states(seen["nmap"])[("10.231.10.20", 445)] == "open"
    assert seen["nc"].matrix_item == "probe:tcp-connect-matrix"
    assert seen["nmap"].up["10.231.20.10"] == "localhost-response"


def test_folded_ports_and_timed_out_hosts() -> None:
    found, _ = observe.nmap_ports((OUT / "extraports-localhost.xml").read_text(), list(range(1, 41)))
    assert set(found) == {("127.0.0.1", p) for p in range(1, 41)}
    assert {s for s, _ in found.values()} == {"closed"}
    found, _ = observe.nmap_ports((OUT / "matrix-host-timeout.xml").read_text(), list(range(1, 2001)))
    # The host that timed out has no port at all: nothing is read as filtered for it.
    assert not any(addr == "10.231.30.10" for addr, _ in found)
    assert found[("10.231.10.20", 445)] == ("open", "syn-ack")
    assert found[("10.231.10.20", 1999)][0] == "closed"


def test_one_folded_state_without_port_lists_fills_the_rest() -> None:
    xml = (OUT / "extraports-localhost.xml").read_text()
    older = xml.replace(' ports="1-40"', "")  # nmap before 7.80 lists no ports in <extrareasons>
    found, _ = observe.nmap_ports(older, [5, 6])
    assert found == {("127.0.0.1", 5): ("closed", "extraports"), ("127.0.0.1", 6): ("closed", "extraports")}


def test_sweeps_as_root_and_unprivileged_both_find_the_stranger() -> None:
    root = observe.nmap_up((OUT / "sweep-mynumber-root.xml").read_text())
    plain = observe.nmap_up((OUT / "sweep-mynumber-unprivileged.xml").read_text())
    assert root["10.231.10.66"] == "arp-response" and root["10.231.10.10"] == "localhost-response"
    assert plain["10.231.10.66"] == "conn-refused"
    assert set(root) == set(plain) == {"10.231.10.1", "10.231.10.10", "10.231.10.20", "10.231.10.66"}
    fallback = observe.read(
        script.parse((OUT / "framed-sweep-python3.txt").read_bytes(), NONCE), [], False, True
    )
    assert set(fallback.up) == set(root) and fallback.sweep_item == "probe:tcp-connect-sweep"


@pytest.mark.parametrize(
    ("rc", "message", "state"),
    [
        (0, "Connection to 10.0.0.5 22 port [tcp/ssh] succeeded!", "open"),
        (1, "nc: connect to 10.0.0.5 port 23 (tcp) failed: Connection refused", "closed"),
        (1, "nc: connect to 10.0.0.5 port 23 (tcp) timed out: Operation now in progress", "filtered"),
        (1, "(UNKNOWN) [10.0.0.5] 23 (telnet) : Connection refused", "closed"),  # traditional netcat
        (1, "(UNKNOWN) [10.0.0.5] 23 (telnet) : Connection timed out", "filtered"),
        (1, "Ncat: TIMEOUT.", "filtered"),
        (1, "nc: connect to 10.0.0.5 port 23 (tcp) failed: No route to host", "filtered"),
        (1, "nc: getaddrinfo: Temporary failure in name resolution", "unknown"),
        (2, "", "unknown"),
    ],
)
def test_nc_words(rc: int, message: str, state: str) -> None:
    found = observe.fallback_ports(f"nc 10.0.0.5 23 {rc} {message}\n")
    assert found[("10.0.0.5", 23)][0] == state


def test_broken_output_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a complete XML report"):
        observe.nmap_ports("<nmaprun><host>", PORTS)
    with pytest.raises(ValueError, match="unexpected fallback line"):
        observe.fallback_ports("tcp 10.0.0.5\n")
    framed = (OUT / "framed-lgwan-nmap.txt").read_text()
    cut = framed[: framed.index("</nmaprun>")]  # the connection dropped mid-report
    seen = observe.read(script.parse(cut.encode(), NONCE), PORTS, True, True)
    assert seen.ports == {} and seen.matrix_error
