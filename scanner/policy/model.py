"""The content model: frozen checks, controls, parameters and profiles, as the engine reads them.

Nothing here reads a file; ``scanner.policy.load`` builds these records and validates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scanner.inventory import Host
from scanner.results import Severity


@dataclass(frozen=True)
class Check:
    """One technical assertion over facts."""

    id: str
    title_ja: str
    title_en: str
    condition: dict[str, Any]
    when: dict[str, Any] | None
    platform: str  # linux | windows | any
    if_missing: str
    subjects: frozenset[str]
    params_used: frozenset[str]
    file: str
    line: int


@dataclass(frozen=True)
class Setting:
    """A parameter's value and the source (article) that sets it, varied by zone and role.

    A control's default and a profile's override are both settings.
    """

    value: Any
    source: str
    by_zone: dict[str, Any] = field(default_factory=dict)
    by_role: dict[str, Any] = field(default_factory=dict)

    def value_for(self, zone: str, role: str = "") -> Any:
        """Return the value for a host: by role first, then by zone, then the plain value."""
        if role in self.by_role:
            return self.by_role[role]
        return self.by_zone.get(zone, self.value)


@dataclass(frozen=True)
class Param:
    """A control parameter: its unit and the catalog's default setting."""

    name: str
    default: Setting
    unit: str = ""

    @property
    def source(self) -> str:
        """Return the source of the catalog default."""
        return self.default.source


@dataclass(frozen=True)
class Applies:
    """Which hosts a control applies to (empty tuple = any)."""

    zones: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    classification: tuple[str, ...] = ()
    os: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)

    def matches(self, host: Host) -> bool:
        """Return whether the host falls under every selector that is set."""
        return (
            (not self.zones or host.zone in self.zones)
            and (not self.roles or host.role in self.roles)
            and (not self.classification or host.classification in self.classification)
            and (not self.os or host.os in self.os)
            and all(host.labels.get(k) == v for k, v in self.labels.items())
        )


@dataclass(frozen=True)
class Control:
    """One requirement of the 対策基準 and the checks that evidence it."""

    id: str
    area: str
    title_ja: str
    title_en: str
    severity: Severity
    applies: Applies
    params: dict[str, Param]
    checks: tuple[str, ...]
    manual: bool
    attestation_ja: str
    attestation_en: str
    guideline: str
    remediation_ja: str
    remediation_en: str
    waivable: bool
    file: str
    line: int
    level: str = "host"  # "organization": assessed once per run, not per host


@dataclass(frozen=True)
class Exclusion:
    """A scope rule: hosts matching the selector are out of scope, with the reason and citation."""

    applies: Applies
    reason: str
    citation: str


@dataclass(frozen=True)
class Profile:
    """A municipality's tailoring of the catalog."""

    name: str
    name_ja: str
    name_en: str
    overrides: dict[str, dict[str, Setting]]  # control id -> parameter -> the profile's setting
    select: tuple[str, ...]
    deselect: tuple[str, ...]
    roles: dict[str, Any]
    citations: dict[str, tuple[dict[str, str], ...]]
    fail_on: Severity
    exclusions: tuple[Exclusion, ...]
    documents: dict[str, Any]
    files: tuple[str, ...]


@dataclass(frozen=True)
class Pack:
    """Checks, controls and the profile in force, with content hashes for the run envelope."""

    checks: dict[str, Check]
    controls: dict[str, Control]
    profile: Profile
    hashes: dict[str, str]
    areas: dict[str, dict[str, str]]

    def setting_for(self, control: Control, name: str) -> Setting:
        """Return the setting in force for a parameter: the profile's, else the catalog default."""
        override = self.profile.overrides.get(control.id, {}).get(name)
        return override if override is not None else control.params[name].default

    def params_for(self, control: Control, zone: str, role: str = "") -> dict[str, dict[str, Any]]:
        """Return each parameter's value for a host's zone and role, and whose number it is (``source``)."""
        out: dict[str, dict[str, Any]] = {}
        for name in control.params:
            chosen = self.setting_for(control, name)
            out[name] = {"value": chosen.value_for(zone, role), "source": chosen.source}
        return out
