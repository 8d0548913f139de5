"""Tests of the sudoers parser on Debian 12's sudoers and a ward tree checked against the real `sudo -l`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from scanner.facts import Context, sudoers
from scanner.inventory import local_host
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "sudoers"
INV = local_host()
CTX = Context(INV.hosts[0], INV)


def tree(name: str, **extra: str) -> dict[str, str]:
    folder = OUT / name
    files = {sudoers.SUDOERS: (folder / "sudoers").read_text()}
    for path in (folder / "sudoers.d").iterdir():
        files[f"{sudoers.SUDOERS_DIR}/{path.name}"] = path.read_text()
    return files | {f"{sudoers.SUDOERS_DIR}/{k}": v for k, v in extra.items()}


def parse(files: dict[str, str]) -> dict[str, Any]:
    return sudoers.parse(build_raw(files=files), CTX)


def test_debian_default() -> None:
    facts = parse(tree("debian12"))
    assert facts["rules"] == [
        {
            "who": "root",
            "hosts": "ALL",
            "runas": "ALL:ALL",
            "nopasswd": False,
            "commands": ["ALL"],
            "file": "/etc/sudoers",
            "line": 47,
        },
        {
            "who": "%sudo",
            "hosts": "ALL",
            "runas": "ALL:ALL",
            "nopasswd": False,
            "commands": ["ALL"],
            "file": "/etc/sudoers",
            "line": 50,
        },
    ]
    assert facts["all_principals"] == ["root", "%sudo"] and facts["nopasswd_all"] == []
    assert facts["includes"] == [
        {"directive": "@includedir", "path": "/etc/sudoers.d", "file": "/etc/sudoers"}
    ]
    assert facts["defaults"][0] == "Defaults\tenv_reset" and len(facts["defaults"]) == 4


def sudo_l(text: str) -> dict[str, str]:
    """Return each user's `sudo -l` listing."""
    return {
        m.group(1): m.group(2)
        for m in re.finditer(r"== sudo -l (?:-h \S+ )?-U (\S+)\n(.*?)(?=\n== |\Z)", text, re.S)
    }


def test_ward_tree_agrees_with_real_sudo() -> None:
    facts = parse(tree("ward"))
    # members of the groups named in rules, from the accounts fixture the real sudo ran with
    groups = {
        line.split(":")[0]: line.split(":")[3].split(",")
        for line in (Path(__file__).parent / "outputs" / "accounts" / "group").read_text().splitlines()
    }

    def covered(user: str, principals: list[str]) -> bool:
        return user in principals or any(
            p.startswith("%") and user in groups.get(p[1:], []) for p in principals
        )

    listings = sudo_l((OUT / "ward" / "sudo-l-db01.txt").read_text()) | {
        u: t
        for u, t in sudo_l((OUT / "ward" / "sudo-l.txt").read_text()).items()
        if u not in ("alice", "bob", "carol")
    }
    for user, listing in listings.items():
        assert covered(user, facts["nopasswd_all"]) == ("NOPASSWD: ALL" in listing), user
        assert covered(user, facts["all_principals"]) == bool(
            re.search(r"\) (NOPASSWD: )?ALL$", listing, re.M)
        ), user
    assert facts["nopasswd_all"] == ["alice", "%wheel", "bob"]  # host-restricted, still listed
    assert "eve" not in facts["all_principals"]  # legacy.disabled has a '.' in its name: sudo skips it


def test_ward_rules_detail() -> None:
    rules = parse(tree("ward"))["rules"]
    carol = [r for r in rules if r["who"] == "DBA"]
    assert [(r["hosts"], r["runas"], r["nopasswd"], r["commands"]) for r in carol] == [
        ("ALL", "postgres:postgres", True, ["/usr/bin/psql"]),
        ("ALL", "postgres:postgres", False, ["/usr/bin/pg_ctl restart"]),  # continuation joined
        ("db01", "ALL:ALL", False, ["ALL"]),
    ]
    dave = next(r for r in rules if r["who"] == "dave")
    assert dave["nopasswd"] is True and dave["commands"] == ["/usr/bin/ls -l /tmp\\:x", "/bin/cat"]
    uid = next(r for r in rules if r["who"] == "#1005")  # "#1005" is a uid, not a comment
    assert uid["commands"] == ["SHUTDOWN"] and uid["file"] == "/etc/sudoers.d/50-ops"


@pytest.mark.parametrize(
    "line,principals",
    [
        ("%admins ALL=(ALL) NOPASSWD: ALL", ["%admins"]),
        ("alice, %ops ALL = (ALL) NOPASSWD: ALL", ["alice", "%ops"]),  # found by tests/reference
        ("ALL ALL = NOPASSWD: ALL", ["ALL"]),
        ("ops ALL=(ALL) NOPASSWD: /bin/ls, PASSWD: ALL", []),
        ("ops ALL=(ALL) PASSWD: /bin/ls, NOPASSWD: ALL", ["ops"]),
        ("ops ALL=(ALL) NOPASSWD: ALL, !/bin/su", ["ops"]),  # a negation does not narrow ALL
        ("ops ALL=(ALL) NOPASSWD: !ALL", []),
        ("User_Alias X = a, b, !c\nCmnd_Alias Y = ALL\nX ALL = NOPASSWD: Y", ["a", "b"]),
        ("ops ALL = /bin/ls : ALL = (root) NOPASSWD: ALL", ["ops"]),
    ],
)
def test_nopasswd_all(line: str, principals: list[str]) -> None:
    assert parse({sudoers.SUDOERS: line + "\n"})["nopasswd_all"] == principals


