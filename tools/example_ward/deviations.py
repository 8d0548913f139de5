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

from .model import WARD, Spec, stock, ts

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


def edited(text: str, change: dict[str, Any], who: str) -> str:
    """Apply a change's edits; an old text not found means the baseline moved under it, so stop."""
    for e in change.get("edits", []):
        if e["old"] not in text:
            raise SystemExit(f"{who}: {e['old']!r} not found in {change.get('path', change.get('name'))}")
        text = text.replace(e["old"], e["new"], 1)
    return text


def apply(devs: list[dict[str, Any]], spec: Spec) -> None:
    """Apply the ``files`` and ``probes`` changes of every deviation naming this host, in file order."""
    for dev in devs:
        if spec.name in dev["hosts"]:
            who = f"deviation {dev['id']} on {spec.name}"
            for change in dev.get("files", []):
                write_file(spec, change, who)
            for change in dev.get("probes", []):
                probe = spec.probes.get(change["name"])
                if probe is None:
                    raise SystemExit(
                        f"deviation {dev['id']} on {spec.name}: no probe {change['name']!r} to change"
                    )
                probe.update({k: change[k] for k in ("stdout", "rc", "stderr") if k in change})
                probe["stdout"] = edited(probe["stdout"], change, who)


def write_file(spec: Spec, change: dict[str, Any], who: str) -> None:
    """Write one file of a deviation: given content, a stock file or the built one, then its edits."""
    path, built = change["path"], spec.files.get(change["path"])
    if "content" in change:
        text = change["content"]
    elif "stock" in change:
        text = stock(change["stock"])
    elif built is not None:
        text = built["content"]
    else:
        raise SystemExit(f"{who}: {path} is not on the host; give its content or a stock file")
    if "mtime" in change:
        mtime = ts(datetime.fromisoformat(change["mtime"]))
    elif built is not None:
        mtime = built["mtime"]
    else:
        raise SystemExit(f"{who}: {path} is new; give its mtime")
    mode = change.get("mode", built["mode"] if built else "0644")
    spec.add(path, edited(text, change, who), mode=mode)
    spec.files[path]["mtime"] = mtime
