"""Parser tests for subject 'screenlock' on Debian 12 shell profiles and GNOME dconf files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scanner.facts import Context
from scanner.facts.screenlock import parse
from scanner.inventory import local_host
from scanner.rawfacts import build_raw

OUT = Path(__file__).parent / "outputs" / "screenlock"
INV = local_host()
CTX = Context(INV.hosts[0], INV)
BASE = {"/etc/profile": (OUT / "profile").read_text(), "/etc/bash.bashrc": (OUT / "bash.bashrc").read_text()}
DCONF = "/etc/dconf/db/local.d/00-screensaver"
LOCKS = "/etc/dconf/db/local.d/locks/screensaver"


def _facts(**files: str) -> dict[str, Any]:
    return parse(build_raw(files={**BASE, **files}), CTX)


def test_debian_default_has_no_lock() -> None:
    assert _facts() == {
        "tmout_seconds": None,
        "gnome_idle_delay": None,
        "gnome_lock_enabled": None,
        "idle_lock_seconds": None,
    }


def test_readonly_tmout() -> None:
    facts = _facts(**{"/etc/profile.d/tmout.sh": (OUT / "tmout.sh").read_text()})
    assert facts["tmout_seconds"] == 900
    assert facts["idle_lock_seconds"] == 900


def test_gnome_locked_settings_and_smallest_wins() -> None:
    gnome = {DCONF: (OUT / "00-screensaver").read_text(), LOCKS: (OUT / "locks-screensaver").read_text()}
    facts = _facts(**gnome)
    assert facts == {
        "tmout_seconds": None,
        "gnome_idle_delay": 600,
        "gnome_lock_enabled": True,
        "idle_lock_seconds": 630,
    }
    both = _facts(**gnome, **{"/etc/profile.d/tmout.sh": (OUT / "tmout.sh").read_text()})
    assert both["idle_lock_seconds"] == 630


def test_gnome_without_locks_is_not_enforced() -> None:
    facts = _facts(**{DCONF: (OUT / "00-screensaver").read_text()})
    assert facts["gnome_idle_delay"] == 600
    assert facts["idle_lock_seconds"] is None


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("TMOUT=600\n", None),  # not readonly: a user can unset it
        ("readonly TMOUT=300\nexport TMOUT\n", 300),
        ("declare -xr TMOUT=1200\n", 1200),
        ("typeset -r TMOUT=450\n", 450),
        ("readonly HISTFILE TMOUT\nTMOUT=600\n", None),  # readonly before any value: unset for good
        ("TMOUT=0\nreadonly TMOUT\n", None),  # 0 disables the timeout
        ("TMOUT=900; readonly TMOUT; export TMOUT\n", 900),
        ("# readonly TMOUT=60\n", None),
    ],
)
def test_tmout_forms(snippet: str, expected: int | None) -> None:
    assert _facts(**{"/etc/profile.d/z.sh": snippet})["tmout_seconds"] == expected


def test_first_readonly_wins_and_non_sh_files_are_not_sourced() -> None:
    facts = _facts(
        **{
            "/etc/profile.d/a.sh": "TMOUT=300\nreadonly TMOUT\n",
            "/etc/profile.d/b.sh": "TMOUT=3600\nreadonly TMOUT\n",
            "/etc/profile.d/c.csh": "readonly TMOUT=10\n",
        }
    )
    assert facts["tmout_seconds"] == 300


def test_bad_dconf_number_raises_and_nothing_collected() -> None:
    with pytest.raises(ValueError, match="dconf"):
        _facts(**{DCONF: "[org/gnome/desktop/session]\nidle-delay='ten minutes'\n"})
    assert parse(build_raw(), CTX) == {}
