"""Data tables of the sshd parser: OpenSSH 9.2p1 (Debian 12) keywords, defaults, value spellings and list semantics."""

from __future__ import annotations

from typing import Any


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# fmt: off
# Default and supported algorithm lists of OpenSSH 9.2p1 (Debian 12), as `sshd -T` / `ssh -Q` print them.
ALGOS: dict[str, tuple[str, str]] = {
    "ciphers": (
        "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
        "3des-cbc,aes128-cbc,aes192-cbc,aes256-cbc,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,"
        "aes256-gcm@openssh.com,chacha20-poly1305@openssh.com",
    ),
    "macs": (
        "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
        "hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
        "hmac-sha1,hmac-sha1-96,hmac-sha2-256,hmac-sha2-512,hmac-md5,hmac-md5-96,umac-64@openssh.com,umac-128@openssh.com,"
        "hmac-sha1-etm@openssh.com,hmac-sha1-96-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
        "hmac-md5-etm@openssh.com,hmac-md5-96-etm@openssh.com,umac-64-etm@openssh.com,umac-128-etm@openssh.com",
    ),
    "kexalgorithms": (
        "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,"
        "ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,"
        "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256",
        "diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,diffie-hellman-group14-sha256,diffie-hellman-group16-sha512,"
        "diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha1,diffie-hellman-group-exchange-sha256,"
        "ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,curve25519-sha256,curve25519-sha256@libssh.org,"
        "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com",
    ),
}
DEFAULTS: dict[str, Any] = {
    "port": ["22"], "addressfamily": "any", "permitrootlogin": "prohibit-password",
    "passwordauthentication": "yes", "kbdinteractiveauthentication": "yes", "pubkeyauthentication": "yes",
    "permitemptypasswords": "no", "usepam": "no", "authenticationmethods": ["any"], "maxauthtries": "6",
    "clientaliveinterval": "0", "clientalivecountmax": "3", "logingracetime": "120", "x11forwarding": "no",
    "allowtcpforwarding": "yes", "loglevel": "INFO", "syslogfacility": "AUTH",
    "allowusers": [], "allowgroups": [], "denyusers": [], "denygroups": [],
    **{kw: default for kw, (default, _) in ALGOS.items()},
}
ALIASES = {
    "challengeresponseauthentication": "kbdinteractiveauthentication",
    "skeyauthentication": "kbdinteractiveauthentication", "dsaauthentication": "pubkeyauthentication",
    "pubkeyacceptedkeytypes": "pubkeyacceptedalgorithms", "hostbasedacceptedkeytypes": "hostbasedacceptedalgorithms",
}
YES_NO = {"yes": "yes", "no": "no"}
FORWARD = {"yes": "yes", "all": "yes", "no": "no", "local": "local", "remote": "remote"}
# Accepted words (case-insensitive) and the canonical form `sshd -T` prints; prohibit-password is
# preferred over its legacy alias without-password, which `sshd -T` prints, in both paths.
ENUMS: dict[str, dict[str, str]] = {
    "permitrootlogin": {"yes": "yes", "no": "no", "prohibit-password": "prohibit-password",
                        "without-password": "prohibit-password", "forced-commands-only": "forced-commands-only"},
    "allowtcpforwarding": FORWARD, "allowstreamlocalforwarding": FORWARD,
    "addressfamily": {"any": "any", "inet": "inet", "inet6": "inet6"},
    "compression": {"yes": "yes", "delayed": "yes", "no": "no"},
    "gatewayports": {"yes": "yes", "no": "no", "clientspecified": "clientspecified"},
    "passwordauthentication": YES_NO, "kbdinteractiveauthentication": YES_NO, "pubkeyauthentication": YES_NO,
    "permitemptypasswords": YES_NO, "usepam": YES_NO, "x11forwarding": YES_NO,
}
# LogLevel words and what `sshd -T` prints for each (it names QUIET by its alias SILENT).
LOGLEVELS = {"QUIET": "SILENT", "SILENT": "SILENT", "DEBUG1": "DEBUG",
             **{w: w for w in ("FATAL", "ERROR", "INFO", "VERBOSE", "DEBUG", "DEBUG2", "DEBUG3")}}
FACILITIES = {"DAEMON", "USER", "AUTH", "AUTHPRIV", *(f"LOCAL{i}" for i in range(8))}
TIMES = {"logingracetime", "clientaliveinterval"}
INTS = {"maxauthtries", "clientalivecountmax", "maxsessions", "x11displayoffset"}
# Keywords whose every line adds entries (the others: the first line wins).
ACCUMULATE = {"port", "listenaddress", "allowusers", "allowgroups", "denyusers", "denygroups", "acceptenv",
               "hostkey", "hostcertificate", "subsystem"}
ONE_LINE_LISTS = {"authenticationmethods", "authorizedkeysfile", "permitopen", "permitlisten", "channeltimeout",
                   "logverbose"}
