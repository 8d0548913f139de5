"""Facts of subject 'auditd': the audit daemon, its log settings, and which event classes its rules cover."""

from __future__ import annotations

import re
from typing import Any

from scanner.facts import ORIGINS, Context, Subject, lines
from scanner.facts.services import any_active, probe_failed, probe_text
from scanner.facts.words import split as shell_words
from scanner.rawfacts import RawFacts

_CONF = "/etc/audit/auditd.conf"
_RULES_D = "/etc/audit/rules.d/*"
_RULES = "/etc/audit/audit.rules"

# What each class watches: a watch on one of these paths (or below one of the directories).
_WATCHES = {
    "logon": (
        "/var/log/faillog",
        "/var/log/lastlog",
        "/var/run/faillock",
        "/run/faillock",
        "/var/log/tallylog",
    ),
    "account_mgmt": ("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/security/opasswd"),
    "privilege_use": (),  # the use of privileged commands: execve and sudo rules, below
    "time_change": ("/etc/localtime",),
    # who may use privileges (sudoers) is policy, like the audit, PAM and sshd settings
    "policy_change": ("/etc/audit", "/etc/pam.d", "/etc/ssh/sshd_config", "/etc/sudoers", "/etc/sudoers.d"),
}
_DIRECTORIES = ("/etc/sudoers.d", "/etc/audit", "/etc/pam.d", "/var/run/faillock", "/run/faillock")
_TIME_SYSCALLS = {"adjtimex", "settimeofday", "clock_settime"}
_SUDO = ("/usr/bin/sudo", "/bin/sudo", "/usr/bin/su", "/bin/su")
_AUID_SET = {"auid!=unset", "auid!=-1", "auid!=4294967295"}


def _rule_parts(rule: str) -> tuple[list[str], list[str], set[str], str]:
    """Return (watched paths, syscalls, -F conditions such as "auid>=1000", permissions) of a rule."""
    words = shell_words(rule)
    paths: list[str] = []
    syscalls: list[str] = []
    conditions: set[str] = set()
    perm = "rwxa"  # a watch without -p records every kind of access
    for flag, value in zip(words, [*words[1:], ""], strict=True):
        if flag == "-w":
            paths.append(value)
        elif flag == "-p":
            perm = value
        elif flag == "-S":
            syscalls += value.split(",")
        elif flag == "-F":
            conditions.add(value)
            name, _, rhs = value.partition("=")
            if name in ("path", "dir"):
                paths.append(rhs)
            elif name == "perm":
                perm = rhs
    return [p.rstrip("/") or "/" for p in paths], syscalls, conditions, perm


def _watched(paths: list[str], wanted: tuple[str, ...]) -> bool:
    for path in paths:
        for target in wanted:
            if path == target or (target in _DIRECTORIES and path.startswith(target + "/")):
                return True
    return False


def _login_users(conditions: set[str]) -> bool:
    """Tell whether -F fields keep the events of login users only (CIS, STIG: auid>=1000 and auid!=unset)."""
    return "auid>=1000" in conditions and bool(_AUID_SET & conditions)


def covers(rules: list[str]) -> dict[str, bool]:
    """Return which event classes the rules record.

    A watch counts only when it records both writes and attribute changes (``-p wa``: a watch with
    ``-p w`` misses chmod and chown, one with ``-p a`` misses every write); a privileged-command
    rule counts only when it filters login users (``-F auid>=1000 -F auid!=unset``), as the
    benchmarks the 対策基準 points to require.
    """
    out = dict.fromkeys(_WATCHES, False)
    for rule in rules:
        words = rule.split()
        if words[0] in ("-a", "-A") and (len(words) < 2 or "never" in words[1]):
            continue  # "never" rules suppress events
        paths, syscalls, conditions, perm = _rule_parts(rule)
        if paths and "w" in perm and "a" in perm:
            for name, wanted in _WATCHES.items():
                if _watched(paths, wanted):
                    out[name] = True
        if _TIME_SYSCALLS & set(syscalls):
            out["time_change"] = True
        # execve for login users records every command they run, privileged ones included.
        executes = "execve" in syscalls or ("x" in perm and any(p in _SUDO for p in paths))
        if executes and _login_users(conditions):
            out["privilege_use"] = True
    return out


