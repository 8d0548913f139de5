"""The testinfra side of the benchmark: the base pack's server checks written as testinfra users write them.

One testinfra call per check (a file read, a command, a service state), each of which testinfra runs
as its own remote command, on its own channel of one paramiko connection per host. The call reads
what the kijun check reads; the assertion itself is left out, since it costs nothing remotely.
Needs ``pip install pytest-testinfra`` (benchmark only).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from scanner.collect.probes import PROBES

Op = Callable[[Any], object]


def _file(path: str) -> Op:
    return lambda host: host.file(path).content_string


def _exists(path: str) -> Op:
    return lambda host: host.file(path).exists


def _run(command: str) -> Op:
    return lambda host: host.run(command).stdout


def _running(service: str) -> Op:
    return lambda host: host.service(service).is_running


# (kijun check id, what a testinfra test for it reads), in the order of the base pack.
CHECKS: list[tuple[str, Op]] = [
    ("accounts-uids-unique", _file("/etc/passwd")),
    ("accounts-uid0-root-only", _file("/etc/passwd")),
    ("accounts-humans-recently-active", _run(PROBES["lastlog"])),
    ("sudoers-nopasswd-all-absent", _file("/etc/sudoers")),
    ("sshd-root-login-disabled", _run(PROBES["sshd-T"])),
    ("pwquality-module-enabled", _file("/etc/pam.d/common-password")),
    ("pwquality-minlen-sufficient", _file("/etc/security/pwquality.conf")),
    ("accounts-empty-passwords-absent", _run(PROBES["shadow-state"])),
    ("pwquality-min-classes-sufficient", _file("/etc/security/pwquality.conf")),
    ("login-defs-pass-max-days-within-limit", _file("/etc/login.defs")),
    ("accounts-password-max-age-within-limit", _run(PROBES["shadow-state"])),
    ("faillock-module-enabled", _file("/etc/pam.d/common-auth")),
    ("faillock-deny-within-threshold", _file("/etc/security/faillock.conf")),
    ("faillock-unlock-time-sufficient", _file("/etc/security/faillock.conf")),
    ("screenlock-idle-lock-within-limit", _file("/etc/profile")),
    ("backup-job-scheduled", _file("/etc/crontab")),
    ("backup-latest-success-fresh", _exists("/var/lib/kijun/backup-status.json")),
    ("backup-offsite-copy-fresh", _exists("/var/lib/kijun/backup-status.json")),
    ("backup-generations-sufficient", _exists("/var/lib/kijun/backup-status.json")),
    ("backup-restore-test-recent", _exists("/var/lib/kijun/backup-status.json")),
    ("auditd-service-active", _running("auditd")),
    ("auditd-kernel-auditing-enabled", _run(PROBES["auditctl-status"])),
    ("auditd-rules-cover-required-categories", _run(PROBES["auditctl-rules"])),
    ("logrotate-security-retention-sufficient", _file("/etc/logrotate.conf")),
    ("auditd-logs-kept", _file("/etc/audit/auditd.conf")),
    ("journald-retention-not-below-required", _file("/etc/systemd/journald.conf")),
    ("rsyslog-forwarding-configured", _file("/etc/rsyslog.conf")),
    ("rsyslog-forward-tls-where-required", _file("/etc/rsyslog.conf")),
    ("rsyslog-file-create-mode-restricted", _file("/etc/rsyslog.conf")),
    ("time-sync-source-configured", _file("/etc/chrony/chrony.conf")),
    ("time-clock-synchronized", _run(PROBES["timedatectl"])),
    ("time-offset-within-limit", _run(PROBES["chronyc-tracking"])),
    ("malware-av-running", _running("clamav-daemon")),
    ("malware-signatures-fresh", _exists("/var/lib/clamav")),
    ("packages-security-updates-applied", _run(PROBES["apt-upgradable"])),
    ("packages-os-supported", _file("/etc/os-release")),
    ("mfa-sshd-two-factor-required", _file("/etc/pam.d/sshd")),
    ("network-default-route-absent", _run(PROBES["ip-route"])),
    ("network-host-single-zone", _run(PROBES["ip-addr"])),
    ("firewall-input-default-deny", _run(PROBES["nft-ruleset"])),
    ("network-listening-ports-allowed", _run(PROBES["ss-listen"])),
]

APT_CHECK = "packages-security-updates-applied"


def checks(with_apt: bool) -> list[tuple[str, Op]]:
    """Return the checks to run (the apt one only when kijun's plan has the apt probe too)."""
    return [(cid, op) for cid, op in CHECKS if with_apt or cid != APT_CHECK]


def _one(spec: str, ssh_config: str, key: str, ops: list[tuple[str, Op]]) -> tuple[int, int]:
    """Run every check on one host over one paramiko connection; return (remote commands, failed calls)."""
    import testinfra

    host = testinfra.get_host(spec, ssh_config=ssh_config, ssh_identity_file=key)
    backend = host.backend
    commands = 0
    run = backend.run

    def counted(command: str, *args: str, **kwargs: Any) -> Any:
        nonlocal commands
        commands += 1
        return run(command, *args, **kwargs)

    backend.run = counted
    failed = 0
    try:
        for _cid, op in ops:
            try:
                op(host)
            except Exception:  # a failing call is still a round trip paid; count it, keep going
                failed += 1
    finally:
        if "client" in backend.__dict__:  # testinfra opens it lazily (a cached property)
            backend.client.close()
    return commands, failed


def run(
    addresses: list[str], port: int, user: str, key: str, home: str, parallel: int, with_apt: bool
) -> dict[str, Any]:
    """Check the hosts with testinfra's paramiko backend, ``parallel`` hosts at a time; return the figures."""
    ssh_config = os.path.join(home, "testinfra_ssh_config")
    with open(ssh_config, "w") as handle:
        # testinfra's paramiko backend never loads known_hosts (it warns on every unknown key); say no.
        handle.write("Host *\n    StrictHostKeyChecking no\n")
    ops = checks(with_apt)
    specs = [f"paramiko://{user}@{a}:{port}" for a in addresses]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(specs)))) as pool:
        done = list(pool.map(lambda s: _one(s, ssh_config, key, ops), specs))
    wall = time.monotonic() - started
    return {
        "wall": wall,
        "hosts": len(specs),
        "ok": sum(1 for _, failed in done if failed < len(ops)),
        "checks": len(ops),
        "commands": sum(c for c, _ in done),
        "failed_calls": sum(f for _, f in done),
    }
