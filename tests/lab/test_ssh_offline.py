"""The ssh transport's pieces that need no lab: ~/.ssh/config resolution, routes, known_hosts decisions."""

from __future__ import annotations

import getpass
from pathlib import Path

import paramiko
import pytest

from scanner.collect import CollectError, hostkeys, sshconfig
from scanner.inventory import Host


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HOME with ~/.ssh, and no TOFU or extra known_hosts from the environment."""
    (tmp_path / ".ssh").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KIJUN_TOFU", raising=False)
    monkeypatch.delenv("KIJUN_KNOWN_HOSTS", raising=False)
    monkeypatch.setattr(hostkeys, "trust_on_first_use", False)
    return tmp_path


def config(home: Path, text: str) -> None:
    (home / ".ssh" / "config").write_text(text)


def web(**fields: object) -> Host:
    return Host(name="web01", zone="lgwan", role="server", **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "user", "address", "port"),
    [
        ("ops@jump.example:2222", "ops", "jump.example", 2222),
        ("ssh://ops@[fd00::1]:2200", "ops", "fd00::1", 2200),
        ("[fd00::1]", "", "fd00::1", 22),
        ("jump.example", "", "jump.example", 22),
    ],
)
def test_proxyjump_words(home: Path, spec: str, user: str, address: str, port: int) -> None:
    ep = sshconfig.for_spec(spec)
    assert (ep.user, ep.address, ep.port) == (user or getpass.getuser(), address, port)


def test_bad_proxyjump_word_is_an_error(home: Path) -> None:
    with pytest.raises(CollectError, match="bad jump host"):
        sshconfig.for_spec("jump:ssh")


def test_ssh_config_fills_what_the_inventory_leaves_open(home: Path) -> None:
    config(
        home,
        "Host 10.0.0.5\n  HostName 10.0.0.6\n  User ops\n  Port 2222\n  IdentityFile ~/k1\n"
        "  IdentitiesOnly yes\n  ProxyJump gw\n",
    )
    ep = sshconfig.for_host(web(address="10.0.0.5"))
    assert (ep.address, ep.user, ep.port, ep.identity_files) == ("10.0.0.6", "ops", 2222, (str(home / "k1"),))
    assert ep.identities_only and ep.proxy_jump == "gw"
    mine = sshconfig.for_host(web(address="10.0.0.5", user="audit", port=2200, identity_file="/keys/a"))
    assert (mine.user, mine.port, mine.identity_files) == ("audit", 2200, ("/keys/a", str(home / "k1")))


def test_route_prefers_the_resolved_jump_host_then_host_jump_then_ssh_config(home: Path) -> None:
    config(home, "Host 10.0.0.5\n  ProxyJump a,b:2200\n")
    gw = Host(name="gw", zone="mgmt", role="bastion", address="10.0.9.1", user="ops")
    target = web(address="10.0.0.5", jump="gw")
    assert [ep.address for ep in sshconfig.route(target, gw)] == ["10.0.9.1", "10.0.0.5"]
    assert [ep.label for ep in sshconfig.route(target)] == ["gw", "web01"]
    chain = sshconfig.route(web(address="10.0.0.5"))
    assert [(ep.address, ep.port) for ep in chain] == [("a", 22), ("b", 2200), ("10.0.0.5", 22)]
    config(home, "Host 10.0.0.5\n  ProxyJump none\n")
    assert len(sshconfig.route(web(address="10.0.0.5"))) == 1


def key() -> paramiko.PKey:
    return paramiko.ECDSAKey.generate()


def test_known_key_passes_unknown_is_refused_and_tofu_records(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, other = key(), key()
    known = home / ".ssh" / "known_hosts"
    known.write_text(f"[10.0.0.5]:2222 {server.get_name()} {server.get_base64()}\n")
    assert hostkeys.verify(["[10.0.0.5]:2222"], server, "web01") == "known"
    with pytest.raises(hostkeys.HostKeyError, match=r"host key for web01 is not known; verify it and add it"):
        hostkeys.verify(["10.0.0.6"], other, "web01")
    monkeypatch.setenv("KIJUN_TOFU", "1")
    assert hostkeys.verify(["10.0.0.6"], other, "web01") == "recorded"
    assert known.read_text().splitlines()[-1] == f"10.0.0.6 {other.get_name()} {other.get_base64()}"
    assert hostkeys.verify(["10.0.0.6"], other, "web01") == "known"


def test_changed_and_revoked_keys_are_refused_even_with_tofu(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIJUN_TOFU", "1")
    server, stolen = key(), key()
    known = home / ".ssh" / "known_hosts"
    known.write_text(
        f"10.0.0.5 {server.get_name()} {server.get_base64()}\n"
        f"@revoked 10.0.0.7 {stolen.get_name()} {stolen.get_base64()}\n"
    )
    with pytest.raises(hostkeys.HostKeyError, match="has CHANGED"):
        hostkeys.verify(["10.0.0.5"], stolen, "web01")
    with pytest.raises(hostkeys.HostKeyError, match="@revoked"):
        hostkeys.verify(["10.0.0.7"], stolen, "web02")
    assert known.read_text().count("\n") == 2  # nothing recorded


def test_hashed_names_and_the_kijun_file_are_read(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server, extra = key(), key()
    (home / ".ssh" / "known_hosts").write_text(
        f"{paramiko.HostKeys.hash_host('10.0.0.5')} {server.get_name()} {server.get_base64()}\n"
    )
    kijun = home / "kijun_known_hosts"
    kijun.write_text(f"10.0.0.8 {extra.get_name()} {extra.get_base64()}\n")
    monkeypatch.setenv("KIJUN_KNOWN_HOSTS", str(kijun))
    assert hostkeys.verify(["10.0.0.5"], server, "web01") == "known"
    assert hostkeys.verify(["10.0.0.8"], extra, "web03") == "known"


def test_known_key_types_are_negotiated_first(home: Path) -> None:
    rsa = paramiko.RSAKey.generate(1024)
    (home / ".ssh" / "known_hosts").write_text(f"10.0.0.5 {rsa.get_name()} {rsa.get_base64()}\n")
    offered = ("ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256")
    assert hostkeys.key_types(["10.0.0.5"], offered) == (
        "rsa-sha2-512",
        "rsa-sha2-256",
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
    )
    assert hostkeys.key_types(["10.0.0.9"], offered) == offered
