"""Parser tests for subject 'auditd' on real auditctl output and Debian 12 audit files."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.facts import Context
from scanner.facts.auditd import covers, parse
from scanner.inventory import local_host
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "auditd"
UNITS = (Path(__file__).parent / "outputs" / "services" / "systemctl-units.txt").read_text()
INV = local_host()
CTX = Context(INV.hosts[0], INV)
CONF = (OUT / "auditd.conf").read_text()
FAILED = {"stdout": "", "rc": 1, "stderr": (OUT / "auditctl-failed.stderr").read_text()}


NOTHING_COVERED = {
    "logon": False,
    "account_mgmt": False,
    "privilege_use": False,
    "time_change": False,
    "policy_change": False,
}


def _files(**rules_d: str) -> dict[str, str]:
    files = {"/etc/audit/auditd.conf": CONF, "/etc/audit/audit.rules": (OUT / "audit.rules").read_text()}
    files.update({f"/etc/audit/rules.d/{k}": v for k, v in rules_d.items()})
    return files


def test_this_machine_nothing_loaded() -> None:
    probes = {
        "auditctl-rules": (OUT / "auditctl-rules.txt").read_text(),
        "auditctl-status": (OUT / "auditctl-status.txt").read_text(),
        "systemctl-units": UNITS,
    }
    raw = build_raw(files=_files(**{"audit.rules": (OUT / "rules.d-audit.rules").read_text()}), probes=probes)
    facts = parse(raw, CTX)
    assert facts == {
        "_origins": {},
        "installed": True,
        "active": True,
        "enabled_in_kernel": False,
        "rules_source": "loaded",
        "rules": [],
        "covers": NOTHING_COVERED,
        "max_log_file_action": "ROTATE",
        "num_logs": 5,
        "max_log_file": 8,
    }


def test_loaded_stig_and_local_rules_cover_everything() -> None:
    probes = {
        "auditctl-rules": (OUT / "auditctl-rules-loaded.txt").read_text(),
        "auditctl-status": (OUT / "auditctl-status.txt").read_text().replace("enabled 0", "enabled 1"),
    }
    facts = parse(build_raw(files=_files(), probes=probes), CTX)
    assert facts["enabled_in_kernel"] is True
    assert len(facts["rules"]) == 40
    assert all(facts["covers"].values())


def test_failed_probes_fall_back_to_rules_d() -> None:
    stig = (OUT / "30-stig.rules").read_text()
    probes = {"auditctl-rules": FAILED, "auditctl-status": FAILED}
    raw = build_raw(files=_files(**{"30-stig.rules": stig, "README": "-w /etc/pam.d -p wa\n"}), probes=probes)
    facts = parse(raw, CTX)
    assert facts["enabled_in_kernel"] is False  # could not ask the kernel: never assumed on
    assert facts["rules_source"] == "files"
    assert "-w /etc/sudoers -p wa -k actions" in facts["rules"]
    assert "-D" not in facts["rules"]
    # STIG has no login watches (commented out) and no privileged-command rule (its sudoers watches
    # are policy changes); README is not a .rules file
    assert facts["covers"] == {
        "logon": False, "account_mgmt": True, "privilege_use": False, "time_change": True, "policy_change": True,
    }  # fmt: skip


def test_without_rules_d_the_compiled_file_counts() -> None:
    facts = parse(build_raw(files=_files()), CTX)
    assert facts["rules_source"] == "files"
    assert facts["rules"] == []  # Debian's audit.rules holds only control lines
    assert "enabled_in_kernel" not in facts
    assert "active" not in facts


@pytest.mark.parametrize(
    ("rule", "covered"),
    [
        ("-w /var/log/tallylog -p wa -k logins", "logon"),
        ("-w /run/faillock/ -p wa -k logins", "logon"),
        ("-a always,exit -F path=/etc/passwd -F perm=wa -F key=identity", "account_mgmt"),
        (
            "-a always,exit -F arch=b64 -C euid!=uid -F euid=0 -S execve -F auid>=1000 -F auid!=unset",
            "privilege_use",
        ),
        ("-a always,exit -F arch=b64 -S execve -F auid>=1000 -F auid!=unset -k exec", "privilege_use"),
        (
            "-a always,exit -F path=/usr/bin/sudo -F perm=x -F auid>=1000 -F auid!=unset -k priv",
            "privilege_use",
        ),
        ("-a always,exit -S all -F path=/usr/bin/sudo -F perm=x -F auid>=1000 -F auid!=-1", "privilege_use"),
        ("-a always,exit -F path=/bin/su -F perm=x -F auid>=1000 -F auid!=4294967295", "privilege_use"),
        ("-w /etc/sudoers.d/ -p wa -k actions", "policy_change"),
        ("-a always,exit -F arch=b64 -S clock_settime -k time-change", "time_change"),
        ("-w /etc/audit/auditd.conf -p wa -k auditconfig", "policy_change"),
        ("-w /etc/pam.d/ -p wa -k pam", "policy_change"),
        ("-w /etc/ssh/sshd_config -k sshd", "policy_change"),  # no -p: every access
    ],
)
def test_each_class(rule: str, covered: str) -> None:
    assert [k for k, v in covers([rule]).items() if v] == [covered]


@pytest.mark.parametrize(
    "rule",
    [
        "-w /etc/passwd -p r -k reads",  # reads only: changes are not recorded
        "-a never,exit -F path=/etc/shadow -F perm=wa",
        "-w /etc/pam.d.bak -p wa",
        "-a always,exit -F arch=b64 -S execve -k all-exec",  # no privileged filter
        "-a always,exit -F path=/usr/bin/sudo -F perm=r -k read-sudo",
        # issue 10: practice needs writes and attribute changes, and login users filtered
        "-w /etc/passwd -p a -k identity",  # attribute changes only: no write is recorded
        "-w /etc/shadow -p w -k identity",  # writes only: chmod and chown are missed
        "-a always,exit -F path=/etc/group -F perm=w -F key=identity",
        "-w /var/log/lastlog -p wx -k logins",
        "-a always,exit -F path=/usr/bin/sudo -F perm=x -F auid>=1000 -k priv",  # no auid!=unset
        "-a always,exit -F path=/usr/bin/sudo -F perm=x -F auid!=unset -k priv",  # no auid>=1000
        "-a always,exit -F arch=b64 -C euid!=uid -F euid=0 -S execve -k user_emulation",
        "-a always,exit -F arch=b64 -S execve -F euid=0 -k root-exec",
        "-w /usr/bin/sudo -p x -k priv",  # a watch cannot filter login users
    ],
)
def test_rules_that_do_not_cover(rule: str) -> None:
    assert not any(covers([rule]).values())


def test_not_installed_and_not_collected() -> None:
    assert parse(build_raw(absent=["/etc/audit/auditd.conf", "/etc/audit/audit.rules"]), CTX) == {
        "_origins": {},
        "installed": False,
        "rules_source": "files",
        "rules": [],
        "covers": NOTHING_COVERED,
    }
    assert parse(build_raw(), CTX) == {}


def test_origins_name_the_rule_file_line_that_covers_each_class() -> None:
    rules = "# logins\n-w /var/log/lastlog -p w\n-w /var/log/lastlog -p wa -k logins\n"
    probes = {"auditctl-rules": FAILED, "auditctl-status": FAILED}
    facts = parse(build_raw(files=_files(**{"10-x.rules": rules}), probes=probes), CTX)
    assert facts["_origins"] == {"covers.logon": {"file": "/etc/audit/rules.d/10-x.rules", "line": 3}}
