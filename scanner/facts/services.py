"""Facts of subject 'services' (systemd units), and the probe and systemctl readers other subjects share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scanner.facts import Context, Subject
from scanner.rawfacts import RawFacts

# list-unit-files states that say whether the unit starts at boot; others (static, indirect,
# generated, alias, transient, bad) do not answer the question, so enabled is null for them.
_ENABLED = {"enabled": True, "enabled-runtime": True, "linked": True, "linked-runtime": True}
_DISABLED = {"disabled": False, "masked": False, "masked-runtime": False}


@dataclass(frozen=True)
class Unit:
    """One line of ``systemctl list-units``."""

    name: str
    load: str
    active: str
    sub: str


def probe_text(raw: RawFacts, name: str) -> str | None:
    """Return a probe's stdout when it ran and succeeded (None when not collected or failed)."""
    item = raw.probe(name)
    if item is None or not item.exists or item.rc not in (0, None):
        return None
    return item.text


def table(text: str, width: int, what: str, skip: tuple[str, ...] = ()) -> list[list[str]]:
    """Return the whitespace-split fields of each non-blank line, a leading word in ``skip`` dropped.

    A line with fewer than ``width`` fields is not the command's output: ValueError names it.

    >>> table("ssh.service loaded active running\\n\\n", 4, "systemctl list-units")
    [['ssh.service', 'loaded', 'active', 'running']]
    """
    out: list[list[str]] = []
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] in skip:
            fields = fields[1:]
        if not fields:
            continue
        if len(fields) < width:
            raise ValueError(f"{what}: unexpected line {line!r}")
        out.append(fields)
    return out


def probe_failed(raw: RawFacts, name: str) -> bool:
    """Return whether a probe was collected but exited non-zero."""
    item = raw.probe(name)
    return item is not None and item.rc not in (0, None)


def units(raw: RawFacts) -> dict[str, Unit] | None:
    """Parse ``systemctl list-units --plain --no-legend`` (None when not collected or failed)."""
    text = probe_text(raw, "systemctl-units")
    if text is None:
        return None
    # bullets appear without --plain; accept both
    rows = table(text, 4, "systemctl list-units", skip=("●", "*"))
    return {fields[0]: Unit(fields[0], fields[1], fields[2], fields[3]) for fields in rows}


def unit_files(raw: RawFacts) -> dict[str, str] | None:
    """Parse ``systemctl list-unit-files`` into {unit: state} (None when not collected or failed)."""
    text = probe_text(raw, "systemctl-unit-files")
    if text is None:
        return None
    return {fields[0]: fields[1] for fields in table(text, 2, "systemctl list-unit-files")}


def any_active(raw: RawFacts, *names: str) -> bool | None:
    """Return whether any named unit is active (None when the unit list is not available)."""
    listed = units(raw)
    if listed is None:
        return None
    return any(listed[n].active == "active" for n in names if n in listed)


def _enabled(state: str | None) -> bool | None:
    if state is None:
        return None
    return _ENABLED.get(state, _DISABLED.get(state))


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return ``{unit: {active, sub, enabled}}`` for every service systemd knows."""
    listed = units(raw)
    if listed is None:
        return {}
    files = unit_files(raw)
    out: dict[str, Any] = {}
    for unit in listed.values():
        if unit.name.endswith(".service"):
            state = files.get(unit.name) if files is not None else None
            out[unit.name.removesuffix(".service")] = {
                "active": unit.active == "active",
                "sub": unit.sub,
                "enabled": _enabled(state),
            }
    # An installed service that is not loaded does not show in list-units: it is not running.
    for name, state in (files or {}).items():
        key = name.removesuffix(".service")
        if name.endswith(".service") and not name.endswith("@.service") and key not in out:
            out[key] = {"active": False, "sub": "dead", "enabled": _enabled(state)}
    return out


SUBJECT = Subject(
    name="services",
    parse=parse,
    probes=("systemctl-units", "systemctl-unit-files"),
)
