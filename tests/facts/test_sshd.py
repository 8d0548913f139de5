"""Tests of the sshd parser: recorded real `sshd -T` output, live `sshd -T -f` runs, edge cases."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from scanner.facts import Context, sshd
from scanner.inventory import local_host
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "sshd"
INV = local_host()
CTX = Context(INV.hosts[0], INV)
# The keywords docs/facts.md promises to equal `sshd -T` in the static view.
DOC_KEYWORDS = [
    "permitrootlogin",
    "passwordauthentication",
    "kbdinteractiveauthentication",
    "pubkeyauthentication",
    "permitemptypasswords",
    "usepam",
    "authenticationmethods",
    "maxauthtries",
    "clientaliveinterval",
    "clientalivecountmax",
    "logingracetime",
    "x11forwarding",
    "allowtcpforwarding",
    "loglevel",
    "syslogfacility",
    "ciphers",
    "macs",
    "kexalgorithms",
    "port",
    "listenaddress",
    "allowusers",
    "allowgroups",
    "denyusers",
    "denygroups",
]


def parse(files: dict[str, str], probe: str | None = None, rc: int = 0) -> dict[str, Any]:
    probes = {"sshd-T": {"stdout": probe, "rc": rc}} if probe is not None else None
    return sshd.parse(build_raw(files=files, probes=probes), CTX)


def static(text: str, **dropins: str) -> dict[str, Any]:
    files = {sshd.CONFIG: text} | {f"{sshd.DROPIN_DIR}/{k}": v for k, v in dropins.items()}
    return parse(files)


def same_as_sshd_T(static_facts: dict[str, Any], probe_facts: dict[str, Any], keys: list[str]) -> None:
    assert static_facts["source"] == "static" and probe_facts["source"] == "sshd -T"
    diff = {
        k: (static_facts.get(k), probe_facts.get(k))
        for k in keys
        if static_facts.get(k) != probe_facts.get(k)
    }
    assert diff == {}


def test_debian_default_config_static_equals_recorded_sshd_T() -> None:
    files = {sshd.CONFIG: (OUT / "debian12-sshd_config").read_text()}
    st = parse(files)
    pr = parse(files, (OUT / "debian12-sshd-T.txt").read_text())
    same_as_sshd_T(st, pr, [*DOC_KEYWORDS, "printmotd", "acceptenv", "subsystem", "addressfamily"])
    assert pr["permitrootlogin"] == "prohibit-password"  # sshd -T prints the legacy "without-password"
    assert pr["authenticationmethods"] == ["any"] and pr["two_factor"] is False
    assert pr["listenaddress"] == ["[::]:22", "0.0.0.0:22"] and pr["port"] == ["22"]
    assert pr["kbdinteractiveauthentication"] == "no" and pr["usepam"] == "yes"
    assert pr["idle_timeout_seconds"] == 0 and pr["match_blocks"] == []
    assert pr["acceptenv"] == ["LANG", "LC_*"] and pr["allowusers"] == []


def test_hardened_config_with_dropins_static_equals_recorded_sshd_T() -> None:
    files = {sshd.CONFIG: (OUT / "hardened-sshd_config").read_text()}
    for path in sorted((OUT / "hardened.d").iterdir()):
        files[f"{sshd.DROPIN_DIR}/{path.name}"] = path.read_text()
    st = parse(files)
    pr = parse(files, (OUT / "hardened-sshd-T.txt").read_text())
    same_as_sshd_T(st, pr, [*DOC_KEYWORDS, "banner", "subsystem"])
    # The drop-in is included before the main file's own lines, so its value wins.
    assert st["permitrootlogin"] == "yes" and st["maxauthtries"] == "4"
    assert st["listenaddress"] == ["192.0.2.10:2222"] and st["allowgroups"] == ["sshusers", "admins"]
    assert st["idle_timeout_seconds"] == 600 and st["two_factor"] is True
    assert "diffie-hellman-group14-sha256" not in st["kexalgorithms"].split(",")
    assert [b["criteria"] for b in st["match_blocks"]] == [
        "User deploy",
        "Group sftponly",
        "Address 10.20.0.0/16 User backup",
    ]
    assert st["match_blocks"][2]["settings"] == {
        "passwordauthentication": "yes",
        "authenticationmethods": ["password"],
    }
    assert pr["match_blocks"] == st["match_blocks"]


# (config, drop-ins) pairs checked against the real sshd; "{D}" is the drop-in folder.
LIVE_CASES: list[tuple[str, dict[str, str]]] = [
    ("", {}),
    ("AllowUsers a b\nAllowUsers c\nDenyGroups x\nDenyUsers y z\nAcceptEnv A\nAcceptEnv B C\n", {}),
    ("Port 2222\nPort 22\nListenAddress 10.0.0.1\nListenAddress 10.0.0.2:23\nListenAddress ::1\n", {}),
    ("AddressFamily inet6\nPort 22\nPort 2222\n", {}),
    ("AddressFamily inet6\nListenAddress [::1]:2200\nListenAddress 0:0:0::1\n", {}),
    ("AuthenticationMethods publickey,password publickey,keyboard-interactive:pam\n", {}),
    (
        "permitrootlogin=prohibit-password\nPermitRootLogin yes\nLogLevel debug1\nSyslogFacility local3\n"
        "LoginGraceTime 1h30m\nClientAliveInterval 5m\nClientAliveCountMax 0\nAllowTcpForwarding all\nX11Forwarding Yes\n",
        {},
    ),
    (
        "PermitRootLogin without-password\nChallengeResponseAuthentication no\nDSAAuthentication no\nMaxAuthTries 03\n",
        {},
    ),
    ("Ciphers +3des-cbc\nMACs -hmac-sha1*,umac-64*\nKexAlgorithms ^diffie-hellman-group14-sha1\n", {}),
    ("Ciphers aes256-gcm@openssh.com,aes128-ctr,aes256-gcm@openssh.com\nMACs +hmac-sha2-512,hmac-md5\n", {}),
    ('PermitRootLogin "no" # trailing comment\nBanner "/etc/is sue"\nAllowUsers "a b" c\\ d\n', {}),
    ("PermitRootLogin no\nMatch all\nPermitRootLogin yes\nAllowUsers m\n", {}),
    (
        "AllowUsers g\nMatch User bob\nPermitRootLogin yes\nAllowUsers m\nMatch all\nPasswordAuthentication no\n",
        {},
    ),
    (
        "PasswordAuthentication yes\nInclude {D}/b.conf\nPermitRootLogin no\n",
        {"b.conf": "Match all\nPermitRootLogin yes\nPasswordAuthentication no\n"},
    ),
    (
        "Match User x\nInclude {D}/b.conf\nMatch all\nMaxAuthTries 2\n",
        {"b.conf": "PermitRootLogin no\nMatch all\nPermitRootLogin yes\nPasswordAuthentication no\n"},
    ),
    (
        "Include {D}/*.conf\nPermitRootLogin yes\nPasswordAuthentication no\n",
        {
            "a.conf": "PermitRootLogin no\nMatch User x\nPasswordAuthentication no\n",
            "z.conf": "X11Forwarding yes\n",
            ".hidden.conf": "MaxAuthTries 2\n",
            "b.txt": "MaxAuthTries 3\n",
        },
    ),
    (
        "Include {D}/10.conf {D}/05.conf\n",
        {
            "10.conf": "Include {D}/inner.conf\nKbdInteractiveAuthentication no\n",
            "05.conf": "KbdInteractiveAuthentication yes\n",
            "inner.conf": "Match Address 10.0.0.0/8\n PermitRootLogin yes\nMatch all\nUsePAM yes\nAuthenticationMethods any\n",
        },
    ),
    ("Include {D}/nothing*.conf\nMaxAuthTries 4\n", {}),
]


@pytest.fixture(scope="module")
def sshd_bin(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    binary = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
    if binary is None:
        pytest.skip("sshd is not installed")
    if not os.path.isdir("/run/sshd"):  # sshd -T insists on its privilege separation directory
        try:
            os.makedirs("/run/sshd", mode=0o755)
        except PermissionError:
            pytest.skip("cannot create /run/sshd (not root)")
    key = tmp_path_factory.mktemp("hostkey") / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return binary, key


@pytest.mark.parametrize("config,dropins", LIVE_CASES)
def test_static_parse_equals_real_sshd_T(
    sshd_bin: tuple[str, Path], tmp_path: Path, config: str, dropins: dict[str, str]
) -> None:
    binary, key = sshd_bin
    folder = tmp_path / "d"
    folder.mkdir()
    for name, text in dropins.items():
        (folder / name).write_text(text.replace("{D}", str(folder)))
    (tmp_path / "sshd_config").write_text(config.replace("{D}", str(folder)))
    run = subprocess.run(
        [binary, "-T", "-f", str(tmp_path / "sshd_config"), "-h", str(key)],
        capture_output=True,
        text=True,
        env={"LC_ALL": "C", "PATH": os.environ.get("PATH", "")},
        check=False,
    )
    assert run.returncode == 0, run.stderr
    files = {sshd.CONFIG: config.replace("{D}", sshd.DROPIN_DIR)}
    files |= {f"{sshd.DROPIN_DIR}/{k}": v.replace("{D}", sshd.DROPIN_DIR) for k, v in dropins.items()}
    st, pr = parse(files), parse(files, run.stdout)
    set_keys = [
        k for k in st if k not in ("source", "match_blocks", "installed", "for_root", "for_any", "_origins")
    ]
    same_as_sshd_T(st, pr, sorted({*DOC_KEYWORDS, *set_keys}))


@pytest.mark.parametrize(
    "config",
    [
        "PermitRootLogin no#yes\n",  # sshd: unsupported option
        'PermitRootLogin "no"  ""\n',  # extra argument
        'PermitRootLogin "no\n',  # invalid quotes
        "PermitRootLogin\n",  # no argument
        "Ciphers aes*-ctr\n",  # wildcards are not allowed in explicit lists
        "LoginGraceTime 2x\n",
        "Match all User x\n",
        "AddressFamily inet\nListenAddress ::1\n",
    ],
)
def test_configs_sshd_rejects_raise(config: str) -> None:
    with pytest.raises(ValueError):
        static(config)


def test_match_blocks_are_recorded_not_applied() -> None:
    facts = static("Match User alice,bob Address 10.0.0.0/8\n  PermitRootLogin yes\n  AllowUsers alice\n")
    assert facts["permitrootlogin"] == "prohibit-password" and facts["allowusers"] == []
    assert facts["match_blocks"] == [
        {
            "criteria": "User alice,bob Address 10.0.0.0/8",
            "file": sshd.CONFIG,
            "line": 1,
            "settings": {"permitrootlogin": "yes", "allowusers": ["alice"]},
        }
    ]
    # alice and bob are named exceptions: the block counts neither for root nor for any other user
    assert facts["for_root"]["permitrootlogin"] == ["prohibit-password"]
    assert facts["for_any"]["match_blocks"] == []


def test_match_all_applies_to_the_default_connection() -> None:
    facts = static(
        "PermitRootLogin no\nMatch User x\n PasswordAuthentication no\nMatch all\nPermitRootLogin yes\n"
    )
    assert facts["permitrootlogin"] == "yes" and facts["passwordauthentication"] == "yes"


def test_relative_include_is_resolved_under_etc_ssh() -> None:
    facts = static(
        "Match User x\nInclude sshd_config.d/extra.conf\n", **{"extra.conf": "PermitRootLogin yes\n"}
    )
    assert facts["permitrootlogin"] == "prohibit-password"
    assert facts["match_blocks"] == [
        {"criteria": "User x", "file": sshd.CONFIG, "line": 1, "settings": {"permitrootlogin": "yes"}}
    ]


def test_include_outside_collected_files_raises() -> None:
    with pytest.raises(ValueError, match="outside the collected files"):
        static("Include /etc/ssh/custom/*.conf\n")


def followed(files: dict[str, str], absent: tuple[str, ...] = ()) -> dict[str, Any]:
    """Parse files as a collector that follows Include collected them."""
    raw = build_raw(files=files, absent=list(absent))
    raw.collector["follow"] = "sshd"
    return sshd.parse(raw, CTX)


def test_include_anywhere_when_the_collector_follows_it() -> None:
    facts = followed(
        {
            sshd.CONFIG: "Include /etc/ssh/extra/*.conf nothing/*.conf /etc/ssh/missing.conf\nPermitRootLogin yes\n",
            "/etc/ssh/extra/10-a.conf": "Include nested.conf\n",  # relative to /etc/ssh, not to the file
            "/etc/ssh/nested.conf": "PermitRootLogin no\n",
            "/etc/ssh/extra/.hidden.conf": "PasswordAuthentication no\n",
            "/etc/ssh/extra/sub/20-b.conf": "PasswordAuthentication no\n",
        },
        absent=("/etc/ssh/missing.conf",),
    )
    # the nested file's line wins under first-match; a hidden file and a deeper folder are not matched
    assert facts["permitrootlogin"] == "no" and facts["passwordauthentication"] == "yes"
    assert facts["_origins"]["permitrootlogin"] == {"file": "/etc/ssh/nested.conf", "line": 1}
    with pytest.raises(ValueError, match="not collected"):
        followed({sshd.CONFIG: "Include /etc/ssh/unreadable.conf\n"})
    with pytest.raises(ValueError, match="too many recursive Include"):
        followed({sshd.CONFIG: "Include /etc/ssh/loop.conf\n", "/etc/ssh/loop.conf": "Include loop.conf\n"})


@pytest.mark.parametrize(
    "block,root,anyone",
    [
        ("Match Address 10.0.0.0/8", ["no", "yes"], ["no", "yes"]),  # issue 9: any address can come
        ("Match User root", ["no", "yes"], ["no"]),
        ("Match User alice", ["no"], ["no"]),  # a named exception
        ("Match User *,!root", ["no"], ["no", "yes"]),
        ("Match User !root", ["no"], ["no"]),  # only negations: matches nobody
        ("Match Group wheel", ["no", "yes"], ["no", "yes"]),  # membership unknown
        ("Match LocalPort 2222", ["no"], ["no"]),  # sshd does not listen there
        ("Match Address !10.0.0.0/8", ["no"], ["no"]),
        ("Match User root Address 192.0.2.1", ["no", "yes"], ["no"]),
    ],
)
def test_match_blocks_for_root_and_any_user(block: str, root: list[str], anyone: list[str]) -> None:
    facts = static(f"PermitRootLogin no\n{block}\n  PermitRootLogin yes\n")
    assert facts["permitrootlogin"] == "no"
    assert facts["for_root"]["permitrootlogin"] == root
    assert facts["for_any"]["permitrootlogin"] == anyone
    if len(root) > 1:  # the line to change is the Match block's
        assert facts["_origins"]["for_root.permitrootlogin"] == {"file": sshd.CONFIG, "line": 3}


def test_match_that_lets_one_method_in_breaks_two_factor() -> None:
    facts = static(
        "AuthenticationMethods publickey,keyboard-interactive\nMatch Address 192.0.2.0/24\n"
        "  AuthenticationMethods publickey\n"
    )
    assert facts["two_factor"] is True and facts["for_any"]["two_factor"] == [False, True]


def test_not_collected_absent_and_failed_probe() -> None:
    assert sshd.parse(build_raw(), CTX) == {}
    assert sshd.parse(build_raw(absent=[sshd.CONFIG]), CTX) == {"installed": False, "source": "static"}
    failed = parse({sshd.CONFIG: "PermitRootLogin no\n"}, "", rc=255)
    assert failed["source"] == "static" and failed["permitrootlogin"] == "no"


def test_probe_used_even_when_files_were_not_collected() -> None:
    facts = sshd.parse(
        build_raw(
            probes={
                "sshd-T": "permitrootlogin no\nclientaliveinterval 300\n"
                "clientalivecountmax 0\nauthenticationmethods any\n"
            }
        ),
        CTX,
    )
    assert facts["permitrootlogin"] == "no" and "match_blocks" not in facts
    assert facts["idle_timeout_seconds"] == 0  # ClientAliveCountMax 0 never disconnects


@pytest.mark.parametrize(
    "methods,expected",
    [
        ("publickey,keyboard-interactive", True),
        ("password,keyboard-interactive:pam", False),  # a password, then PAM asking the password again
        ("publickey,password keyboard-interactive,hostbased", True),
        ("publickey,password publickey,keyboard-interactive", True),
        ("publickey,password publickey", False),
        ("publickey,publickey", False),
        ("any", False),
    ],
)
def test_two_factor(methods: str, expected: bool) -> None:
    assert static(f"AuthenticationMethods {methods}\n")["two_factor"] is expected


def test_probe_wins_over_files_and_unreadable_match_blocks_are_omitted() -> None:
    probe = (
        (OUT / "debian12-sshd-T.txt")
        .read_text()
        .replace("permitrootlogin without-password", "permitrootlogin no")
    )
    facts = parse({sshd.CONFIG: "PermitRootLogin yes\nMatch User x\n X11Forwarding yes\n"}, probe)
    assert facts["source"] == "sshd -T" and facts["permitrootlogin"] == "no"
    assert facts["match_blocks"] == [
        {"criteria": "User x", "file": sshd.CONFIG, "line": 2, "settings": {"x11forwarding": "yes"}}
    ]
    unreadable = parse({sshd.CONFIG: "Include /etc/ssh/elsewhere.conf\n"}, probe)
    assert unreadable["permitrootlogin"] == "no" and "match_blocks" not in unreadable