# `sshd -T` prints these one entry per line; the one-line lists space-separated on one line.
PER_LINE = ACCUMULATE | {"setenv"}
# Options that an applying Match block (`Match all`) overrides, as copy_set_server_options() does.
MATCH_OVERRIDES = {
    "passwordauthentication", "gssapiauthentication", "pubkeyauthentication", "pubkeyauthoptions",
    "kerberosauthentication", "hostbasedauthentication", "hostbasedusesnamefrompacketonly",
    "kbdinteractiveauthentication", "permitrootlogin", "permitemptypasswords", "ignorerhosts", "allowtcpforwarding",
    "allowstreamlocalforwarding", "allowagentforwarding", "disableforwarding", "exposeauthinfo", "permittunnel",
    "gatewayports", "streamlocalbindunlink", "x11displayoffset", "x11forwarding", "x11uselocalhost", "permittty",
    "permituserrc", "maxsessions", "maxauthtries", "clientalivecountmax", "clientaliveinterval", "ipqos",
    "rekeylimit", "loglevel", "requiredrsasize", "unusedconnectiontimeout", "streamlocalbindmask", "banner",
    "trustedusercakeys", "revokedkeys", "authorizedkeyscommand", "authorizedkeyscommanduser",
    "authorizedprincipalsfile", "authorizedprincipalscommand", "authorizedprincipalscommanduser",
    "hostbasedacceptedalgorithms", "pubkeyacceptedalgorithms", "casignaturealgorithms", "permituserenvironment",
    "forcecommand", "chrootdirectory", "allowusers", "denyusers", "allowgroups", "denygroups", "acceptenv", "setenv",
    *ONE_LINE_LISTS,
}

# Every keyword sshd 9.2p1 (Debian 12) knows, split by whether a Match block may hold it: found by
# asking the real sshd about each keyword in its binary and in sshd_config(5) (a keyword of the
# second set inside a Match block that does not apply is fatal at start-up; an unknown one too).
IN_MATCH = _words(
    """acceptenv allowagentforwarding allowgroups allowstreamlocalforwarding allowtcpforwarding allowusers
    authenticationmethods authorizedkeyscommand authorizedkeyscommanduser authorizedkeysfile authorizedkeysfile2
    authorizedprincipalscommand authorizedprincipalscommanduser authorizedprincipalsfile banner
    casignaturealgorithms challengeresponseauthentication channeltimeout chrootdirectory clientalivecountmax
    clientaliveinterval denygroups denyusers disableforwarding exposeauthinfo forcecommand gatewayports
    gssapiauthentication hostbasedacceptedalgorithms hostbasedacceptedkeytypes hostbasedauthentication
    hostbasedusesnamefrompacketonly ignorerhosts include ipqos kbdinteractiveauthentication kerberosauthentication
    loglevel logverbose match maxauthtries maxsessions passwordauthentication permitemptypasswords permitlisten
    permitopen permitrootlogin permittty permittunnel permituserrc pubkeyacceptedalgorithms pubkeyacceptedkeytypes
    pubkeyauthentication pubkeyauthoptions rdomain rekeylimit requiredrsasize revokedkeys rhostsrsaauthentication
    setenv skeyauthentication streamlocalbindmask streamlocalbindunlink trustedusercakeys unusedconnectiontimeout
    x11displayoffset x11forwarding x11uselocalhost"""
)
GLOBAL_ONLY = _words(
    """addressfamily afstokenpassing checkmail ciphers compression debianbanner dsaauthentication fingerprinthash
    gssapicleanupcredentials gssapicleanupcreds gssapikexalgorithms gssapikeyexchange gssapistorecredentialsonrekey
    gssapistrictacceptorcheck gssapiusesessioncredcache gssusesessionccache hostcertificate hostdsakey hostkey
    hostkeyagent hostkeyalgorithms ignoreuserknownhosts kerberosgetafstoken kerberosorlocalpasswd kerberostgtpassing
    kerberosticketcleanup kexalgorithms keyregenerationinterval listenaddress logingracetime macs maxstartups
    modulifile pamauthenticationviakbdint permitblacklistedkeys permituserenvironment persourcemaxstartups
    persourcenetblocksize pidfile port printlastlog printmotd protocol reversemappingcheck rhostsauthentication
    securitykeyprovider serverkeybits strictmodes subsystem syslogfacility tcpkeepalive usedns uselogin usepam
    useprivilegeseparation verifyreversemapping versionaddendum xauthlocation"""
)
# Authentication methods and the option that enables each ("none" needs none); sshd refuses to start
# when no AuthenticationMethods list can be completed with the enabled ones.
AUTH_METHODS: dict[str, str] = {
    "none": "", "publickey": "pubkeyauthentication", "password": "passwordauthentication",
    "keyboard-interactive": "kbdinteractiveauthentication", "hostbased": "hostbasedauthentication",
    "gssapi-with-mic": "gssapiauthentication", "gssapi-keyex": "gssapikeyexchange",
}
# The kind of factor each method proves. Password and keyboard-interactive are both something typed
# (with UsePAM, keyboard-interactive asks whatever the sshd PAM stack asks, often the same password):
# two of them in one list are one factor, as a lab host shows (tests/lab/test_mfa_lab.py).
FACTORS: dict[str, str] = {
    "none": "", "publickey": "key", "hostbased": "key", "gssapi-with-mic": "kerberos", "gssapi-keyex": "kerberos",
    "password": "typed", "keyboard-interactive": "typed",
}
MATCH_CRITERIA = frozenset({"user", "group", "host", "localaddress", "localport", "address", "rdomain"})
# fmt: on
