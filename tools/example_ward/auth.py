"""sshd (the drop-in and ``sshd -T``) and PAM, password quality, lockout and login.defs."""

from __future__ import annotations

from .model import MANAGED, STANDARD, Spec, edit, has_contractors, stock

SMARTCARD = (
    "# 架空区端末認証標準: 職員証ICカード(PIN)と顔認証を必須にする (二要素)。\n"
    "auth{0}required{1}pam_pkcs11.so wait_for_card\n"
    "auth{0}required{1}pam_howdy.so\n"
)


def allow_groups(spec: Spec) -> list[str]:
    return ["kaku-admins", "kaku-vendor"] if has_contractors(spec) else ["kaku-admins"]


def sshd_dropin(spec: Spec) -> str:
    lines = [
        MANAGED,
        "# 管理者は踏み台(bastion-01)から個人IDと公開鍵で入る。rootの直接ログインとパスワード認証は不可。",
        "PermitRootLogin no",
        "PasswordAuthentication no",
        "PermitEmptyPasswords no",
        "PubkeyAuthentication yes",
    ]
    if spec.two_factor_ssh:
        lines += [
            "# マイナンバー利用事務系と踏み台: 公開鍵 + ワンタイムパスワード(TOTP, pam_google_authenticator)",
            "KbdInteractiveAuthentication yes",
            "AuthenticationMethods publickey,keyboard-interactive",
        ]
    else:
        lines.append("KbdInteractiveAuthentication no")
    lines += [
        "MaxAuthTries 3",
        "LoginGraceTime 60",
        "ClientAliveInterval 300",
        "ClientAliveCountMax 2",
        "X11Forwarding no",
        "AllowTcpForwarding " + ("local" if spec.role == "bastion" else "no"),
        "AllowAgentForwarding no",
        "LogLevel VERBOSE",
        "Banner /etc/issue.net",
        "AllowGroups " + " ".join(allow_groups(spec)),
    ]
    return "\n".join(lines) + "\n"


def sshd_t(spec: Spec) -> str:
    """Return `sshd -T` for this host: the recorded Debian 12 output with the effective settings."""
    values = {
        "permitrootlogin": "no",
        "passwordauthentication": "no",
        "kbdinteractiveauthentication": "yes" if spec.two_factor_ssh else "no",
        "maxauthtries": "3",
        "logingracetime": "60",
        "clientaliveinterval": "300",
        "clientalivecountmax": "2",
        "x11forwarding": "no",
        "allowtcpforwarding": "local" if spec.role == "bastion" else "no",
        "allowagentforwarding": "no",
        "loglevel": "VERBOSE",
        "banner": "/etc/issue.net",
        "authenticationmethods": "publickey,keyboard-interactive" if spec.two_factor_ssh else "any",
    }
    out = []
    for line in stock("/probes/sshd-T.txt").splitlines():
        key = line.split(" ", 1)[0]
        out.append(f"{key} {values[key]}" if key in values else line)
        if line == "hostkey /etc/ssh/ssh_host_ed25519_key":  # servconf.c prints AllowGroups next
            out += [f"allowgroups {g}" for g in allow_groups(spec)]
    return "\n".join(out) + "\n"


def add_sshd(spec: Spec) -> None:
    spec.kaku("/etc/ssh/sshd_config")
    spec.add("/etc/ssh/sshd_config.d/10-kaku-hardening.conf", sshd_dropin(spec))
    spec.probe("sshd-T", sshd_t(spec))


def add_pam(spec: Spec) -> None:
    for name in (
        "common-auth",
        "common-account",
        "common-password",
        "common-session",
        "common-session-noninteractive",
    ):
        spec.kaku(f"/etc/pam.d/{name}")
    for name in ("su", "sudo", "other", "passwd", "cron"):
        spec.stock(f"/etc/pam.d/{name}")
    login = stock("/etc/pam.d/login")
    unix = "# Standard Un*x authentication.\n@include common-auth"
    if spec.smartcard:
        login = edit(login, (unix, SMARTCARD.format("       ", "   ") + unix))
    spec.add("/etc/pam.d/login", login, mtime=STANDARD if spec.smartcard else spec.built)
    sshd = stock("/etc/pam.d/sshd")
    if spec.two_factor_ssh:
        sshd = edit(
            sshd,
            (
                unix,
                "# 架空区基盤標準: SSHは公開鍵 + ワンタイムパスワード。パスワードは使わない。\n"
                "#@include common-auth\n"
                "auth       required     pam_google_authenticator.so",
            ),
        )
    spec.add("/etc/pam.d/sshd", sshd, mtime=STANDARD if spec.two_factor_ssh else spec.built)
    if spec.terminal:
        gdm = edit(
            stock("/etc/pam.d/gdm-password"),
            (
                "session required        pam_limits.so",
                "session required        pam_limits.so\nsession optional        pam_lastlog.so silent",
            ),
        )
        if spec.smartcard:
            gdm = edit(
                gdm, ("@include common-auth", SMARTCARD.format("    ", "        ") + "@include common-auth")
            )
        spec.add("/etc/pam.d/gdm-password", gdm)
        spec.stock("/etc/pam.d/gdm-launch-environment")
    spec.kaku("/etc/security/pwquality.conf")
    spec.kaku("/etc/security/faillock.conf")
    spec.kaku("/etc/login.defs")
