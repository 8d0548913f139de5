"""A small, realistic Run built by hand for the reporter tests."""

from __future__ import annotations

import pytest

from scanner.results import CheckResult, Finding, HostResult, Run, Severity, Status, WaiverRef

HOSTILE = "<script>alert(1)</script>"
ESCAPE = "\x1b[2J"  # clears a terminal if printed raw

BUN_LOG = {
    "doc": "文京区情報セキュリティに関する規則",
    "article": "第25条",
    "text": "アクセス記録を取得し、保存する",
}
GUIDE_ACC = {"doc": "総務省ガイドライン", "article": "3.6.1", "text": "管理者権限の制限"}


def _f(
    host: HostResult, control: str, status: Status, severity: Severity, area: str, **kw: object
) -> Finding:
    """Make a finding on a host with a generated bilingual title unless given."""
    kw.setdefault("title_ja", f"{control}の要件を満たしている")
    kw.setdefault("title_en", f"{control} requirement is met")
    return Finding(
        host=host.name,
        control_id=control,
        status=status,
        severity=severity,
        area=area,
        zone=host.zone,
        role=host.role,
        owner=host.owner,
        **kw,  # type: ignore[arg-type]
    )


def make_run() -> Run:
    """Build a run: 3 assessed hosts, 1 unreachable, 1 collection error; every status once or more."""
    srv = HostResult(
        "mn-srv-01",
        "mynumber",
        "server",
        "ssh",
        "assessed",
        address="10.1.0.11",
        owner="戸籍住民課",
        collected_at="2025-06-02T09:00:05+09:00",
        timings={"connect": 0.12, "collect": 0.8},
    )
    term = HostResult(
        "mn-term-01",
        "mynumber",
        "terminal",
        "ssh",
        "assessed",
        address="10.1.8.21",
        owner="戸籍住民課",
        collected_at="2025-06-02T09:00:07+09:00",
    )
    lg = HostResult(
        "lg-srv-01",
        "lgwan",
        "server",
        "ssh",
        "assessed",
        address="10.2.0.5",
        owner=f"情報政策課{HOSTILE}",
        collected_at="2025-06-02T09:00:06+09:00",
    )
    proxy = HostResult(
        "in-proxy-01",
        "internet",
        "proxy",
        "ssh",
        "unreachable",
        message="connect timeout after 10s",
        address="10.3.0.2",
        owner="情報政策課",
    )
    broken = HostResult(
        "lg-term-09",
        "lgwan",
        "terminal",
        "ssh",
        "error",
        message="collector exited 2: sudo: a password is required",
        address="10.2.8.9",
        owner="税務課",
    )
    root_login = {
        "title_ja": "rootの直接ログインが禁止されている",
        "title_en": "Direct root login is disabled",
        "citations": (GUIDE_ACC,),
        "remediation_ja": "sshd_configで PermitRootLogin no を設定する。",
        "remediation_en": "Set PermitRootLogin no in sshd_config.",
    }
    findings = (
        _f(
            srv,
            "ACC-04",
            Status.PASS,
            Severity.HIGH,
            "access_control",
            **root_login,
            checks=(
                CheckResult(
                    "sshd-root-login-disabled",
                    Status.PASS,
                    "SSHのrootログインが禁止されている",
                    "SSH root login is disabled",
                    "no",
                    "no",
                    evidence=("probe:sshd-T",),
                ),
            ),
        ),
        _f(
            srv,
            "LOG-02",
            Status.FAIL,
            Severity.HIGH,
            "logging",
            title_ja="ログの保存期間",
            title_en="Logs are kept for the retention period",
            citations=(BUN_LOG, {"doc": "対策基準", "article": f"5.1{HOSTILE}", "text": HOSTILE}),
            params={"retention_days": 1825},
            remediation_ja="logrotateのrotate回数を保存期間に合わせる。",
            remediation_en="Raise logrotate's rotate count to cover the retention period.",
            checks=(
                CheckResult(
                    "logrotate-retention-days",
                    Status.FAIL,
                    "ログが保存期間以上保持される",
                    "Logs are kept at least the retention period",
                    {"days": 28, "note": HOSTILE + ESCAPE},
                    {"ge": 1825},
                    evidence=("file:/etc/logrotate.conf", "file:/etc/logrotate.d/rsyslog"),
                ),
                CheckResult(
                    "journald-persistent",
                    Status.PASS,
                    "journaldが永続保存する",
                    "journald storage is persistent",
                    "persistent",
                    "persistent",
                ),
            ),
        ),
        _f(
            srv,
            "BAK-02",
            Status.WAIVED,
            Severity.HIGH,
            "backup",
            title_ja="外部データセンターに複製がある",
            title_en="A copy exists at the external data center",
            message="backup copy is 30 hours old",
            waiver=WaiverRef(
                "EXC-2025-004", True, "回線更改工事のため", "2026-03-31", "山田 太郎", "情報政策課長"
            ),
            checks=(CheckResult("backup-offsite-fresh", Status.FAIL, observed=30, expected={"le": 26}),),
        ),
        _f(
            srv,
            "LOG-01",
            Status.ERROR,
            Severity.MEDIUM,
            "logging",
            message="auditd rules could not be parsed",
            checks=(CheckResult("auditd-rules-auth", Status.ERROR, message="parse error at line 3"),),
        ),
        _f(
            term,
            "DLP-01",
            Status.FAIL,
            Severity.CRITICAL,
            "dlp",
            title_ja="USB記憶装置が使用できない",
            title_en="USB storage is blocked",
            checks=(
                CheckResult(
                    "usb-storage-blocked",
                    Status.FAIL,
                    observed="loaded",
                    expected="blocked",
                    evidence=("probe:lsmod",),
                ),
            ),
        ),
        _f(
            term,
            "ACC-04",
            Status.FAIL,
            Severity.HIGH,
            "access_control",
            **root_login,
            waiver=WaiverRef(
                "EXC-2024-001", False, "期限切れ expired", "2025-03-31", "佐藤 花子", "情報政策課長"
            ),
            checks=(CheckResult("sshd-root-login-disabled", Status.FAIL, observed="yes", expected="no"),),
        ),
        _f(
            term,
            "MFA-01",
            Status.PASS,
            Severity.CRITICAL,
            "mfa",
            checks=(CheckResult("pam-second-factor-required", Status.PASS, observed=True, expected=True),),
        ),
        _f(
            term,
            "PHY-01",
            Status.MANUAL,
            Severity.MEDIUM,
            "physical",
            title_ja="取扱区域への入退室が管理されている",
            title_en="Entry to the handling area is controlled",
            attestation="入退室記録(直近3か月)の写しと管理者の確認印 / entry log copy (last 3 months) signed by the manager",
        ),
        _f(lg, "ACC-04", Status.PASS, Severity.HIGH, "access_control", **root_login),
        _f(
            lg,
            "MFA-01",
            Status.NOT_APPLICABLE,
            Severity.CRITICAL,
            "mfa",
            message="applies to mynumber terminals only",
        ),
        _f(
            lg,
            "NET-06",
            Status.FAIL,
            Severity.LOW,
            "network",
            title_ja="ホストファイアウォールが受信を既定で拒否する",
            title_en="Host firewall denies inbound by default",
            checks=(CheckResult("nft-input-policy-drop", Status.FAIL, observed="accept", expected="drop"),),
        ),
        _f(
            proxy,
            "ACC-04",
            Status.UNREACHABLE,
            Severity.HIGH,
            "access_control",
            **root_login,
            message="host not assessed: connect timeout after 10s",
        ),
        _f(
            proxy,
            "NET-05",
            Status.UNREACHABLE,
            Severity.HIGH,
            "network",
            message="host not assessed: connect timeout after 10s",
        ),
    )
    return Run(
        run_id="20250602T090000-7f3a",
        started_at="2025-06-02T09:00:00+09:00",
        finished_at="2025-06-02T09:00:12+09:00",
        mode="scheduled",
        scanner_version="0.1.0",
        inventory="inventories/example-ward",
        profile="bunkyo",
        municipality={"name_ja": "文京区", "name_en": "Bunkyo City"},
        fail_on=Severity.MEDIUM,
        hosts=(srv, term, lg, proxy, broken),
        findings=findings,
        envelope={"operator": "svc-kijun", "pack": {"version": "0.1.0", "sha256": "ab" * 32}},
    )


@pytest.fixture
def run() -> Run:
    """Return the sample run."""
    return make_run()
