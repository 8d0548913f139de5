"""Tests of the accounts parser on real passwd/group, shadow-state probe and lastlog output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scanner.facts import Context, accounts, build
from scanner.inventory import local_host
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "accounts"
INV = local_host()
CTX = Context(INV.hosts[0], INV)
# 2026-11-21T09:00:00+09:00 is 2026-11-21 00:00 UTC: day 20778 since the epoch, the day the
# recording was made (the system accounts of the fresh machine were created that day; a password
# changed after the collection is an error).
COLLECTED_AT = "2026-11-21T09:00:00+09:00"


def parse(suffix: str = "", probes: dict[str, Any] | None = None) -> dict[str, Any]:
    files = {
        accounts.PASSWD: (OUT / f"passwd{suffix}").read_text(),
        accounts.GROUP: (OUT / f"group{suffix}").read_text(),
    }
    if probes is None:
        probes = {
            "shadow-state": (OUT / f"shadow-state{suffix}.txt").read_text(),
            "lastlog": (OUT / f"lastlog{suffix}.txt").read_text(),
        }
    return accounts.parse(build_raw(collected_at=COLLECTED_AT, files=files, probes=probes), CTX)


def by_name(facts: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {u["name"]: u for u in facts["users"]}


def test_fresh_debian_machine() -> None:
    facts = parse("-debian12-fresh")
    users = by_name(facts)
    assert facts["uid0"] == ["root"] and facts["duplicate_uids"] == [] and facts["empty_passwords"] == []
    assert [u["name"] for u in facts["humans"]] == ["cloudsdk"]  # the one uid >= 1000 of this machine
    assert users["root"] == {
        "name": "root",
        "uid": 0,
        "gid": 0,
        "shell": "/bin/bash",
        "home": "/root",
        "interactive": True,
        "password": "nopassword",
        "system": False,
        "last_change_days_ago": 20778 - 20228,
        "max_days": 99999,
        "days_since_login": None,
    }
    assert users["sshd"]["interactive"] is False and users["sshd"]["system"] is True
    assert users["nobody"]["max_days"] == 99999 and users["_chrony"]["max_days"] is None
    assert facts["groups"]["root"] == ["root"]


def test_ward_users() -> None:
    facts = parse()
    users = by_name(facts)
    assert users["alice"]["password"] == "set" and users["alice"]["max_days"] == 90
    assert users["alice"]["last_change_days_ago"] == 20778 - 20300
    assert users["alice"]["days_since_login"] == 21  # Fri Oct 30 00:12:05 +0000 2026: 21 days 23 h
    assert users["bob"]["password"] == "locked" and users["bob"]["days_since_login"] == 628  # Sun Mar  2 2025
    # Sun Nov  1 00:00:01 2026: 19 days 23 h; lastchg 0 = "change now"
    assert users["dave"]["days_since_login"] == 19 and users["dave"]["last_change_days_ago"] == 20778
    assert users["carol"]["interactive"] is False and users["carol"]["days_since_login"] is None
    assert users["eve"]["password"] == "unknown" and "max_days" not in users["eve"]  # no shadow line
    assert users["svc-backup"]["system"] is True and users["svc-backup"]["password"] == "nopassword"
    assert [u["name"] for u in facts["humans"]] == ["cloudsdk", "alice", "bob", "dave", "eve"]
    assert facts["uid0"] == ["root", "toor"]
    assert facts["duplicate_uids"] == [0, 1101]
    assert facts["empty_passwords"] == ["toor"]
    assert facts["groups"]["sudo"] == ["alice", "dave"]
    assert facts["groups"]["bob"] == ["bob", "eve"]  # primary-group members join the list


def test_password_changed_after_collection_is_an_error() -> None:
    shadow = (OUT / "shadow-state.txt").read_text().replace("alice:set:20300:", "alice:set:20779:")
    with pytest.raises(ValueError, match="last password change of alice is after the collection day"):
        parse(probes={"shadow-state": shadow, "lastlog": (OUT / "lastlog.txt").read_text()})


def _lastlog_of_dave(latest: str) -> str:
    text = (OUT / "lastlog.txt").read_text()
    line = next(x for x in text.splitlines() if x.startswith("dave "))
    return text.replace(line, line[: line.index("Sun Nov")] + latest)


def test_login_after_collection_is_an_error() -> None:
    # Collected 2026-11-21 00:00 UTC; a login a day later is a wrong clock, not "-1 days ago".
    lastlog = _lastlog_of_dave("Sun Nov 22 00:00:01 +0000 2026")
    probes = {"shadow-state": (OUT / "shadow-state.txt").read_text(), "lastlog": lastlog}
    with pytest.raises(
        ValueError, match=r"last login of dave 2026-11-22T00:00:01\+00:00 is after the collection"
    ):
        parse(probes=probes)
    raw = build_raw(
        collected_at=COLLECTED_AT,
        files={accounts.PASSWD: (OUT / "passwd").read_text(), accounts.GROUP: (OUT / "group").read_text()},
        probes=probes,
    )
    built = build(raw, CTX, ["accounts"])
    assert "accounts" not in built.tree and "after the collection time" in built.errors["accounts"]


def test_login_within_the_clock_skew_is_today() -> None:
    # 10 minutes after the collection: within the 15 minutes of skew allowed, a login of today.
    lastlog = _lastlog_of_dave("Sat Nov 21 00:10:00 +0000 2026")
    probes = {"shadow-state": (OUT / "shadow-state.txt").read_text(), "lastlog": lastlog}
    assert by_name(parse(probes=probes))["dave"]["days_since_login"] == 0


def test_missing_probes_omit_what_they_would_say() -> None:
    facts = parse(probes={"shadow-state": {"stdout": "", "rc": 2, "stderr": "awk: cannot open /etc/shadow"}})
    users = by_name(facts)
    assert "empty_passwords" not in facts  # an empty list would read as "no empty passwords"
    assert users["alice"]["password"] == "unknown"
    assert "days_since_login" not in users["alice"] and "last_change_days_ago" not in users["alice"]


def test_password_field_in_passwd_itself() -> None:
    raw = build_raw(
        collected_at=COLLECTED_AT,
        files={accounts.PASSWD: "kiosk::1500:1500::/home/kiosk:/bin/sh\n"},
        probes={"shadow-state": "", "lastlog": "Username Port From Latest\n"},
    )
    facts = accounts.parse(raw, CTX)
    assert facts["empty_passwords"] == ["kiosk"] and facts["users"][0]["days_since_login"] is None
    assert "groups" not in facts  # /etc/group was not collected


@pytest.mark.parametrize(
    "files,probes",
    [
        ({accounts.PASSWD: "broken:x:notanumber:0::/:/bin/sh\n"}, {}),
        ({accounts.PASSWD: "a:x:1:1::/:/bin/sh\n"}, {"shadow-state": "a:weird:1::::::\n"}),
        (
            {accounts.PASSWD: "a:x:1:1::/:/bin/sh\n"},
            {"lastlog": "Username Port From Latest\na  pts/0  yesterday\n"},
        ),
    ],
)
def test_malformed_input_raises(files: dict[str, str], probes: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        accounts.parse(build_raw(files=files, probes=probes), CTX)


def test_not_collected() -> None:
    assert accounts.parse(build_raw(), CTX) == {}


def test_origins_name_the_second_uid0_and_the_shared_uid() -> None:
    origins = parse()["_origins"]
    lines = (OUT / "passwd").read_text().splitlines()
    assert lines[origins["uid0"]["line"] - 1].startswith("toor:") and origins["uid0"]["file"] == "/etc/passwd"
    assert lines[origins["duplicate_uids"]["line"] - 1].split(":")[2] in ("0", "1101")
