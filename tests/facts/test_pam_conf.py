"""libpam's reading of PAM files: line assembly, tokens, action tables, and lines it installs as failing."""

from __future__ import annotations

import pytest

from scanner.facts.pam_conf import RETURNS, assemble, parse_actions, stack, tokens
from scanner.facts.pam_run import Scenario, runs
from scanner.rawfacts import build_raw


def test_assemble_comments_and_continuations() -> None:
    text = "auth required \\\n# a comment inside\n\n  pam_unix.so nodelay\nauth requisite # pam_permit.so \\\nauth x"
    assert assemble(text) == [
        (1, "auth required  pam_unix.so nodelay"),
        (5, "auth requisite "),
        (6, "auth x"),
    ]


def test_tokens_keep_a_bracket_whole() -> None:
    assert tokens("auth [success=1 default=ignore]  pam_unix.so [a b\\]c]") == [
        "auth",
        "[success=1 default=ignore]",
        "pam_unix.so",
        "[a b]c]",
    ]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("success=1 default=ignore", {"success": "1", "auth_err": "ignore", "ignore": "ignore"}),
        ("default=die success=ok", {"success": "ok", "auth_err": "die"}),  # default fills only what is unset
        ("success=ok", {"success": "ok", "auth_err": "bad"}),  # the rest is bad
        ("success=0", {"success": "ignore"}),  # a jump of 0 is ignore
        ("success=okay", {"success": "bad"}),  # unparsable: every value bad
        ("bogus=ok", {"success": "bad"}),
        ("success = done", {"success": "done"}),
    ],
)
def test_action_tables(text: str, expected: dict[str, str]) -> None:
    table = parse_actions(text)
    assert set(table) == set(RETURNS)
    assert {k: table[k] for k in expected} == expected


def test_failing_lines_and_fallback_to_other() -> None:
    raw = build_raw(
        files={
            "/etc/pam.d/svc": "auth required\nauth include gone\nbogus required pam_permit.so\naccount required pam_permit.so\n",
            "/etc/pam.d/empty": "account required pam_permit.so\n",
            "/etc/pam.d/other": "auth sufficient pam_permit.so\n",
        },
        absent=["/etc/pam.d/gone"],
    )
    auth = stack(raw, "svc", "auth")
    assert [(h.kind, h.line) for h in auth] == [("fail", 1), ("fail", 2), ("fail", 3)]
    assert dict(auth[0].actions)["perm_denied"] == "bad"
    assert [h.module for h in stack(raw, "empty", "auth")] == ["pam_permit"]  # no auth line: other's
    assert not any(ok for ok, _ in runs(auth, Scenario(frozenset({"password"}), True)))
