"""Signing keys: kijun keygen, the fingerprint ssh-keygen prints, and keys that kijun refuses."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from scanner import keys

from .ward import kijun, make_keys


def test_keygen_writes_a_private_key_only_its_owner_can_read(tmp_path: Path) -> None:
    private, public = make_keys(tmp_path, "mynumber")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert public.read_text("ascii").startswith("ssh-ed25519 ")
    assert b"PRIVATE KEY" in private.read_bytes()
    assert b"PRIVATE" not in public.read_bytes()


def test_keygen_never_overwrites_a_key(tmp_path: Path) -> None:
    private, _ = make_keys(tmp_path, "lgwan")
    before = private.read_bytes()
    result = kijun("keygen", "--out", private)
    assert result.exit_code == 2
    assert "already exists" in result.output
    assert private.read_bytes() == before


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (openssh-client) is not installed")
def test_the_fingerprint_is_the_one_ssh_keygen_prints(tmp_path: Path) -> None:
    _, public = make_keys(tmp_path, "internet")
    printed = subprocess.run(["ssh-keygen", "-lf", str(public)], capture_output=True, text=True, check=True)
    assert printed.stdout.split()[1] == keys.fingerprint(keys.load_public(public))


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (openssh-client) is not installed")
def test_an_openssh_ed25519_key_from_ssh_keygen_signs(tmp_path: Path) -> None:
    path = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    private = keys.load_private(path)
    public = keys.load_public(path.with_name("id_ed25519.pub"))
    public.verify(private.sign(b"manifest"), b"manifest")  # raises when the pair does not match


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (openssh-client) is not installed")
def test_a_key_that_is_not_ed25519_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "id_rsa"
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(path)], check=True)
    with pytest.raises(keys.KeyFileError, match="not an ed25519 key"):
        keys.load_private(path)
    with pytest.raises(keys.KeyFileError, match="not an ed25519 key"):
        keys.load_public(path.with_name("id_rsa.pub"))


def test_a_passphrase_protects_the_private_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(keys.PASSPHRASE_ENV, "合言葉-2026")
    private, _ = keys.generate(tmp_path / "audit.key")
    assert b"ENCRYPTED" in private.read_bytes()
    keys.load_private(private)
    monkeypatch.delenv(keys.PASSPHRASE_ENV)
    with pytest.raises(keys.KeyFileError, match="not a readable private key"):
        keys.load_private(private)
