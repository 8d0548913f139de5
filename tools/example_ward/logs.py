"""Kernel modules and USBGuard; logging (rsyslog, journald, logrotate, auditd); time (chrony)."""

from __future__ import annotations

from datetime import UTC, timedelta

from scanner.inventory import Host

from .model import AT, DOMAIN, FS_ZONE, LOG_SERVER, MANAGED, NTP, Spec, ago, edit, kaku, pick, stock


def proc_modules(spec: Spec) -> str:
    """Return /proc/modules as root reads it (with load addresses)."""
    text = stock("/probes/proc-modules-pc.txt" if spec.terminal else "/probes/proc-modules-vm.txt")
    if not spec.standard_usb:  # usb_storage and uas loaded: a USB stick was plugged in
        text = stock("/probes/proc-modules-usb-storage.txt") + text
    out = []
    for line in text.splitlines():
        base = 0xFFFFFFFFC0000000 + pick(spec.name, line.split()[0], 0x3FFFF) * 0x1000
        out.append(f"{line} 0x{base:016x}")
    return "\n".join(out) + "\n"


def add_modules(spec: Spec) -> None:
    for name in ("aliases.conf", "fbdev-blacklist.conf", "systemd.conf"):
        spec.stock(f"/lib/modprobe.d/{name}")
    if spec.standard_usb:
        spec.kaku("/etc/modprobe.d/kaku-hardening.conf")
    spec.add("/proc/modules", proc_modules(spec), mode="0444", mtime=ago(minutes=1))
    if spec.usbguard:
        spec.kaku("/etc/usbguard/usbguard-daemon.conf", mode="0600")
        extra = kaku("/etc/usbguard/rules.conf.mynumber-terminal") if spec.smartcard else ""
        spec.add("/etc/usbguard/rules.conf", kaku("/etc/usbguard/rules.conf") + extra, mode="0600")


def log_target(spec: Spec) -> Host:
    target = spec.inv.host(LOG_SERVER[spec.zone])
    assert target is not None
    return target


TLS_GLOBAL = """global(
  DefaultNetstreamDriver="gtls"
  DefaultNetstreamDriverCAFile="/etc/ssl/kaku/kaku-ca.pem"
  DefaultNetstreamDriverCertFile="/etc/ssl/kaku/host.pem"
  DefaultNetstreamDriverKeyFile="/etc/ssl/kaku/host.key"
)
"""
RECEIVE = (
    "# ゾーン内のホストから TLS (RFC 5425, tcp/6514) で受信し、送信元ごとに保存する。\n"
    + TLS_GLOBAL
    + 'module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1"\n'
    '       StreamDriver.AuthMode="x509/name" PermittedPeer=["*.{domain}"])\n'
    'input(type="imtcp" port="6514" ruleset="remote")\n'
    'template(name="RemoteFile" type="string" string="/var/log/remote/%HOSTNAME%/%HOSTNAME%.log")\n'
    'ruleset(name="remote") {{\n'
    '  action(type="omfile" dynaFile="RemoteFile" fileCreateMode="0640" dirCreateMode="0750"\n'
    '         fileGroup="adm")\n'
    "}}\n"
)
FORWARD = """# 所属ゾーンのログサーバ({name})へ TLS (RFC 5425, tcp/6514) で転送する。
# ログサーバが止まっている間はディスクに溜めて、復旧後に再送する。
{tls}*.* action(
  type="omfwd"
  target="{address}"
  port="6514"
  protocol="tcp"
  StreamDriver="gtls"
  StreamDriverMode="1"
  StreamDriverAuthMode="x509/name"
  StreamDriverPermittedPeers="{name}.{domain}"
  queue.type="LinkedList"
  queue.filename="fwd_{queue}"
  queue.maxDiskSpace="1g"
  queue.saveOnShutdown="on"
  action.resumeRetryCount="-1"
)
"""
REMOTE_ROTATE = (
    "# 受信ログ: 月次で世代化し、archive/ に圧縮して保存する(保存期間 = rotate × 30日)。\n"
    "/var/log/remote/*/*.log\n{{\n"
    "\trotate {rotate}\n\tmonthly\n\tdateext\n\tmissingok\n\tnotifempty\n\tcompress\n"
    "\tdelaycompress\n\tolddir archive\n\tcreateolddir 0750 root adm\n\tsharedscripts\n"
    "\tpostrotate\n\t\t/usr/lib/rsyslog/rsyslog-rotate\n\tendscript\n}}\n"
)


