"""Two factors proven for real: kijun's MFA verdict against what a password-only login really does on each host.

Five added hosts with real sshd and PAM (libpam-google-authenticator), each with a user ``clerk``
who has a password and a TOTP secret in ~/.google_authenticator:

- ``mfa-strong``: keyboard-interactive only, PAM asks the password then the TOTP code (required);
- ``mfa-optional``: the same, but the TOTP module is ``optional``;
- ``mfa-sufficient``: the TOTP module is ``sufficient`` and comes before the password;
- ``mfa-nopam``: PAM would ask for the code, but sshd checks passwords itself (UsePAM no) and no
  AuthenticationMethods sends logins through PAM;
- ``mfa-twice``: ``AuthenticationMethods password,keyboard-interactive`` with a PAM stack that
  only asks the password: two methods, one factor.

The scanner's own account logs in with its key (a ``Match User kijun`` block), as a management
account would. kijun scans all five over SSH (MFA-03, label mfa_admin); paramiko then tries each
host knowing only clerk's password (its password method, and keyboard-interactive answering only
the password prompts). kijun must say fail exactly where that login got in.
"""

from __future__ import annotations

import base64
import dataclasses
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import paramiko
import pytest

from scanner.inventory import Inventory
from scanner.policy import Pack
from scanner.run import Options, scan
from tests.facts.pam_truth import credentials, totp
from tests.lab import addhost
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

USER = "clerk"
SCANNER = "Match User kijun\n    PubkeyAuthentication yes\n    AuthenticationMethods publickey\n"
KBD_ONLY = (
    "KbdInteractiveAuthentication yes\nPasswordAuthentication no\nPubkeyAuthentication no\n"
    "AuthenticationMethods keyboard-interactive\n" + SCANNER
)
TOTP = "auth required pam_google_authenticator.so\n"
# host -> (sshd drop-in, the lines that replace Debian's "@include common-auth" in /etc/pam.d/sshd)
HOSTS: dict[str, tuple[str, str]] = {
    "mfa-strong": (KBD_ONLY, "@include common-auth\n" + TOTP),
    "mfa-optional": (KBD_ONLY, "@include common-auth\nauth optional pam_google_authenticator.so\n"),
    "mfa-sufficient": (KBD_ONLY, "auth sufficient pam_google_authenticator.so\n@include common-auth\n"),
    "mfa-nopam": (
        "UsePAM no\nPasswordAuthentication yes\nPubkeyAuthentication no\nMatch User kijun\n    PubkeyAuthentication yes\n",
        "@include common-auth\n" + TOTP,
    ),
    "mfa-twice": (
        "KbdInteractiveAuthentication yes\nPasswordAuthentication yes\nPubkeyAuthentication no\n"
        "AuthenticationMethods password,keyboard-interactive\n" + SCANNER,
        "@include common-auth\n",
    ),
}


def test_totp_matches_the_rfc_6238_test_vector() -> None:
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp(secret, 59) == "287082" and totp(secret, 1111111109) == "081804"


@dataclass
class Hosts:
    lab: Lab
    inventory: Inventory
    known_hosts: Path
    password: str
    secret: str


@pytest.fixture(scope="module")
def hosts(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    """Add the five hosts with clerk's password and TOTP secret; remove them afterwards."""
    password, hashed, secret = credentials()
    clerk = addhost.User(USER, 2911, hashed, {".google_authenticator": f'{secret}\n" TOTP_AUTH\n'})
    debian_sshd_pam = Path("/etc/pam.d/sshd").read_text()
    pam_d = {f"pam.d/{p.name}": p.read_text() for p in Path("/etc/pam.d").iterdir() if p.is_file()}
    names: list[str] = []
    try:
        for octet, (name, (sshd, auth)) in enumerate(HOSTS.items(), start=211):
            assert "@include common-auth\n" in debian_sshd_pam
            files = {**pam_d, "pam.d/sshd": debian_sshd_pam.replace("@include common-auth\n", auth, 1)}
            addhost.add(lab, addhost.Spec(name, "lgwan", octet, sshd=sshd, files=files, users=(clerk,)))
            names.append(name)
        folder = tmp_path_factory.mktemp("mfa")
        inventory = addhost.inventory(
            lab,
            folder / "inventory.yaml",
            {"honcho": "office"},
            [{"name": n, "role": "server", "site": "honcho", "labels": {"mfa_admin": "true"}} for n in names],
        )
        yield Hosts(lab, inventory, addhost.known_hosts(lab, names, folder / "known_hosts"), password, secret)
    finally:
        for name in names:
            addhost.remove(lab, name)


def login(hosts: Hosts, name: str, password: str, code: str = "") -> bool:
    """Try to log in as clerk with a password and, when asked for anything else, ``code``; tell whether it got in."""
    sock = socket.create_connection((hosts.lab.hosts[name].address, 22), timeout=10)
    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=10)
        key = transport.get_remote_server_key()
        assert f"{key.get_name()} {key.get_base64()}" == hosts.lab.host_key(name)

        def answer(title: str, instructions: str, prompts: list[tuple[str, bool]]) -> list[str]:
            return [password if "assword" in prompt else code for prompt, _ in prompts]

        try:
            left = transport.auth_password(USER, password, fallback=False)  # [] when in, else what is left
        except paramiko.BadAuthenticationType as refused:
            left = refused.allowed_types  # the password method is not offered at all
        except paramiko.AuthenticationException:
            return False
        if not transport.is_authenticated() and "keyboard-interactive" in left:
            try:
                transport.auth_interactive(USER, answer)
            except paramiko.AuthenticationException:
                return False
        if transport.is_authenticated() and code:
            # The strong host is usable, not merely locked: a shell command runs as clerk.
            channel = transport.open_session(timeout=10)
            channel.exec_command("id -un")
            assert channel.makefile().read().decode().strip() == USER
        return transport.is_authenticated()
    finally:
        transport.close()


@pytest.fixture
def scanning(env: Lab, hosts: Hosts, monkeypatch: pytest.MonkeyPatch) -> Hosts:
    monkeypatch.setenv("KIJUN_KNOWN_HOSTS", str(hosts.known_hosts))
    return hosts


def test_kijun_says_fail_exactly_where_a_password_alone_gets_in(scanning: Hosts, pack: Pack) -> None:
    hosts = scanning
    small = dataclasses.replace(pack, controls={"MFA-03": pack.controls["MFA-03"]})
    run, _ = scan(hosts.inventory, small, [], Options(timeout=120))
    verdict = {f.host: f.status.value for f in run.findings if f.control_id == "MFA-03"}
    with ThreadPoolExecutor(max_workers=len(HOSTS)) as pool:
        password_only = dict(
            zip(HOSTS, pool.map(lambda n: login(hosts, n, hosts.password), HOSTS), strict=True)
        )
        wrong = dict(
            zip(HOSTS, pool.map(lambda n: login(hosts, n, "not-" + hosts.password), HOSTS), strict=True)
        )
    assert password_only == {
        "mfa-strong": False,
        "mfa-optional": True,
        "mfa-sufficient": True,
        "mfa-nopam": True,
        "mfa-twice": True,
    }
    assert verdict == {name: "fail" if got_in else "pass" for name, got_in in password_only.items()}
    assert not any(wrong.values())  # the weak hosts let the password in, not anyone


def test_the_strong_host_lets_password_and_totp_code_in(hosts: Hosts) -> None:
    now = time.time()
    assert login(hosts, "mfa-strong", hosts.password, totp(hosts.secret, now))
    assert not login(hosts, "mfa-strong", "not-" + hosts.password, totp(hosts.secret, now))
