"""Parser tests for subject 'rsyslog' on the Debian 12 rsyslog.conf plus forwarding drop-ins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scanner.facts import Context
from scanner.facts.rsyslog import parse
from scanner.inventory import local_host
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "rsyslog"
INV = local_host()
CTX = Context(INV.hosts[0], INV)
DEBIAN = (OUT / "rsyslog.conf").read_text()
PLAIN = {"authmode": "", "authenticated": False}


def _facts(main: str = DEBIAN, **dropins: str) -> dict[str, Any]:
    files = {"/etc/rsyslog.conf": main, **{f"/etc/rsyslog.d/{k}": v for k, v in dropins.items()}}
    return parse(build_raw(files=files), CTX)


def test_debian_default_does_not_forward() -> None:
    assert _facts() == {
        "_origins": {},
        "installed": True,
        "forwards": [],
        "forwarding": False,
        "forward_tls": False,
        "forward_tls_authenticated": False,
        "file_create_mode": "0640",
    }


def test_rainerscript_tls_forward() -> None:
    facts = _facts(**{"50-forward.conf": (OUT / "forward-tls.conf").read_text()})
    assert facts["forwards"] == [
        {
            "target": "log1.lgwan.example.lg.jp",
            "port": 6514,
            "protocol": "tcp",
            "tls": True,
            "authmode": "x509/name",
            "authenticated": True,
        }
    ]
    assert facts["forward_tls"] is True and facts["forward_tls_authenticated"] is True


def test_legacy_forwards_without_tls() -> None:
    facts = _facts(**{"60-legacy.conf": (OUT / "forward-legacy.conf").read_text()})
    assert facts["forwards"] == [
        {"target": "old-collector.example.lg.jp", "port": 10514, "protocol": "tcp", "tls": False, **PLAIN},
        {"target": "192.0.2.50", "port": 514, "protocol": "udp", "tls": False, **PLAIN},
    ]
    assert facts["forwarding"] is True
    assert facts["forward_tls"] is False


def test_one_plain_forward_spoils_forward_tls() -> None:
    facts = _facts(
        **{
            "50-forward.conf": (OUT / "forward-tls.conf").read_text(),
            "60-legacy.conf": (OUT / "forward-legacy.conf").read_text(),
        }
    )
    assert len(facts["forwards"]) == 3
    assert facts["forward_tls"] is False


def test_relp_with_tls() -> None:
    facts = _facts(**{"relp.conf": (OUT / "relp.conf").read_text()})
    assert facts["forwards"] == [
        {
            "target": "10.30.0.5",
            "port": 2514,
            "protocol": "relp",
            "tls": True,
            "authmode": "anon",  # no tls.authMode: librelp authenticates no one
            "authenticated": False,
        }
    ]
    named = (
        (OUT / "relp.conf")
        .read_text()
        .replace('tls="on"', 'tls="on" tls.authMode="name" tls.permittedPeer=["log"]')
    )
    assert _facts(**{"relp.conf": named})["forward_tls_authenticated"] is True


def test_legacy_tls_directives_apply_to_following_actions() -> None:
    conf = (
        "$DefaultNetstreamDriver gtls\n"
        "$ActionSendStreamDriverMode 1\n"
        "$ActionSendStreamDriverAuthMode x509/name\n"
        "*.* @@(o)log1.example.lg.jp:6514\n"
        "*.* @log2.example.lg.jp\n"
        ":omrelp:10.0.0.9:2514;RSYSLOG_ForwardFormat\n"
    )
    facts = _facts(**{"tls.conf": conf})
    assert [f["tls"] for f in facts["forwards"]] == [True, False, False]  # UDP and legacy RELP never TLS
    assert [f["authenticated"] for f in facts["forwards"]] == [True, False, False]
    assert facts["forwards"][0]["target"] == "log1.example.lg.jp"
    assert facts["forwards"][2]["protocol"] == "relp"


def test_only_included_files_count() -> None:
    # rsyslog reads /etc/rsyslog.d/*.conf only; a .conf.disabled file stays off
    facts = _facts(**{"forward.conf.disabled": "*.* @@log1:514\n"})
    assert facts["forwarding"] is False


def test_hash_inside_quotes_is_not_a_comment_and_templates_are_not_forwards() -> None:
    conf = 'template(name="t" type="string" string="#%HOSTNAME% @x")\n*.* action(type="omfwd" target="h#1" protocol="udp")\n'
    facts = _facts(**{"t.conf": conf})
    assert facts["forwards"] == [{"target": "h#1", "port": 514, "protocol": "udp", "tls": False, **PLAIN}]


def test_file_create_mode_default_when_unset() -> None:
    assert _facts(main="*.* /var/log/all.log\n")["file_create_mode"] == "0644"


def test_not_installed_and_not_collected() -> None:
    assert parse(build_raw(absent=["/etc/rsyslog.conf"]), CTX)["installed"] is False
    assert parse(build_raw(), CTX) == {}


def test_unterminated_object_raises() -> None:
    with pytest.raises(ValueError, match="unterminated"):
        _facts(main='action(type="omfwd" target="x"\n')


@pytest.mark.parametrize(
    ("options", "authenticated"),
    [
        ("", False),  # the default is anon: encrypted to whoever answers
        ('StreamDriverAuthMode="anon"', False),
        ('StreamDriverAuthMode="x509/name"', True),
        ('StreamDriver.AuthMode="x509/name"', True),
        ('StreamDriverAuthMode="x509/certvalid"', False),  # any certificate of the CA, no name
        ('StreamDriverAuthMode="x509/certvalid" StreamDriverPermittedPeers="log1.example.lg.jp"', True),
        ('StreamDriverAuthMode="x509/fingerprint"', False),
        (
            'StreamDriverAuthMode="x509/fingerprint" StreamDriverPermittedPeers="SHA1:AA:BB"',
            True,
        ),
    ],
)
def test_tls_forward_authenticates_the_peer(options: str, authenticated: bool) -> None:
    conf = f'action(type="omfwd" target="log1.example.lg.jp" port="6514" protocol="tcp" StreamDriver="gtls" StreamDriverMode="1" {options})\n'
    facts = _facts(**{"fwd.conf": conf})
    assert facts["forward_tls"] is True
    assert facts["forwards"][0]["authenticated"] is authenticated
    assert facts["forward_tls_authenticated"] is authenticated


def test_legacy_permitted_peer_directive() -> None:
    conf = (
        "$DefaultNetstreamDriver gtls\n$ActionSendStreamDriverMode 1\n"
        "$ActionSendStreamDriverAuthMode x509/certvalid\n$ActionSendStreamDriverPermittedPeer log1.example.lg.jp\n"
        "*.* @@log1.example.lg.jp:6514\n"
    )
    assert _facts(**{"tls.conf": conf})["forward_tls_authenticated"] is True


def test_omfwd_refuses_a_list_of_permitted_peers() -> None:
    # rsyslogd 8.2302: "parameter 'streamdriverpermittedpeers' is not a string": the action is dropped
    conf = 'action(type="omfwd" target="a" protocol="tcp" StreamDriverPermittedPeers=["a", "b"])\n'
    assert _facts(**{"fwd.conf": conf})["forwards"] == []


def test_default_driver_set_after_the_action_still_applies() -> None:
    conf = 'action(type="omfwd" target="a" protocol="tcp" StreamDriverMode="1")\nglobal(DefaultNetstreamDriver="gtls")\n'
    assert _facts(**{"fwd.conf": conf})["forward_tls"] is True


def test_origins_name_the_forward_that_decided() -> None:
    conf = (
        'action(type="omfwd" target="a" protocol="tcp" StreamDriver="gtls" StreamDriverMode="1"\n'
        '       StreamDriverAuthMode="x509/name")\n'
        "# legacy\n"
        "*.* @@b:6514\n"
    )
    origins = _facts(**{"fwd.conf": conf})["_origins"]
    assert origins["forwarding"] == {"file": "/etc/rsyslog.d/fwd.conf", "line": 1}
    assert origins["forward_tls_authenticated"] == {"file": "/etc/rsyslog.d/fwd.conf", "line": 4}
