"""Test helpers shared by tests/evidence, tests/history and tests/workbooks: the example ward and the CLI."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from scanner.cli import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "inventories" / "example-ward"
AS_OF = "2026-11-20"  # the nightly scan of the example ward: one waiver in force, one lapsed


def copy_ward(tmp: Path) -> Path:
    """Copy the example ward (inventory, snapshots, waivers) so a test may change its snapshots."""
    ward = tmp / "ward"
    ward.mkdir()
    shutil.copy(EXAMPLE / "inventory.yaml", ward / "inventory.yaml")
    for folder in ("snapshots", "waivers"):
        shutil.copytree(EXAMPLE / folder, ward / folder)
    return ward


def kijun(*args: str | Path) -> Result:
    """Run the kijun CLI in-process and return click's result (exit code, output)."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def scan(ward: Path, out: Path, *extra: str | Path) -> Path:
    """Scan a ward into ``out`` and return the new run folder."""
    result = kijun("scan", ward, "--out", out, "--quiet", "--as-of", AS_OF, *extra)
    assert result.exit_code in (0, 1, 3), result.output
    found = re.search(r"^report: (.+)$", result.output, re.MULTILINE)
    assert found, result.output
    return Path(found.group(1))


def set_root_login(ward: Path, host: str, value: str) -> None:
    """Make a host's snapshot say ``PermitRootLogin <value>`` (sshd -T and every config file)."""
    path = ward / "snapshots" / f"{host}.json"
    doc = json.loads(path.read_text("utf-8"))
    for item in doc["items"].values():
        for key in ("stdout", "content"):
            if isinstance(item.get(key), str) and item.get("encoding") != "base64":
                text = re.sub(r"(?mi)^(permitrootlogin)\s+\S+", lambda m: f"{m.group(1)} {value}", item[key])
                data = text.encode("utf-8")
                item.update({key: text, "sha256": hashlib.sha256(data).hexdigest()})
                if "size" in item:
                    item["size"] = len(data)
    for item_id in [i for i in doc["items"] if i.startswith("file:/etc/ssh/sshd_config.d/0")]:
        del doc["items"][item_id]  # the vendor drop-in that sorts first would otherwise win
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), "utf-8")


def make_keys(tmp: Path, name: str) -> tuple[Path, Path]:
    """Generate a signing key pair with ``kijun keygen``."""
    result = kijun("keygen", "--out", tmp / "keys" / f"{name}.key")
    assert result.exit_code == 0, result.output
    return tmp / "keys" / f"{name}.key", tmp / "keys" / f"{name}.key.pub"