@pytest.mark.parametrize(
    "line,why",
    [
        ("ops ALL=(root) NOPASSWD: /bin/sh", "a shell (/bin/sh)"),
        ("ops ALL=(root) NOPASSWD: sha256:0123abcd /usr/bin/bash", "a shell (/usr/bin/bash)"),
        (
            "ops ALL=(root) NOPASSWD: /usr/bin/vim /etc/hosts",
            "an editor or pager that opens a shell (/usr/bin/vim)",
        ),
        (
            "ops ALL=(root) NOPASSWD: /usr/bin/less /var/log/syslog",
            "an editor or pager that opens a shell (/usr/bin/less)",
        ),
        ("ops ALL=(root) NOPASSWD: /usr/bin/python3", "an interpreter (/usr/bin/python3)"),
        ("ops ALL=(root) NOPASSWD: /usr/bin/perl5.36", "an interpreter (/usr/bin/perl5.36)"),
        ("ops ALL=(root) NOPASSWD: /usr/bin/*", "a wildcard in the command path (/usr/bin/*)"),
        ("ops ALL=(root) NOPASSWD: /usr/local/sbin/", "every command in a directory (/usr/local/sbin/)"),
        (
            "ops ALL=(root) NOPASSWD: /usr/bin/find",
            "a command that runs other commands or writes any file, with any arguments (/usr/bin/find)",
        ),
        (
            "ops ALL=(root) NOPASSWD: /usr/bin/systemctl restart *",
            "a command that runs other commands or writes any file, with wildcard arguments (restart *) (/usr/bin/systemctl)",
        ),
        ("Cmnd_Alias SH = /bin/ls, /bin/dash\nops ALL=(root) NOPASSWD: SH", "a shell (/bin/dash)"),
    ],
)
def test_grants_as_good_as_all(line: str, why: str) -> None:
    facts = parse({sudoers.SUDOERS: line.replace("\\n", "\n") + "\n"})
    assert facts["nopasswd_all"] == ["ops"] and facts["all_principals"] == ["ops"]
    assert [e["why"] for e in facts["all_equivalent"]] == [why]


@pytest.mark.parametrize(
    "command",
    [
        "/usr/bin/systemctl start restic-backup.service",  # fixed arguments: no pager, no shell
        "/usr/bin/python3 /opt/kijun/report.py",
        "/usr/sbin/reboot",
        "/bin/cat",
        "/usr/bin/sudoedit /etc/motd",
    ],
)
def test_narrow_grants_stay_narrow(command: str) -> None:
    facts = parse({sudoers.SUDOERS: f"ops ALL=(root) NOPASSWD: {command}\n"})
    assert facts["nopasswd_all"] == [] and facts["all_equivalent"] == []


def test_defaults_not_authenticate_makes_everything_passwordless() -> None:
    facts = parse(tree("debian12", **{"10-lab": "Defaults:%sudo !authenticate\n"}))
    assert facts["nopasswd_all"] == ["root", "%sudo"]


def test_includes_and_errors() -> None:
    files = {
        sudoers.SUDOERS: "#include sudoers.d/extra\n",
        f"{sudoers.SUDOERS_DIR}/extra": "bob ALL = NOPASSWD: ALL\n",
    }
    facts = parse(files)
    assert facts["nopasswd_all"] == ["bob"]
    assert facts["includes"] == [
        {"directive": "@include", "path": "/etc/sudoers.d/extra", "file": "/etc/sudoers"}
    ]
    # without an includedir, files in sudoers.d are never read
    assert (
        parse({sudoers.SUDOERS: "root ALL=ALL\n", f"{sudoers.SUDOERS_DIR}/x": "bob ALL=NOPASSWD: ALL\n"})[
            "nopasswd_all"
        ]
        == []
    )
    with pytest.raises(ValueError, match="outside the collected files"):
        parse({sudoers.SUDOERS: "@includedir /etc/sudo.d\n"})
    with pytest.raises(ValueError, match="not collected"):
        parse({sudoers.SUDOERS: "@include /etc/sudoers.local\n"})
    with pytest.raises(ValueError):
        parse({sudoers.SUDOERS: "alice\n"})
    assert sudoers.parse(build_raw(), CTX) == {}
    assert sudoers.parse(build_raw(absent=[sudoers.SUDOERS]), CTX)["rules"] == []


def test_origins_name_the_rule_that_granted_everything() -> None:
    files = tree("debian12", **{"60-maint": "# maintenance\n%maint ALL=(root) \\\n  NOPASSWD: /bin/sh\n"})
    origins = parse(files)["_origins"]
    assert origins["nopasswd_all"] == {"file": "/etc/sudoers.d/60-maint", "line": 2}
    assert origins["all_principals"] == {
        "file": "/etc/sudoers",
        "line": 50,
    }  # %sudo; root's own never decides
