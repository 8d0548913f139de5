"""Locate the content folders (checks/, policies/, the example ward) in a checkout or a wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def content_root() -> Path:
    """Return the folder holding checks/ and policies/ (wheel copy first, then the checkout)."""
    shipped = _PACKAGE / "content"
    if (shipped / "checks").is_dir():
        return shipped
    return _PACKAGE.parent


def checks_dir() -> Path:
    return content_root() / "checks"


def policies_dir() -> Path:
    return content_root() / "policies"


def example_inventory() -> Path:
    return content_root() / "inventories" / "example-ward"


def cases_dir() -> Path:
    """Return the check cases shipped with the pack (tests/cases in a checkout)."""
    root = content_root()
    return root / "tests" / "cases"
