"""Tests of the faillock parser: faillock.conf, then pam_faillock arguments, as the module reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scanner.facts import Context, faillock
from scanner.inventory import local_host
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "faillock"
INV = local_host()
CTX = Context(INV.hosts[0], INV)
DEBIAN_CONF = (OUT / "faillock.conf-debian12").read_text()
HARDENED_CONF = (OUT / "faillock.conf-hardened").read_text()
WITH_FAILLOCK = (OUT / "common-auth-faillock").read_text()
OTHERS = ["/etc/pam.d/system-auth", "/etc/pam.d/password-auth"]


def parse(conf: str, common_auth: str, **extra: str) -> dict[str, Any]:
    files = {faillock.CONF: conf, "/etc/pam.d/common-auth": common_auth} | extra
    return faillock.parse(build_raw(files=files, absent=[p for p in OTHERS if p not in extra]), CTX)


def test_debian_default_is_not_enabled() -> None:
    facts = parse(DEBIAN_CONF, (OUT / "common-auth-debian12").read_text())
    assert facts == {"enabled": False, "deny": 3, "unlock_time": 600, "even_deny_root": False}


def test_pam_argument_overrides_conf() -> None:
    facts = parse(HARDENED_CONF, WITH_FAILLOCK)
    # preauth runs with deny=4 from the conf, authfail with deny=5: the weaker one counts
    assert facts == {"enabled": True, "deny": 5, "unlock_time": 900, "even_deny_root": True}
    assert parse(DEBIAN_CONF, WITH_FAILLOCK) == {
        "enabled": True,
        "deny": 5,
        "unlock_time": 600,
        "even_deny_root": False,
    }


@pytest.mark.parametrize(
    "args,expected",
    [
        ("unlock_time=never", {"unlock_time": 0}),
        ("root_unlock_time=60", {"even_deny_root": True}),
        ("deny=0", {"enabled": False, "deny": 0}),  # deny=0 never locks
    ],
)
def test_argument_forms(args: str, expected: dict[str, Any]) -> None:
    auth = WITH_FAILLOCK.replace("preauth", f"preauth {args}").replace("authfail deny=5", f"authfail {args}")
    facts = parse(DEBIAN_CONF, auth)
    assert {k: facts[k] for k in expected} == expected


def test_conf_argument_and_system_auth() -> None:
    auth = "auth required pam_faillock.so preauth conf=/etc/security/faillock.conf\n" + WITH_FAILLOCK
    assert parse(HARDENED_CONF, auth)["deny"] == 5
    with pytest.raises(ValueError, match="not collected"):
        parse(DEBIAN_CONF, WITH_FAILLOCK.replace("preauth", "preauth conf=/etc/other.conf"))
    rhel = parse(DEBIAN_CONF, "auth required pam_unix.so\n", **{"/etc/pam.d/system-auth": WITH_FAILLOCK})
    assert rhel["enabled"] is True


def test_bad_number_raises_and_not_collected_is_empty() -> None:
    with pytest.raises(ValueError, match="bad number"):
        parse("deny = three\n", WITH_FAILLOCK)
    assert faillock.parse(build_raw(files={faillock.CONF: DEBIAN_CONF}), CTX) == {}


@pytest.mark.parametrize(
    "auth,enabled",
    [
        (WITH_FAILLOCK, True),
        # issue 10: a second password line before pam_faillock lets a locked user in and counts nothing
        ("auth sufficient pam_unix.so\n" + WITH_FAILLOCK, False),
        # the failure path jumps over authfail: wrong passwords are never counted
        (WITH_FAILLOCK.replace("success=2 default=ignore", "success=2 default=1"), False),
        # preauth optional: a locked user's preauth failure is ignored
        (
            WITH_FAILLOCK.replace(
                "required\t\t\tpam_faillock.so preauth", "optional pam_faillock.so preauth"
            ),
            False,
        ),
        # issue 9: pam_permit sufficient first, nothing else matters
        ("auth sufficient pam_permit.so\n" + WITH_FAILLOCK, False),
    ],
)
def test_faillock_must_lock_and_count_on_every_path(auth: str, enabled: bool) -> None:
    assert parse(DEBIAN_CONF, auth)["enabled"] is enabled
