"""The ssh transport against real sshd hosts in network namespaces: facts, jump host, host keys, hostile hosts."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import paramiko
import pytest

from scanner import facts as factsmod
from scanner.collect import CollectError, Plan, hostkeys, plan_for, ssh, transport_for
from scanner.inventory import Host
from scanner.policy import Pack
from scanner.rawfacts import RawFacts
from scanner.run import Options, scan
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

SSHD_HOSTS = ("weak", "hardened", "bastion", "junk", "inner", "stranger")
# Keywords whose static reading docs/facts.md promises equal to `sshd -T`.
# fmt: off
STATIC_KEYWORDS = [
    "permitrootlogin", "passwordauthentication", "kbdinteractiveauthentication", "pubkeyauthentication",
    "permitemptypasswords", "usepam", "authenticationmethods", "maxauthtries", "clientaliveinterval",
    "clientalivecountmax", "logingracetime", "x11forwarding", "allowtcpforwarding", "loglevel",
    "syslogfacility", "ciphers", "macs", "kexalgorithms", "port", "listenaddress", "allowusers",
    "allowgroups", "denyusers", "denygroups",
]
# fmt: on


def host(lab: Lab, name: str, **changes: object) -> Host:
    found = lab.inventory.host(name)
    assert found is not None
    return dataclasses.replace(found, **changes) if changes else found


def collect(
    lab: Lab, name: str, plan: Plan | None = None, timeout: float = 20.0, **changes: object
) -> RawFacts:
    target = host(lab, name, **changes)
    jump = lab.inventory.host(target.jump) if target.jump else None
    return ssh.collect(target, plan or plan_for(["sshd"]), timeout, jump_host=jump)


def sshd_t(lab: Lab, name: str) -> dict[str, list[str]]:
    """Run `sshd -T` as root inside the host's namespace; return keyword -> printed lines."""
    out: dict[str, list[str]] = {}
    for line in lab.exec(name, "/usr/sbin/sshd", "-T").stdout.decode().splitlines():
        keyword, _, rest = line.partition(" ")
        out.setdefault(keyword, []).append(rest)
    return out


def same(fact: object, lines: list[str]) -> bool:
    """Tell whether a fact value is what `sshd -T` printed: one line, a line per entry, or one split line.

    `sshd -T` prints PermitRootLogin's legacy alias; the facts use the current word (docs/facts.md).
    """
    lines = ["prohibit-password" if line == "without-password" else line for line in lines]
    if isinstance(fact, list):
        return fact == lines or (len(lines) == 1 and fact == lines[0].split())
    return lines == [str(fact)]


def mismatches(
    facts: dict[str, object], expected: dict[str, list[str]], keywords: list[str]
) -> dict[str, object]:
    """Return keyword -> (fact, `sshd -T` lines) where they differ."""
    return {
        kw: (facts.get(kw), expected.get(kw, []))
        for kw in keywords
        if not same(facts.get(kw, []), expected.get(kw, []))
    }


def sshd_facts(lab: Lab, name: str, raw: RawFacts) -> dict[str, object]:
    built = factsmod.build(raw, factsmod.Context(host(lab, name), lab.inventory), ["sshd"])
    assert built.errors == {}
    tree: dict[str, object] = built.tree["sshd"]
    return tree


