"""Tests of the pwquality parser against what libpwquality itself read, and PAM argument overrides."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scanner.facts import Context, pwquality
from scanner.inventory import local_host
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "pwquality"
INV = local_host()
CTX = Context(INV.hosts[0], INV)
DEBIAN_PASSWORD = (OUT / "common-password-debian12").read_text()
NO_PAM_ARGS = "password requisite pam_pwquality.so\n"
OTHER_PAM = ["/etc/pam.d/system-auth", "/etc/pam.d/password-auth"]


def case_files(case: str) -> dict[str, str]:
    folder = OUT / case
    files = {pwquality.CONF: (folder / "pwquality.conf").read_text()}
    if (folder / "pwquality.conf.d").is_dir():
        for path in (folder / "pwquality.conf.d").iterdir():
            files[f"{pwquality.CONF_DIR}/{path.name}"] = path.read_text()
    return files


def parse(files: dict[str, str], absent: list[str] | None = None) -> dict[str, Any]:
    return pwquality.parse(build_raw(files=files, absent=OTHER_PAM if absent is None else absent), CTX)


@pytest.mark.parametrize("case", ["debian12", "layered", "clamped"])
def test_conf_files_read_as_libpwquality_does(case: str) -> None:
    recorded = json.loads((OUT / "libpwquality-read_config.json").read_text())[case]
    facts = parse(case_files(case) | {"/etc/pam.d/common-password": NO_PAM_ARGS})
    assert facts["enabled"] is True
    assert {
        k: facts[k] for k in ("minlen", "minclass", "dcredit", "ucredit", "lcredit", "ocredit", "retry")
    } == {k: recorded[k] for k in ("minlen", "minclass", "dcredit", "ucredit", "lcredit", "ocredit", "retry")}


def test_debian_default_with_pam_retry() -> None:
    facts = parse(case_files("debian12") | {"/etc/pam.d/common-password": DEBIAN_PASSWORD})
    assert facts == {
        "enabled": True,
        "minlen": 8,
        "minclass": 0,
        "dcredit": 0,
        "ucredit": 0,
        "lcredit": 0,
        "ocredit": 0,
        "retry": 3,
        "min_classes": 0,
    }


def test_pam_arguments_override_conf_and_min_classes() -> None:
    line = "password requisite pam_pwquality.so retry=0 minlen=10 ocredit=-2 use_authtok enforce_for_root\n"
    facts = parse(case_files("layered") | {"/etc/pam.d/common-password": line})
    assert facts["minlen"] == 10 and facts["ocredit"] == -2 and facts["retry"] == 1  # retry < 1 means 1
    # minclass 3 from the conf; four negative credits (d, u, l, o) require all four classes
    assert facts["minclass"] == 3 and facts["min_classes"] == 4


def test_weakest_file_wins_and_enforcing_zero_is_not_enabled() -> None:
    files = case_files("debian12") | {
        "/etc/pam.d/system-auth": "password requisite pam_pwquality.so minlen=14 minclass=4\n",
        "/etc/pam.d/password-auth": "password requisite pam_pwquality.so minlen=9 minclass=2\n",
    }
    facts = parse(files, absent=["/etc/pam.d/common-password"])
    assert facts["enabled"] is True and facts["minlen"] == 9 and facts["min_classes"] == 2
    warn_only = parse(
        case_files("debian12")
        | {"/etc/pam.d/common-password": "password requisite pam_pwquality.so enforcing=0\n"}
    )
    assert warn_only["enabled"] is False


def test_not_in_stack_and_not_collected() -> None:
    facts = parse(case_files("debian12") | {"/etc/pam.d/common-password": "password required pam_unix.so\n"})
    assert facts["enabled"] is False and facts["minlen"] == 8
    assert pwquality.parse(build_raw(files=case_files("debian12")), CTX) == {}
    with pytest.raises(ValueError, match="not an integer"):
        parse({pwquality.CONF: "minlen = eight\n", "/etc/pam.d/common-password": NO_PAM_ARGS})
