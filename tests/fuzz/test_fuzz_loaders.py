"""Every loader, fed mutated real files, loads or raises LoadError (file:line, exit 2), nothing else.

Inventories (kijun YAML and the CSV 台帳), waivers, zone policies and snapshots are mutated from
the example ward's own files; the snapshot loader also gets a short fuzz run of raw JSON bytes.
"""

from __future__ import annotations

import contextlib
import tempfile
from functools import cache
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from scanner.collect import snapshot
from scanner.errors import LoadError
from scanner.inventories import load
from scanner.policy import Pack, load_pack
from scanner.probes import zonefile
from scanner.waivers import load_waivers

from .mutate import mutated

REPO = Path(__file__).resolve().parents[2]
WARD = REPO / "inventories" / "example-ward"
REGISTER = REPO / "tests" / "facts" / "outputs" / "windows" / "kaku-tanmatsu-daicho.csv"
INVENTORY = (WARD / "inventory.yaml").read_text("utf-8")
WAIVER = (WARD / "waivers" / "EXC-2026-0003.yaml").read_text("utf-8")
ZONES = zonefile.default_path().read_text("utf-8")
SNAPSHOT = (WARD / "snapshots" / "bastion-01.json").read_text("utf-8")


@cache
def pack() -> Pack:
    return load_pack("base")


def attempt(name: str, text: str | bytes, load_it: object) -> None:
    """Write a file into a fresh folder and load it; LoadError is the only exception allowed."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
        with contextlib.suppress(LoadError):
            load_it(path)  # type: ignore[operator]


@given(mutated(INVENTORY))
def test_inventory_yaml(text: str) -> None:
    attempt("inventory.yaml", text, load)


@given(
    st.one_of(
        mutated(REGISTER.read_text("utf-8")), st.binary(max_size=400).map(lambda b: b"name,zone,role\n" + b)
    )
)
def test_inventory_csv(text: str | bytes) -> None:
    attempt("register.csv", text, load)


@given(mutated(WAIVER))
def test_waiver(text: str) -> None:
    def load_one(path: Path) -> None:
        load_waivers(path.parent, pack(), zones={"mynumber", "lgwan", "internet", "mgmt", "dc"})

    attempt("w.yaml", text, load_one)


@given(mutated(ZONES))
def test_zone_policy(text: str) -> None:
    attempt("zones.yaml", text, zonefile.load)


@given(mutated(SNAPSHOT))
def test_snapshot(text: str) -> None:
    attempt("bastion-01.json", text, lambda p: snapshot.load(p, "bastion-01"))


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
        max_leaves=30,
    )
)
def test_snapshot_of_any_json_shape(doc: object) -> None:
    import json

    attempt(
        "h.json",
        json.dumps({"schema": "kijun/rawfacts/v1", "host": "h", "items": doc}),
        lambda p: snapshot.load(p, "h"),
    )
