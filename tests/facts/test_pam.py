"""Tests of the pam parser on Debian 12's /etc/pam.d and hand-written second-factor variations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scanner.facts import Context, pam
from scanner.inventory import local_host
from scanner.rawfacts import build_raw

DEBIAN = Path(__file__).parent / "outputs" / "pam" / "debian12"
INV = local_host()
CTX = Context(INV.hosts[0], INV)


def debian_files(**overrides: str) -> dict[str, str]:
    files = {f"/etc/pam.d/{p.name}": p.read_text() for p in DEBIAN.iterdir()}
    files |= {f"/etc/pam.d/{name.replace('_', '-')}": text for name, text in overrides.items()}
    return files


def parse(**overrides: str) -> dict[str, Any]:
    return pam.parse(build_raw(files=debian_files(**overrides)), CTX)


def test_debian_stacks_are_expanded() -> None:
    facts = parse()
    assert set(facts) - {"_origins"} == {p.name for p in DEBIAN.iterdir()}
    sshd = facts["sshd"]
    auth = [(r["control"], r["module"], r["args"]) for r in sshd["stack"] if r["type"] == "auth"]
    assert auth == [
        ("[success=1 default=ignore]", "pam_unix", ["nullok"]),
        ("requisite", "pam_deny", []),
        ("required", "pam_permit", []),
        ("optional", "pam_cap", []),
    ]
    # @include keeps every type, in file order; the trailing comment "# [1]" is dropped.
    assert [r["type"] for r in sshd["stack"]][:5] == ["auth"] * 4 + ["account"]
    assert {
        "type": "session",
        "control": "optional",
        "module": "pam_mail",
        "args": ["standard", "noenv"],
    } in sshd["stack"]
    assert sshd["pwquality"] is True and sshd["pwquality_args"] == {"retry": 3}
    assert sshd["second_factor"] is False and sshd["second_factor_modules"] == []
    assert sshd["faillock"] is False and sshd["faillock_args"] == {}
    # sudo's file has no password stack: libpam runs other's, which includes common-password
    assert facts["sudo"]["pwquality"] is True
    assert next(r for r in facts["common-session"]["stack"] if r["type"] == "session") == {
        "type": "session",
        "control": "[default=1]",
        "module": "pam_permit",
        "args": [],
    }


GA = "auth required pam_google_authenticator.so\n"
SSHD = (DEBIAN / "sshd").read_text()


@pytest.mark.parametrize(
    "sshd,expected",
    [
        (SSHD + GA, True),  # after common-auth: its jump lands on pam_permit, before the token
        (GA + SSHD, True),
        (SSHD + "auth requisite pam_google_authenticator.so secret=/etc/mfa/${USER}\n", True),
        (
            SSHD
            + "auth [success=ok new_authtok_reqd=ok ignore=ignore default=bad] pam_google_authenticator.so\n",
            True,
        ),
        (SSHD + "auth [success=ok default=die] pam_u2f.so cue\n", True),
        (SSHD + "auth required pam_sss.so require_cert_auth\n", True),
        (SSHD + "auth required pam_google_authenticator.so nullok\n", False),  # users without a token pass
        (SSHD + "auth optional pam_google_authenticator.so\n", False),
        (SSHD + "auth [success=ok default=ignore] pam_google_authenticator.so\n", False),
        # without nullok, a user with no secret gets auth_err (die), never ignore: still two factors
        (SSHD + "auth [success=ok ignore=ok default=die] pam_google_authenticator.so\n", True),
        # nullok: a user without a secret gets ignore, and "ok" on ignore sets the status to PAM_IGNORE,
        # which is not PAM_SUCCESS: nobody without a secret gets in this way either
        (SSHD + "auth [success=ok ignore=ok default=die] pam_google_authenticator.so nullok\n", True),
        (SSHD + "auth [success=ok ignore=ignore default=die] pam_google_authenticator.so nullok\n", False),
        (SSHD + "auth sufficient pam_unix.so\n" + GA, False),
        (SSHD + "auth [success=done default=ignore] pam_succeed_if.so user ingroup nomfa\n" + GA, False),
        (  # jumps over the token line to the end, where nothing said ok: nobody gets in at all
            "auth [success=2 default=ignore] pam_unix.so\nauth requisite pam_deny.so\n" + GA,
            True,
        ),
        (  # jumps over the token line onto pam_permit: the password alone gets in
            "auth [success=2 default=ignore] pam_unix.so\nauth requisite pam_deny.so\n"
            + GA
            + "auth required pam_permit.so\n",
            False,
        ),
        ("auth sufficient pam_permit.so\n" + GA, False),  # issue 9: pam_permit where a factor should be
        ("auth required pam_permit.so\n" + GA, False),  # no password at all: a code alone gets in
        ("auth [success=1 default=ignore] pam_unix.so\nauth requisite pam_deny.so\n" + GA, True),
        (SSHD + "auth required pam_sss.so\n", False),  # pam_sss without smart card is a password
    ],
)
def test_second_factor(sshd: str, expected: bool) -> None:
    assert parse(sshd=sshd)["sshd"]["second_factor"] is expected


def test_second_factor_modules_listed_whatever_the_control() -> None:
    facts = parse(
        sshd=SSHD
        + "auth optional pam_google_authenticator.so nullok\nauth sufficient /lib/security/pam_yubico.so\n"
    )
    assert facts["sshd"]["second_factor_modules"] == ["pam_google_authenticator", "pam_yubico"]
    assert facts["sshd"]["second_factor"] is False


def test_substack_done_only_ends_the_substack() -> None:
    mfa_bypass = "auth sufficient pam_rootok.so\n" + GA
    facts = parse(
        sshd="auth substack common-auth\n" + GA + "account include common-account\n",
        mfa_inner="auth substack mfa-bypass\n",
        mfa_bypass=mfa_bypass,
        login="auth substack mfa-bypass\n",
        su="auth include mfa-bypass\n",
    )
    # common-auth's [success=1] and a sufficient inside a substack cannot skip the parent's token line
    assert facts["sshd"]["second_factor"] is True
    assert [r["module"] for r in facts["sshd"]["stack"] if r["type"] == "auth"] == [
        "pam_unix",
        "pam_deny",
        "pam_permit",
        "pam_cap",
        "pam_google_authenticator",
    ]
    # ...but inside the substack (or an include, which is inlined) the sufficient line does skip it
    assert facts["login"]["second_factor"] is False
    assert facts["mfa-inner"]["second_factor"] is False
    assert facts["su"]["second_factor"] is False


def test_include_takes_only_its_type_and_continuations_join() -> None:
    facts = parse(
        sshd="password include common-password\n-session optional pam_systemd.so \\\n  debug # trailing\n"
    )
    # no auth or account lines: libpam runs those of /etc/pam.d/other
    stack = [r for r in facts["sshd"]["stack"] if r["type"] in ("password", "session")]
    assert [r["type"] for r in stack] == ["password"] * 4 + ["session"]
    assert stack[-1] == {"type": "session", "control": "optional", "module": "pam_systemd", "args": ["debug"]}


def test_faillock_needs_preauth_and_authfail() -> None:
    auth = (Path(__file__).parent / "outputs" / "faillock" / "common-auth-faillock").read_text()
    facts = parse(common_auth=auth)
    assert facts["sshd"]["faillock"] is True and facts["login"]["faillock"] is True
    assert facts["sshd"]["faillock_args"] == {"deny": 5}
    only_preauth = parse(
        common_auth="auth required pam_faillock.so preauth deny=3\n" + (DEBIAN / "common-auth").read_text()
    )
    assert only_preauth["sshd"]["faillock"] is False


def test_pwquality_args_typed() -> None:
    facts = parse(
        common_password="password requisite pam_pwquality.so retry=3 minlen=12 dcredit=-1 enforce_for_root\n"
    )
    assert facts["passwd"]["pwquality_args"] == {
        "retry": 3,
        "minlen": 12,
        "dcredit": -1,
        "enforce_for_root": True,
    }
    cracklib = parse(common_password="password required pam_cracklib.so minlen=9\n")
    assert cracklib["passwd"]["pwquality"] is True


@pytest.mark.parametrize(
    "text",
    [
        "auth required\n",  # no module: libpam installs a line that always fails
        "auth maybe pam_permit.so\n",  # an unknown control is an action list that fails to parse: all bad
        "auth [success=ok bogus] pam_permit.so\n",
        "authx required pam_unix.so\n",  # an illegal type installs as a failing auth line
        "@include sshd\n",  # too deep: libpam stops and fails
        "auth requisite # pam_permit.so\nauth sufficient pam_permit.so\n",
    ],
)
def test_malformed_lines_fail_as_libpam_installs_them(text: str) -> None:
    sshd = parse(sshd=text + "auth optional pam_permit.so\n", common_auth="")["sshd"]
    assert sshd["second_factor"] is True  # nothing at all gets in
    assert (
        "" in [r["module"] for r in sshd["stack"] if r["type"] == "auth"]
        or "maybe" in text
        or "bogus" in text
    )


def test_stack_absent_or_not_collected() -> None:
    with pytest.raises(ValueError, match="was not collected"):
        pam.parse(build_raw(files={"/etc/pam.d/sshd": "@include common-auth\n"}), CTX)
    absent = pam.parse(
        build_raw(files={"/etc/pam.d/sshd": "@include common-auth\n"}, absent=["/etc/pam.d/common-auth"]),
        CTX,
    )
    assert absent["sshd"]["stack"][0]["module"] == "" and absent["sshd"]["second_factor"] is True
    assert pam.parse(build_raw(), CTX) == {}


def test_observed_path_and_origin_name_the_line_that_lets_one_factor_in() -> None:
    bypass = (
        "auth [success=1 default=ignore] pam_unix.so nullok\n"
        + GA
        + "auth [default=die success=ok] pam_google_authenticator.so\n"
    )
    facts = parse(sshd=bypass)
    assert facts["sshd"]["second_factor"] is False
    assert facts["sshd"]["second_factor_path"].startswith("a code alone succeeds: pam_unix ignored at line 1")
    assert facts["_origins"]["sshd.second_factor"] == {"file": "/etc/pam.d/sshd", "line": 3}
