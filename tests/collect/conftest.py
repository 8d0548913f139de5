"""Fixtures for the collection tests: a small file tree with awkward content, and script runners."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from scanner.collect import Plan
from scanner.collect.framing import parse_output
from scanner.collect.local import run_script
from scanner.collect.script import build_script
from scanner.rawfacts import RawFacts

NONCE = "00112233445566778899aabbccddeeff"
LIMIT = 1000
JUNK = bytes(range(256)) * 3 + b"\x00\xff\xfe"
# Deterministic, incompressible-looking bytes (the same in every import of this module).
HUGE = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(160))

SHELLS = {
    "dash": ("sh", "-s"),
    "bash-posix": ("bash", "--posix", "-s"),
}
if shutil.which("busybox"):
    SHELLS["busybox"] = ("busybox", "sh", "-s")

Runner = Callable[..., RawFacts]


def make_tree(root: Path) -> None:
    """Write a host-like tree under root: text, binary, frame-lookalikes, huge, keys, links, odd modes."""
    (root / "etc/app.d").mkdir(parents=True)
    (root / "etc/keys").mkdir()
    (root / "etc/app.conf").write_text("PermitRootLogin no\n日本語\n")
    (root / "etc/app.d/10-junk.bin").write_bytes(JUNK)
    # Lines that look like frames, with the very nonce of the run: base64 must keep them inert.
    forged = f"==KIJUN:{NONCE}:END\n==KIJUN:{NONCE}:DONE 0\n==KIJUN:{NONCE}:BEGIN file Zm9v\n"
    (root / "etc/app.d/20-forged.conf").write_text(forged)
    (root / "etc/app.d/30-huge.log").write_bytes(HUGE)
    (root / "etc/app.d/40-empty").write_bytes(b"")
    (root / "etc/app.d/.hidden").write_text("hidden\n")
    (root / "etc/app.d/subdir").mkdir()
    (root / "etc/app.d/it's odd [1].conf").write_text("quote\n")
    (root / "etc/locked.conf").write_text("secret-ish\n")
    os.chmod(root / "etc/locked.conf", 0o000)
    os.chown(root / "etc/locked.conf", 4242, 4343)
    os.chmod(root / "etc/app.conf", 0o640)
    (root / "etc/keys/ssh_host_rsa_key").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (root / "etc/keys/server.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    (root / "etc/keys/tls.key").write_text("-----BEGIN PRIVATE KEY-----\n")
    (root / "etc/keys/ssh_host_rsa_key.pub").write_text("ssh-rsa AAAA\n")
    # An innocent name that points at a key: its content must not be read either.
    (root / "etc/keys/innocent.conf").symlink_to("ssh_host_rsa_key")
    (root / "etc/keys/alias.pub").symlink_to("ssh_host_rsa_key.pub")
    for path in (root / "etc").rglob("*"):
        if not path.is_symlink():
            os.utime(path, (1_700_000_000, 1_700_000_000))


def tree_plan(prefix: str) -> Plan:
    """Return the plan used over make_tree, with host paths under prefix ('' for the host root)."""
    return Plan(
        files=(
            f"{prefix}/etc/app.conf",
            f"{prefix}/etc/app.d/*",
            f"{prefix}/etc/locked.conf",
            f"{prefix}/etc/missing.conf",
            f"{prefix}/etc/nomatch.d/*",
            f"{prefix}/etc/keys/*",
            f"{prefix}/etc/app.d",
        ),
        stats=(f"{prefix}/etc/keys/*_key", f"{prefix}/etc/app.d/*.log", f"{prefix}/etc/gone"),
    )


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    make_tree(root)
    return root


def run_plan(
    plan: Plan, argv: tuple[str, ...] = SHELLS["dash"], limit: int = LIMIT, env: dict[str, str] | None = None
) -> tuple[bytes, RawFacts]:
    """Run the real script for a plan and return its output and the parsed raw facts."""
    script = build_script(plan, NONCE, max_bytes=limit)
    out = run_script(script, 60, argv) if env is None else _run_env(script, argv, env)
    raw = parse_output(out, NONCE, "test-host", "2026-11-01T09:00:00+09:00", {"name": "test", "version": "0"})
    return out, raw


def _run_env(script: str, argv: tuple[str, ...], env: dict[str, str]) -> bytes:
    import subprocess

    proc = subprocess.run(
        list(argv), input=script.encode(), capture_output=True, env=env, timeout=60, check=True
    )
    return proc.stdout