def _conf(raw: RawFacts) -> dict[str, str] | None:
    item = raw.file(_CONF)
    if item is None or not item.exists:
        return None
    out: dict[str, str] = {}
    for line in lines(item):
        if "=" in line:
            key, value = line.split("=", 1)
            out[key.strip().lower()] = value.strip()
    return out


def _version_key(path: str) -> list[tuple[int, int | str]]:
    """Order file names as `ls -v` does (9-x before 10-x), as augenrules compiles them."""
    name = path.rsplit("/", 1)[-1]
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name)]


def _file_rules(raw: RawFacts) -> list[tuple[str, dict[str, Any]]] | None:
    """Return (rule, where it is written) as augenrules would load them: rules.d/*.rules, else audit.rules.

    augenrules drops lines whose first non-blank character is '#', so a '#' later in a rule
    (a key such as ``-k id#1``) stays (checked against augenrules in tests/reference).
    """
    items = [it for it in raw.glob(_RULES_D) if (it.path or "").endswith(".rules")]
    items.sort(key=lambda it: _version_key(it.path or ""))
    if not items:
        compiled = raw.file(_RULES)
        if compiled is None:
            return None
        items = [compiled] if compiled.exists else []
    found = [
        (line.strip(), {"file": item.path, "line": number})
        for item in items
        for number, line in enumerate(item.text.splitlines(), 1)
    ]
    return [(line, where) for line, where in found if line.split(None, 1)[0:1] in (["-a"], ["-A"], ["-w"])]


def _status(text: str) -> dict[str, str]:
    """Parse ``auditctl -s`` ("enabled 1", "pid 123", ...)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2:
            out[words[0]] = words[1]
    return out


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return ``installed, active, enabled_in_kernel, rules, rules_source, covers`` and log settings."""
    out: dict[str, Any] = {}
    conf = _conf(raw)
    if raw.file(_CONF) is not None:
        out["installed"] = conf is not None
    active = any_active(raw, "auditd.service")
    if active is not None:
        out["active"] = active
    status = probe_text(raw, "auditctl-status")
    if status is not None:
        out["enabled_in_kernel"] = _status(status).get("enabled") in ("1", "2")
    elif probe_failed(raw, "auditctl-status"):
        out["enabled_in_kernel"] = False  # the kernel could not be asked: never assume it audits
    loaded = probe_text(raw, "auditctl-rules")
    rules: list[str] | None
    wheres: list[dict[str, Any]] = []
    if loaded is not None:
        rules = [line.strip() for line in loaded.splitlines() if line.strip() not in ("", "No rules")]
        out["rules_source"] = "loaded"
    else:
        # A failed auditctl means nothing is known to be loaded: report what the files would load.
        written = _file_rules(raw)
        rules = None if written is None else [rule for rule, _ in written]
        wheres = [where for _, where in written or []]
        if rules is not None:
            out["rules_source"] = "files"
    if rules is not None:
        out["rules"] = rules
        out["covers"] = covers(rules)
        # The first rule (in a file) that covers each class; loaded rules have no file.
        out[ORIGINS] = {
            f"covers.{name}": next(w for r, w in zip(rules, wheres, strict=True) if covers([r])[name])
            for name, covered in out["covers"].items()
            if covered and wheres
        }
    # Unset keys are omitted rather than filled with a default that might pass a check.
    if conf is not None and "max_log_file_action" in conf:
        out["max_log_file_action"] = conf["max_log_file_action"].upper()
    for key in ("num_logs", "max_log_file"):
        if conf is not None and key in conf:
            out[key] = int(conf[key])
    return out


SUBJECT = Subject(
    name="auditd",
    parse=parse,
    files=(_CONF, _RULES_D, _RULES),
    probes=("auditctl-rules", "auditctl-status", "systemctl-units"),
)
