"""Facts of subject 'declared': what the inventory or asset register declares about a host, never observed on it."""

from __future__ import annotations

from typing import Any

from scanner.facts import Context, Subject
from scanner.inventory_csv import CATEGORIES, METHOD_CATEGORIES, method
from scanner.rawfacts import RawFacts


def _names(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"vars.auth.{what} must be a list of names")
    return value


def parse(raw: RawFacts, ctx: Context) -> dict[str, Any]:
    """Return ``auth_methods, auth_factors, source, reference`` from ``vars.auth`` ({} when nothing is declared).

    ``auth_factors`` are the distinct categories (knowledge, possession, inherence) the declared
    methods belong to; declared ``factors`` must agree with the methods when both are given.
    """
    auth = ctx.host.vars.get("auth")
    if auth is None:
        return {}
    if not isinstance(auth, dict):
        raise ValueError("vars.auth must be a mapping such as {methods: [face, ic_card]}")
    methods = [method(m) for m in _names(auth.get("methods", []), "methods")]
    from_methods = {METHOD_CATEGORIES[m] for m in methods}
    declared = set(_names(auth.get("factors", []), "factors"))
    unknown = sorted(declared - set(CATEGORIES))
    if unknown:
        raise ValueError(f"vars.auth.factors: unknown categories {unknown} (known: {', '.join(CATEGORIES)})")
    if methods and declared and declared != from_methods:
        raise ValueError(
            f"vars.auth declares factors {sorted(declared)} but its methods {methods} give {sorted(from_methods)}"
        )
    categories = from_methods or declared
    out: dict[str, Any] = {
        "auth_methods": methods,
        "auth_factors": [c for c in CATEGORIES if c in categories],
        "source": str(auth.get("source", "inventory")),
    }
    if auth.get("reference"):
        out["reference"] = str(auth["reference"])
    return out


SUBJECT = Subject(name="declared", parse=parse)
