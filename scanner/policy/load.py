"""Load a whole content pack (checks, controls, a profile) and hash what was read for the run envelope."""

from __future__ import annotations

import hashlib
from pathlib import Path

from scanner import content
from scanner.policy.checks import load_checks
from scanner.policy.controls import load_controls
from scanner.policy.model import Pack
from scanner.policy.profiles import load_profile


def _hash_tree(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def load_pack(
    profile: str = "base", checks_root: Path | None = None, policies_root: Path | None = None
) -> Pack:
    """Load checks, controls and a profile; raise LoadError on the first problem.

    >>> pack = load_pack("bunkyo")  # doctest: +SKIP
    >>> pack.controls["LOG-02"].params["retention_days"].source  # doctest: +SKIP
    """
    checks_root = checks_root or content.checks_dir()
    policies_root = policies_root or content.policies_dir()
    checks = load_checks(checks_root)
    controls, areas = load_controls(policies_root, checks)
    prof = load_profile(profile, policies_root, controls)
    selected = {
        cid: c
        for cid, c in controls.items()
        if (not prof.select or cid in prof.select) and cid not in prof.deselect
    }
    hashes = {
        "checks": _hash_tree(list(checks_root.rglob("*.yaml"))),
        "policies": _hash_tree(list(policies_root.glob("*.yaml"))),
        "profile": _hash_tree([Path(f) for f in prof.files]),
    }
    return Pack(checks=checks, controls=selected, profile=prof, hashes=hashes, areas=areas)
