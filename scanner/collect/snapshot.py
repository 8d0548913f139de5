"""The snapshot transport: raw facts read from a JSON file, validated against rawfacts.schema.json."""

from __future__ import annotations

import binascii
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from scanner import safeio
from scanner.collect import rawcheck
from scanner.collect.plan import CollectError, Plan
from scanner.errors import LoadError
from scanner.inventory import Host
from scanner.rawfacts import RawFacts
from scanner.safeio import SNAPSHOT_LIMIT
from scanner.yamlsrc import line_at, load_yaml, schema, validate


@cache
def _validator() -> jsonschema.Draft202012Validator:
    """Return the raw-facts validator, compiled once per process (it runs once per host)."""
    return jsonschema.Draft202012Validator(schema("rawfacts"))


def _line(path: Path, steps: list[str | int]) -> int | None:
    # JSON is parsed fast and without positions; only on an error is it re-read as YAML for a line.
    try:
        return line_at(load_yaml(path, SNAPSHOT_LIMIT), steps)
    except LoadError:
        return None


def _check_ids(doc: dict[str, Any], path: Path) -> None:
    for item_id, obj in doc["items"].items():
        kind, _, name = item_id.partition(":")
        expected = obj.get("path") if kind != "probe" else name
        if kind != obj["kind"] or name != expected:
            raise LoadError(
                str(path), _line(path, ["items", item_id]), f"item {item_id!r} does not match its kind/path"
            )


def load(path: Path, host: str | None = None) -> RawFacts:
    """Load raw facts from a JSON file, raising LoadError (file:line) when invalid or for another host.

    >>> load(Path("inventories/example-ward/snapshots/www01.json"), "www01").host  # doctest: +SKIP
    'www01'
    """
    doc = safeio.loads(safeio.read_bytes(path, SNAPSHOT_LIMIT), path)  # regular files, bounded in size
    raw = rawcheck.build(doc, host)  # a valid snapshot (of depth 3) in one walk
    if raw is not None:
        return raw
    safeio.check_depth(doc, path)  # the careful path: each check says what is wrong, with a line
    if not rawcheck.valid(doc) and not _validator().is_valid(doc):  # fast path, then jsonschema
        try:
            validate(doc, "rawfacts", path)
        except LoadError as exc:
            _validate_with_lines(path)
            raise exc from None
    _check_ids(doc, path)
    if host is not None and doc["host"] != host:
        message = f"snapshot is of host {doc['host']!r}, not {host!r}"
        raise LoadError(str(path), _line(path, ["host"]), message)
    try:
        return RawFacts.from_json(doc)
    except (binascii.Error, ValueError) as exc:
        raise LoadError(str(path), None, f"bad base64 content: {exc}") from exc


def _validate_with_lines(path: Path) -> None:
    """Validate the file again as YAML (a superset of this JSON), whose errors carry a line."""
    try:
        doc = load_yaml(path, SNAPSHOT_LIMIT)
    except LoadError:
        return
    validate(doc, "rawfacts", path)


def collect(host: Host, plan: Plan, timeout: float) -> RawFacts:
    """Return the host's snapshot (all of it: items the plan does not need are simply not read)."""
    if not host.snapshot:
        raise CollectError("error", f"host {host.name}: transport snapshot needs 'snapshot'")
    try:
        return load(Path(host.snapshot), host.name)
    except LoadError as exc:
        raise CollectError("error", str(exc)) from exc
