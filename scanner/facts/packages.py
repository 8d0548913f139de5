"""Facts of subject 'packages': the OS release and its end of life, and pending (security) updates."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from scanner.facts import Context, Subject
from scanner.facts.services import probe_text
from scanner.facts.words import split as shell_words
from scanner.rawfacts import RawFacts

_OS_RELEASE = "/etc/os-release"
# End of (LTS) support per (ID, major version, or Ubuntu's YY.MM). Unknown releases get no os_eol.
_EOL: dict[tuple[str, str], date] = {
    ("debian", "9"): date(2022, 6, 30),
    ("debian", "10"): date(2024, 6, 30),
    ("debian", "11"): date(2026, 8, 31),
    ("debian", "12"): date(2028, 6, 30),
    ("debian", "13"): date(2030, 6, 30),
    ("ubuntu", "18.04"): date(2023, 5, 31),
    ("ubuntu", "20.04"): date(2025, 5, 31),
    ("ubuntu", "22.04"): date(2027, 4, 30),
    ("ubuntu", "24.04"): date(2029, 4, 30),
    **{(os_id, "8"): date(2029, 5, 31) for os_id in ("rhel", "rocky", "almalinux")},
    **{(os_id, "9"): date(2032, 5, 31) for os_id in ("rhel", "rocky", "almalinux")},
}
# "Inst name [old] (new Origin:release/suite, Origin2:... [arch])"; the old version is absent for new packages.
_EOL_DAY = "_eol_day"  # the end of life day (ordinal) that finish compares with the clock
_INST = re.compile(r"Inst (\S+)(?: \[[^\]]*\])? \((.*)\)")


def _os_release(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            found = shell_words(value)
            out[key.strip()] = found[0] if found else ""
    return out


def _eol_key(os_id: str, version: str) -> tuple[str, str]:
    """Return the EOL table key: Ubuntu keeps YY.MM, the others keep the major version."""
    return (os_id, version if os_id == "ubuntu" else version.split(".")[0])


def content(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return the facts of ``parse`` with, in os_eol's place, the end of life day for ``finish``."""
    out: dict[str, Any] = {}
    release = raw.file(_OS_RELEASE)
    if release is not None and release.exists:
        fields = _os_release(release.text)
        if "ID" not in fields:
            raise ValueError(f"{_OS_RELEASE}: no ID")
        out["os_id"] = fields["ID"]
        out["os_version"] = fields.get("VERSION_ID", "")
        eol = _EOL.get(_eol_key(fields["ID"], out["os_version"]))
        if eol is not None:
            out[_EOL_DAY] = eol.toordinal()
    upgrade = probe_text(raw, "apt-upgradable")
    if upgrade is not None:
        pending: list[str] = []
        security: set[str] = set()
        for line in upgrade.splitlines():
            if not line.startswith("Inst "):
                continue
            match = _INST.match(line)
            if match is None:
                raise ValueError(f"apt-get -s: unexpected line {line!r}")
            pending.append(match.group(1))
            if "-security" in match.group(2):
                security.add(match.group(1))
        out["pending_updates"] = len(pending)
        out["pending_security"] = len(security)
        out["pending_security_list"] = sorted(security)
    return out


def finish(facts: dict[str, Any], raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Put whether the release is past its end of life on the collection day in its place."""
    if _EOL_DAY not in facts:
        return facts
    today = datetime.fromisoformat(raw.collected_at).date().toordinal()
    return {("os_eol" if k == _EOL_DAY else k): (today > v if k == _EOL_DAY else v) for k, v in facts.items()}


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return ``os_id, os_version, os_eol, pending_updates, pending_security, pending_security_list``."""
    return finish(content(raw, ctx), raw, ctx)


SUBJECT = Subject(
    name="packages",
    parse=parse,
    files=(_OS_RELEASE,),
    probes=("apt-upgradable",),
    content=content,
    finish=finish,
)
