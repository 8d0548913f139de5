"""The snapshot transport: raw facts from JSON, validated with file:line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner.collect import CollectError, Plan
from scanner.collect.snapshot import collect, load
from scanner.errors import LoadError
from scanner.inventory import Host
from scanner.rawfacts import build_raw


def _write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False))
    return path


def _raw_doc() -> dict[str, object]:
    raw = build_raw(
        host="www01",
        files={"/etc/ssh/sshd_config": "PermitRootLogin no\n"},
        absent=["/etc/chrony.conf"],
        stats={"/var/log/syslog": {"mode": "0640", "mtime": 1_700_000_000}},
        probes={"ss-listen": "tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n"},
    )
    return raw.to_json()


def test_load_round_trip(tmp_path: Path) -> None:
    doc = _raw_doc()
    raw = load(_write(tmp_path / "www01.json", doc), "www01")
    assert raw.to_json() == doc
    item = raw.file("/etc/ssh/sshd_config")
    assert item is not None and item.text == "PermitRootLogin no\n"


def test_host_mismatch_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.json", _raw_doc())
    with pytest.raises(LoadError) as info:
        load(path, "db01")
    assert str(info.value) == f"{path}:2: snapshot is of host 'www01', not 'db01'"


def test_schema_errors_name_the_line(tmp_path: Path) -> None:
    doc = _raw_doc()
    doc["items"]["file:/etc/ssh/sshd_config"]["mode"] = "rwxr-xr-x"  # type: ignore[index]
    path = _write(tmp_path / "x.json", doc)
    text = path.read_text().split("\n")
    line = next(i for i, t in enumerate(text, 1) if "rwxr-xr-x" in t)
    with pytest.raises(LoadError, match=rf"^{path}:{line}: .*mode.*does not match"):
        load(path)


def test_syntax_and_consistency_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"host": "a",\n "items": }')
    with pytest.raises(LoadError, match=rf"^{bad}:2: JSON"):
        load(bad)
    doc = _raw_doc()
    items = doc["items"]
    assert isinstance(items, dict)
    items["file:/etc/other"] = items.pop("file:/etc/ssh/sshd_config")
    with pytest.raises(LoadError, match="does not match its kind/path"):
        load(_write(tmp_path / "ids.json", doc))
    doc = _raw_doc()
    doc["extra"] = 1
    with pytest.raises(LoadError, match="extra"):
        load(_write(tmp_path / "extra.json", doc))


def test_collect_turns_load_errors_into_host_errors(tmp_path: Path) -> None:
    path = _write(tmp_path / "www01.json", _raw_doc())
    host = Host(name="www02", zone="dc", role="server", transport="snapshot", snapshot=str(path))
    with pytest.raises(CollectError) as info:
        collect(host, Plan(), 5)
    assert info.value.status == "error" and "not 'www02'" in info.value.message
    ok = Host(name="www01", zone="dc", role="server", transport="snapshot", snapshot=str(path))
    assert collect(ok, Plan(), 5).probe("ss-listen") is not None