def add_logging(spec: Spec) -> None:
    spec.stock("/etc/rsyslog.conf")
    if spec.role == "log_server":
        spec.add("/etc/rsyslog.d/10-kaku-receive.conf", MANAGED + "\n" + RECEIVE.format(domain=DOMAIN))
    else:
        target = log_target(spec)
        queue = target.name.replace("-", "_")
        text = FORWARD.format(
            name=target.name, tls=TLS_GLOBAL, address=target.address, domain=DOMAIN, queue=queue
        )
        spec.add("/etc/rsyslog.d/90-kaku-forward.conf", MANAGED + "\n" + text)
    spec.stock("/etc/systemd/journald.conf")
    spec.kaku("/etc/systemd/journald.conf.d/10-kaku.conf")
    spec.stock("/etc/logrotate.conf")
    rotate = FS_ZONE[spec.zone]
    spec.add(
        "/etc/logrotate.d/rsyslog",
        edit(
            stock("/etc/logrotate.d/rsyslog"),
            ("\trotate 4\n\tweekly\n", f"\trotate {rotate}\n\tmonthly\n\tdateext\n"),
        ),
    )
    for name in ("alternatives", "apt", "btmp", "chrony", "dpkg", "wtmp"):
        spec.stock(f"/etc/logrotate.d/{name}")
    if spec.usbguard:
        spec.stock("/etc/logrotate.d/usbguard")
    if spec.role == "log_server":
        spec.add("/etc/logrotate.d/kaku-remote", MANAGED + "\n" + REMOTE_ROTATE.format(rotate=rotate))
    add_auditd(spec)


def add_auditd(spec: Spec) -> None:
    spec.add(
        "/etc/audit/auditd.conf",
        edit(
            stock("/etc/audit/auditd.conf"),
            ("max_log_file = 8", "max_log_file = 50"),
            ("num_logs = 5", "num_logs = 10"),
            ("max_log_file_action = ROTATE", "max_log_file_action = keep_logs"),
        ),
        mode="0640",
    )
    spec.add(
        "/etc/audit/rules.d/audit.rules",
        stock("/etc/audit/rules.d/audit.rules"),
        mode="0640",
        mtime=spec.built,
    )
    rules = kaku("/etc/audit/rules.d/50-kaku.rules")
    spec.add("/etc/audit/rules.d/50-kaku.rules", rules, mode="0640")
    body = [line for line in rules.splitlines() if line and not line.startswith("#") and line != "-e 2"]
    generated = (
        "## This file is automatically generated from /etc/audit/rules.d\n"
        "-D\n-b 8192\n-f 1\n--backlog_wait_time 60000\n" + "\n".join(body) + "\n-e 2\n"
    )
    spec.add("/etc/audit/audit.rules", generated, mode="0640")
    spec.probe("auditctl-rules", kaku("/probes/auditctl-l.txt"))  # the kernel's form of 50-kaku.rules
    spec.probe(
        "auditctl-status",
        f"enabled 2\nfailure 1\npid {600 + pick(spec.name, 'auditd', 300)}\n"
        "rate_limit 0\nbacklog_limit 8192\nlost 0\nbacklog 0\nbacklog_wait_time 60000\n"
        "backlog_wait_time_actual 0\nloginuid_immutable 0 unlocked\n",
    )


def add_time(spec: Spec) -> None:
    servers = NTP[spec.zone]
    lines = "".join(f"server {s} iburst\n" for s in servers)
    spec.add(
        "/etc/chrony/chrony.conf",
        edit(
            stock("/etc/chrony/chrony.conf"),
            (
                "# Use Debian vendor zone.\npool 2.debian.pool.ntp.org iburst\n",
                "# 架空区基盤標準: ゾーン内の時刻サーバ(コアL3スイッチ)に同期する。外部のNTPには出られない。\n"
                + lines,
            ),
        ),
    )
    ref = servers[0]
    ref_id = "".join(f"{int(o):02X}" for o in ref.split("."))
    offset = (5 + pick(spec.name, "offset", 400)) / 1_000_000
    direction = "fast" if pick(spec.name, "dir", 2) else "slow"
    ref_time = (AT - timedelta(seconds=20 + pick(spec.name, "ref", 40))).astimezone(UTC)
    spec.probe(
        "chronyc-tracking",
        (
            f"Reference ID    : {ref_id} ({ref})\n"
            "Stratum         : 3\n"
            f"Ref time (UTC)  : {ref_time.strftime('%a %b %d %H:%M:%S %Y')}\n"
            f"System time     : {offset:.9f} seconds {direction} of NTP time\n"
            f"Last offset     : -{offset / 3:.9f} seconds\n"
            f"RMS offset      : {offset * 1.7:.9f} seconds\n"
            f"Frequency       : {3 + pick(spec.name, 'freq', 20)}.{pick(spec.name, 'f2', 999):03d} ppm slow\n"
            "Residual freq   : -0.001 ppm\n"
            "Skew            : 0.027 ppm\n"
            "Root delay      : 0.000843127 seconds\n"
            "Root dispersion : 0.000412066 seconds\n"
            "Update interval : 64.4 seconds\n"
            "Leap status     : Normal\n"
        ),
    )
    now = AT.strftime("%a %Y-%m-%d %H:%M:%S JST")
    spec.probe(
        "timedatectl",
        f"Timezone=Asia/Tokyo\nLocalRTC=no\nCanNTP=yes\nNTP=yes\nNTPSynchronized=yes\n"
        f"TimeUSec={now}\nRTCTimeUSec={now}\n",
    )
    spec.probe(
        "timesync-status",
        "",
        rc=1,
        stderr="Failed to query server: The name org.freedesktop.timesync1 "
        "was not provided by any .service files\n",
    )
