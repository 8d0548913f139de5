"""Parser tests for subject 'proxy' on Debian's shipped files, apt's own reading, and the shell's."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from scanner.facts import Context
from scanner.facts.proxy import parse
from scanner.inventory import Host, Inventory, Zone
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "proxy"
HOST = Host(name="in-term-001", zone="internet", role="terminal", address="10.30.20.11")
PROXY = Host(name="in-proxy-01", zone="internet", role="proxy", address="10.30.0.10")
INV = Inventory(
    path=Path("."),
    name="t",
    zones={"internet": Zone("internet", "インターネット接続系", "Internet", ("10.30.0.0/16",))},
    sites={},
    hosts=(HOST, PROXY),
)
CTX = Context(HOST, INV)
PROFILE = (OUT / "profile").read_text()
APT = {f"/etc/apt/apt.conf.d/{p.name[11:]}": p.read_text() for p in OUT.glob("apt.conf.d-*")}


def facts(files: dict[str, str], **extra: str) -> dict[str, object]:
    base = {"/etc/environment": (OUT / "environment").read_text(), "/etc/profile": PROFILE, **APT}
    return parse(build_raw(files={**base, **files, **extra}), CTX)


def test_this_machine_has_no_session_proxy_and_apt_reads_like_apt_config() -> None:
    got = facts({})
    assert got["configured"] is False and got["http_proxy"] is None
    # apt-config dump of apt.conf.d-95proxy (recorded) gives the same two proxies; DIRECT per host is not one.
    dump = (OUT / "apt-config-dump-95proxy.txt").read_text()
    assert 'Acquire::http::Proxy "http://10.30.0.10:8080/"' in dump
    assert got["apt_http_proxy"] == got["apt_https_proxy"] == "http://10.30.0.10:8080/"
    assert got["endpoints"] == [
        {
            "endpoint": "10.30.0.10:8080",
            "host": "10.30.0.10",
            "port": 8080,
            "inventory_host": "in-proxy-01",
            "inventory_role": "proxy",
            "variables": ["apt_http_proxy", "apt_https_proxy"],
        }
    ]


def test_environment_then_profile_d_in_order_and_the_shell_agrees(tmp_path: Path) -> None:
    env = "HTTP_PROXY=http://10.30.0.10:8080\nhttps_proxy='http://10.30.0.10:8080'\n"
    script = "export http_proxy=http://proxy.example.lg.jp:3128\nexport https_proxy=$http_proxy # both\n"
    got = facts({"/etc/environment": env, "/etc/profile.d/zz-proxy.sh": script})
    assert got["http_proxy"] == got["https_proxy"] == "http://proxy.example.lg.jp:3128"
    assert got["sources"] == {
        "http_proxy": "/etc/profile.d/zz-proxy.sh",
        "https_proxy": "/etc/profile.d/zz-proxy.sh",
    }
    # The same file run by sh gives the same values.
    (tmp_path / "p.sh").write_text(script)
    shell = subprocess.run(
        ["sh", "-c", f'. {tmp_path / "p.sh"}; printf "%s|%s" "$http_proxy" "$https_proxy"'],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout
    assert shell == "http://proxy.example.lg.jp:3128|http://proxy.example.lg.jp:3128"
    assert got["endpoints"][0]["inventory_host"] == ""  # not an inventory host


def test_credentials_never_leave_and_direct_means_none() -> None:
    env = "http_proxy=http://kijun:s3cret@10.30.0.10:8080/\nhttps_proxy=DIRECT\n"
    got = facts({"/etc/environment": env})
    assert got["http_proxy"] == "http://10.30.0.10:8080/"
    assert "s3cret" not in repr(got)
    assert got["https_proxy"] is None and got["configured"] is False


def test_unset_removes_and_uppercase_counts() -> None:
    got = facts(
        {
            "/etc/environment": "HTTP_PROXY=http://10.30.0.10:8080\nHTTPS_PROXY=http://10.30.0.10:8080\n",
            "/etc/profile.d/no.sh": "unset https_proxy\n",
        }
    )
    assert got["http_proxy"] == "http://10.30.0.10:8080" and got["https_proxy"] is None


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("/etc/profile.d/p.sh", "if true; then\n  export http_proxy=http://x:1\nfi\n", "conditionally"),
        ("/etc/profile.d/p.sh", '[ -n "$A" ] && export http_proxy=http://x:1\n', "conditionally"),
        ("/etc/profile.d/p.sh", "export http_proxy=$(cat /etc/proxy)\n", "command substitution"),
        ("/etc/profile.d/p.sh", "export http_proxy=$PROXY_URL\n", "not a proxy variable"),
        ("/etc/profile.d/p.sh", "setp() {\nexport http_proxy=http://x:1\n}\n", "conditionally"),
        ("/etc/apt/apt.conf.d/90x", 'Acquire { http { Proxy "http://x:1"; };\n', "unbalanced"),
        ("/etc/apt/apt.conf.d/90x", '#include "/etc/apt/other.conf";\n', "#include"),
        ("/etc/environment", "http_proxy=http://x:notaport\n", "port"),
    ],
)
def test_what_cannot_be_told_raises(name: str, text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        facts({name: text})


def test_later_unconditional_lines_after_a_closed_block_still_count() -> None:
    script = 'if [ -r /etc/x ]; then\n  . /etc/x\nfi\nexport http_proxy="http://10.30.0.10:8080"\n'
    got = facts({"/etc/profile.d/p.sh": script, "/etc/environment": "https_proxy=http://10.30.0.10:8080\n"})
    assert got["configured"] is True
    assert [e["endpoint"] for e in got["endpoints"]] == ["10.30.0.10:8080"]
    assert got["endpoints"][0]["variables"] == [
        "http_proxy",
        "https_proxy",
        "apt_http_proxy",
        "apt_https_proxy",
    ]


def test_not_collected_gives_no_facts() -> None:
    assert parse(build_raw(), CTX) == {}
    # /etc/profile read (for another subject) but /etc/environment not: nothing is known, not "no proxy".
    assert parse(build_raw(files={"/etc/profile": PROFILE}), CTX) == {}