def collect_any(lab: Lab, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RawFacts:
    if name == "stranger":  # not in known_hosts: trust it on first use, into a scratch file
        monkeypatch.setenv("KIJUN_TOFU", "1")
        monkeypatch.setenv("KIJUN_KNOWN_HOSTS", str(tmp_path / "known_hosts"))
    return collect(lab, name)


@pytest.mark.parametrize("name", SSHD_HOSTS)
def test_sshd_facts_equal_sshd_T_in_the_namespace(
    env: Lab, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = collect_any(env, name, tmp_path, monkeypatch)
    expected = sshd_t(env, name)
    facts = sshd_facts(env, name, raw)
    as_root = host(env, name).become
    assert facts["source"] == ("sshd -T" if as_root else "static")
    assert mismatches(facts, expected, list(expected) if as_root else STATIC_KEYWORDS) == {}


@pytest.mark.parametrize("name", ["weak", "inner"])
def test_static_reading_equals_sshd_T_for_root_collected_hosts(env: Lab, name: str) -> None:
    raw = collect(env, name)
    static = dataclasses.replace(raw, items={k: v for k, v in raw.items.items() if k != "probe:sshd-T"})
    facts = sshd_facts(env, name, static)
    expected = sshd_t(env, name)
    assert facts["source"] == "static"
    assert mismatches(facts, expected, STATIC_KEYWORDS) == {}


def test_weak_server_raw_facts_permit_root_login(env: Lab) -> None:
    raw = collect(env, "weak")
    dropin = raw.file("/etc/ssh/sshd_config.d/50-weak.conf")
    probe = raw.probe("sshd-T")
    assert dropin is not None and "PermitRootLogin yes" in dropin.text.splitlines()
    assert probe is not None and probe.rc == 0 and "permitrootlogin yes" in probe.text.splitlines()
    assert sshd_facts(env, "weak", raw)["permitrootlogin"] == "yes"
    assert sshd_facts(env, "hardened", collect(env, "hardened"))["permitrootlogin"] == "no"


def test_become_collects_as_root_and_plain_login_does_not(env: Lab) -> None:
    assert collect(env, "weak").collector["euid"] == "0"
    assert collect(env, "weak").collector["command"] == "sudo -n sh -s"
    assert collect(env, "hardened").collector["euid"] != "0"


def test_sudo_password_prompt_fails_fast(env: Lab) -> None:
    started = time.monotonic()
    with pytest.raises(CollectError) as caught:
        collect(env, "hardened", timeout=30, become=True)
    assert caught.value.status == "error"
    assert "sudo -n needs a password" in caught.value.message
    assert time.monotonic() - started < 5


def test_phase_timings_are_recorded(env: Lab) -> None:
    raw = collect(env, "bastion")
    times = {k: float(raw.collector[f"{k}_s"]) for k in ("connect", "auth", "exec", "transfer")}
    assert all(t > 0 for t in times.values())
    pub = env.hosts["bastion"].etc / "ssh" / "ssh_host_ed25519_key.pub"
    openssh = subprocess.run(["ssh-keygen", "-lf", str(pub)], capture_output=True, check=True).stdout.split()[
        1
    ]
    assert raw.collector["host_key"] == f"ssh-ed25519 {openssh.decode()}"


def test_inner_host_is_reached_through_the_bastion_only(env: Lab) -> None:
    raw = collect(env, "inner")
    assert raw.collector["via"] == env.hosts["bastion"].address
    assert raw.collector["euid"] == "0"
    # host.jump read as a ProxyJump word ("bastion" is a Host entry of the lab's ~/.ssh/config),
    # which is also what the transport registry does today.
    inner = host(env, "inner")
    assert (
        transport_for(inner)(inner, plan_for(["sshd"]), 20).collector["via"] == env.hosts["bastion"].address
    )
    started = time.monotonic()
    with pytest.raises(CollectError) as caught:
        collect(env, "inner", timeout=1.5, jump="")
    assert caught.value.status == "unreachable" and "timed out" in caught.value.message
    assert time.monotonic() - started < 3


def test_proxyjump_from_ssh_config(env: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    shutil.copytree(env.home, home)
    config = home / ".ssh" / "config"
    config.write_text(f"Host {env.hosts['inner'].address}\n    ProxyJump bastion\n\n" + config.read_text())
    monkeypatch.setenv("HOME", str(home))
    raw = ssh.collect(host(env, "inner", jump=""), plan_for(["sshd"]), 20)
    assert raw.collector["via"] == env.hosts["bastion"].address


def test_host_without_banner_is_unreachable_within_the_timeout(env: Lab) -> None:
    started = time.monotonic()
    with pytest.raises(CollectError) as caught:
        collect(env, "nobanner", timeout=2)
    assert caught.value.status == "unreachable"
    assert "no SSH banner" in caught.value.message
    assert time.monotonic() - started < 3


def test_connection_dropped_mid_collection_is_an_error(env: Lab) -> None:
    with pytest.raises(CollectError) as caught:
        collect(env, "dropper")
    assert caught.value.status == "error"
    assert "dropped" in caught.value.message


def test_host_stalling_mid_collection_times_out_as_an_error(env: Lab) -> None:
    started = time.monotonic()
    with pytest.raises(CollectError) as caught:
        collect(env, "dropper", timeout=2, become=True)  # its ForceCommand stalls for this command
    assert caught.value.status == "error"
    assert "timed out after 2s" in caught.value.message
    assert time.monotonic() - started < 3


def test_binary_and_html_junk_come_back_byte_exact(env: Lab) -> None:
    raw = collect(env, "junk", Plan(files=("/etc/motd", "/etc/issue.net")))
    for path in ("/etc/motd", "/etc/issue.net"):
        item = raw.file(path)
        on_disk = (env.hosts["junk"].etc / path.removeprefix("/etc/")).read_bytes()
        assert item is not None and item.data == on_disk
        assert item.sha256 == hashlib.sha256(on_disk).hexdigest()
    assert b"\x00" in raw.items["file:/etc/motd"].data


def test_unknown_host_key_is_refused(env: Lab) -> None:
    known = (env.home / ".ssh" / "known_hosts").read_text()
    with pytest.raises(CollectError) as caught:
        collect(env, "stranger")
    assert caught.value.status == "unreachable"
    assert (
        f"host key for stranger ({env.hosts['stranger'].address}) is not known; verify it and add it to "
        "known_hosts, or run with --trust-on-first-use"
    ) in caught.value.message
    assert (env.home / ".ssh" / "known_hosts").read_text() == known


@pytest.mark.parametrize("how", ["env", "module"])
def test_trust_on_first_use_records_the_key(
    env: Lab, how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "kijun_known_hosts"
    monkeypatch.setenv("KIJUN_KNOWN_HOSTS", str(record))
    if how == "env":
        monkeypatch.setenv("KIJUN_TOFU", "1")
    else:
        monkeypatch.setattr(hostkeys, "trust_on_first_use", True)
    collect(env, "stranger")
    assert record.read_text() == f"{env.hosts['stranger'].address} {env.host_key('stranger')}\n"
    monkeypatch.delenv("KIJUN_TOFU", raising=False)
    monkeypatch.setattr(hostkeys, "trust_on_first_use", False)
    assert collect(env, "stranger").host == "stranger"  # now known: no TOFU needed
    assert record.read_text().count("\n") == 1


def test_changed_host_key_is_refused_even_with_tofu(
    env: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = paramiko.Ed25519Key.from_private_key_file(str(env.key))
    record = tmp_path / "known_hosts"
    record.write_text(f"{env.hosts['weak'].address} {other.get_name()} {other.get_base64()}\n")
    monkeypatch.setenv("KIJUN_KNOWN_HOSTS", str(record))
    monkeypatch.setenv("KIJUN_TOFU", "1")
    with pytest.raises(CollectError) as caught:
        collect(env, "weak")
    assert caught.value.status == "unreachable"
    assert "host key for weak" in caught.value.message and "has CHANGED" in caught.value.message


def test_login_without_a_usable_key_fails_authentication(
    env: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".ssh").mkdir()
    shutil.copy(env.home / ".ssh" / "known_hosts", tmp_path / ".ssh" / "known_hosts")
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(CollectError) as caught:
        collect(env, "hardened")
    assert caught.value.status == "unreachable"
    assert "kijun@hardened" in caught.value.message and "authentication failed" in caught.value.message


def test_login_with_a_key_from_ssh_agent(env: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".ssh").mkdir()
    shutil.copy(env.home / ".ssh" / "known_hosts", tmp_path / ".ssh" / "known_hosts")
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 5
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        subprocess.run(["ssh-add", "-q", str(env.key)], env={"SSH_AUTH_SOCK": str(sock)}, check=True)
        monkeypatch.setenv("HOME", str(tmp_path))
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        assert collect(env, "hardened").host == "hardened"
    finally:
        agent.terminate()
        agent.wait(timeout=5)


def test_hosts_are_collected_in_parallel(env: Lab) -> None:
    names = ["weak", "hardened", "bastion", "junk", "inner"]
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        raws = list(pool.map(lambda n: collect(env, n), names))
    assert [r.host for r in raws] == names
    assert all(r.probe("sshd-T") is not None for r in raws)


def test_a_scan_of_the_lab_goes_on_past_broken_hosts(
    env: Lab, pack: Pack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ssh, "CONNECT_TIMEOUT", 2.0)
    run_, raws = scan(env.inventory, pack, [], Options(timeout=60))
    statuses = {h.name: h.status for h in run_.hosts}
    assert statuses == {
        "bastion": "assessed",
        "junk": "assessed",
        "weak": "assessed",
        "hardened": "assessed",
        "inner": "assessed",
        "nobanner": "unreachable",
        "stranger": "unreachable",
        "dropper": "error",
    }
    assert set(raws) == {name for name, status in statuses.items() if status == "assessed"}
