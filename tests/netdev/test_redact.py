"""Secrets leave a device configuration before it is evidence; rules and line numbers stay."""

from __future__ import annotations

from scanner.netdev import fortios, redact

FORTI = """\
config vpn certificate local
    edit "kijun-cert"
        set password ENC AbCdEf0123456789
        set private-key "-----BEGIN ENCRYPTED PRIVATE KEY-----
MIIFHzBJBgkqhkiG9w0BBQ0wPDAbBgkqhkiG9w0BBQwwDgQI
-----END ENCRYPTED PRIVATE KEY-----"
        set certificate "-----BEGIN CERTIFICATE-----"
    next
end
config firewall policy
    edit 1
        set srcintf "any"
        set dstintf "any"
        set srcaddr "all"
        set dstaddr "all"
        set action accept
        set service "ALL"
    next
end
"""


def test_fortios_keys_are_redacted_and_policies_keep_their_lines() -> None:
    clean, changed = redact.text(FORTI)
    assert changed == 2 and "AbCdEf" not in clean and "MIIFHz" not in clean
    assert len(clean.splitlines()) == len(FORTI.splitlines())
    assert (
        "        set private-key <redacted>" in clean
        and 'set certificate "-----BEGIN CERTIFICATE-----"' in clean
    )
    rules = fortios.parse(clean, "fw", "fw").rulesets["policy"].rules
    assert [(r.id, r.line) for r in rules] == [("1", 11)]


def test_ios_and_rtx_secrets_go_and_acls_stay() -> None:
    text = (
        "enable secret 9 $9$abc\nusername ro privilege 1 secret 9 $9$def\nsnmp-server community pub RO\n"
        "crypto isakmp key sekrit address 0.0.0.0\nip access-list extended KEYS\n 10 permit tcp any host 10.0.0.1 eq 22\n"
        "ipsec ike pre-shared-key 1 text rtx-psk\npp auth myname user@isp pppoe-pw\n"
    )
    clean, changed = redact.text(text)
    assert changed == 6
    for secret in ("$9$", "pub RO", "sekrit", "rtx-psk", "pppoe-pw"):
        assert secret not in clean
    assert " 10 permit tcp any host 10.0.0.1 eq 22" in clean and "ip access-list extended KEYS" in clean
