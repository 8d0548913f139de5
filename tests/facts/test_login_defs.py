"""Tests of the login_defs parser on Debian 12's /etc/login.defs and edge cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scanner.facts import Context, login_defs
from scanner.inventory import local_host
from scanner.rawfacts import RawFacts, build_raw

OUT = Path(__file__).parent / "outputs" / "login_defs"
INV = local_host()
CTX = Context(INV.hosts[0], INV)


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return the facts without their origins (tested on their own below)."""
    facts = login_defs.parse(raw, ctx)
    facts.pop("_origins", None)
    return facts


def test_debian_login_defs() -> None:
    facts = parse(build_raw(files={login_defs.LOGIN_DEFS: (OUT / "login.defs").read_text()}), CTX)
    assert facts["pass_max_days"] == 99999 and facts["pass_min_days"] == 0 and facts["pass_warn_age"] == 7
    assert facts["umask"] == "022" and facts["encrypt_method"] == "SHA512"  # octal stays a string
    assert facts["uid_min"] == 1000 and facts["ttyperm"] == "0600"
    assert "pass_min_len" not in facts  # commented out in Debian's file
    assert facts["env_path"].startswith("PATH=/usr/local/bin")


def test_last_value_wins_quotes_and_trailing_words() -> None:
    text = 'PASS_MAX_DAYS 90 # ward rule\nENCRYPT_METHOD "YESCRYPT"\nUMASK\t\t027\nPASS_MAX_DAYS\t60\nPASS_MIN_LEN -1\n'
    facts = parse(build_raw(files={login_defs.LOGIN_DEFS: text}), CTX)
    assert facts == {"pass_max_days": 60, "encrypt_method": "YESCRYPT", "umask": "027", "pass_min_len": -1}


def test_not_collected_or_absent() -> None:
    assert parse(build_raw(), CTX) == {}
    assert parse(build_raw(absent=[login_defs.LOGIN_DEFS]), CTX) == {}


def test_numbers_as_shadow_reads_them() -> None:
    text = 'PASS_MAX_DAYS 60 # rule\nPASS_MIN_DAYS 010\nPASS_WARN_AGE 0x0e\nUID_MIN "2000"\nUMASK 027\n'
    facts = parse(build_raw(files={login_defs.LOGIN_DEFS: text}), CTX)
    # strtol base 0: octal and hex; a trailing comment leaves a value shadow cannot read
    assert facts == {
        "pass_max_days": "60 # rule",
        "pass_min_days": 8,
        "pass_warn_age": 14,
        "uid_min": 2000,
        "umask": "027",
    }


def test_origins_name_the_last_line_of_each_key() -> None:
    raw = build_raw(files={login_defs.LOGIN_DEFS: "PASS_MAX_DAYS 90\n# x\nPASS_MAX_DAYS 60\n"})
    origins = login_defs.parse(raw, CTX)["_origins"]
    assert origins == {"pass_max_days": {"file": "/etc/login.defs", "line": 3}}
