"""The ward's deliberate deviations (deviations.yaml beside the inventory): read, validate, apply.

Each deviation names its hosts, the controls it breaks (with the verdict a scan gives) and why, in
Japanese and English, and says what it changes in the baseline host: ``facts`` are inputs of the
baseline model (model.Spec), read while the host is built; ``files`` and ``probes`` are applied to
the built host: a file written (its content given, or a stock file) and edited, or a probe's output
replaced or edited. Every edit must find its old text, so a baseline change cannot skip one silently.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema

from scanner.errors import LoadError
from scanner.inventory import Inventory
from scanner.yamlsrc import line_at, load_yaml

from .model import WARD, Spec, edit, stock

FILE = WARD / "deviations.yaml"
SCHEMA = Path(__file__).with_name("deviations.schema.json")
LISTS = ("people", "interfaces", "ports", "pending_security")  # facts several deviations may add to


def load(inv: Inventory, path: Path = FILE) -> list[dict[str, Any]]:
    """Return the deviations of ``path``, validated; raise LoadError (file:line) on the first problem."""
    doc = load_yaml(path)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda e: -len(e.absolute_path)
    )
    if errors:
        best = jsonschema.exceptions.best_match(errors) or errors[0]
        steps: list[str | int] = list(best.absolute_path)
        if best.validator == "additionalProperties":  # point at the first unexpected key
            steps += [k for k in best.instance if k not in best.schema.get("properties", {})][:1]
        where = "/".join(str(p) for p in steps)
        raise LoadError(str(path), line_at(doc, steps), f"{where}: {best.message[:200]}")
    known = {h.name for h in inv.hosts}
    seen: set[str] = set()
    for i, dev in enumerate(doc["deviations"]):
        if dev["id"] in seen:
            raise LoadError(str(path), line_at(doc, ["deviations", i, "id"]), f"duplicate id {dev['id']!r}")
        seen.add(dev["id"])
        for j, host in enumerate(dev["hosts"]):
            if host not in known:
                line = line_at(doc, ["deviations", i, "hosts", j])
                raise LoadError(str(path), line, f"host {host!r} is not in the inventory")
    result: list[dict[str, Any]] = doc["deviations"]
    return result


def facts_of(devs: list[dict[str, Any]], host: str) -> dict[str, Any]:
    """Merge the ``facts`` of every deviation naming ``host`` (list facts add up)."""
    out: dict[str, Any] = {}
    for dev in devs:
        if host in dev["hosts"]:
            for key, value in dev.get("facts", {}).items():
                out[key] = out.get(key, []) + value if key in LISTS else value
    return out


def pairs(change: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["old"], e["new"]) for e in change.get("edits", [])]


def apply(devs: list[dict[str, Any]], spec: Spec) -> None:
    """Apply the ``files`` and ``probes`` changes of every deviation naming this host, in file order."""
    for dev in devs:
        if spec.name not in dev["hosts"]:
            continue
        for change in dev.get("files", []):
            path = change["path"]
            if "content" in change:
                text = change["content"]
            elif "stock" in change:
                text = stock(change["stock"])
            else:
                text = spec.files[path]["content"]
            old = spec.files.get(path, {})
            mtime = datetime.fromisoformat(change["mtime"]) if "mtime" in change else None
            spec.add(path, edit(text, *pairs(change)), mode=change.get("mode", old.get("mode", "0644")))
            spec.files[path]["mtime"] = int(mtime.timestamp()) if mtime else old["mtime"]
        for change in dev.get("probes", []):
            name = change["name"]
            probe = spec.probes[name]
            for key in ("stdout", "rc", "stderr"):
                probe[key] = change.get(key, probe[key])
            probe["stdout"] = edit(probe["stdout"], *pairs(change))
