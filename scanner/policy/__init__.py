"""Content: the model of checks, controls and profiles (``model``) and its loading (the other modules).

Everything that can be wrong in content is found while loading, before any host is touched, and
reported as ``file:line: what is wrong``. Loading runs checks → controls → profiles → pack:

- ``model``: the frozen records the engine reads (Check, Control, Param, Setting, Profile, Pack).
- ``checks``: checks/**/*.yaml and the validation of condition trees.
- ``controls``: policies/<area>.yaml, cross-checked against the checks.
- ``profiles``: policies/profiles/<name>.yaml and the profiles it extends.
- ``load``: the whole pack, with the content hashes of the run envelope.
"""

from __future__ import annotations

from scanner.policy.checks import CHECK_META, check_condition, load_checks
from scanner.policy.controls import applies_from, load_controls
from scanner.policy.load import load_pack
from scanner.policy.model import (
    Applies,
    Check,
    Control,
    Exclusion,
    Pack,
    Param,
    Profile,
    Setting,
)
from scanner.policy.profiles import load_profile, profiles_dir

__all__ = [
    "CHECK_META",
    "Applies",
    "Check",
    "Control",
    "Exclusion",
    "Pack",
    "Param",
    "Profile",
    "Setting",
    "applies_from",
    "check_condition",
    "load_checks",
    "load_controls",
    "load_pack",
    "load_profile",
    "profiles_dir",
]
