"""Identity files are loaded once per file version for the whole scan, not once per host.

Loading an RSA key makes cryptography check it (tens to hundreds of ms of CPU); kijun loaded the
identity file for every host it logged in to. Keys here are made by the real ssh-keygen.
"""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import paramiko
import pytest

from scanner.collect import hostkeys, sshconfig

pytestmark = pytest.mark.skipif(
    shutil.which("ssh-keygen") is None, reason="needs ssh-keygen (openssh-client)"
)


def keygen(path: Path, kind: str = "rsa", passphrase: str = "") -> str:
    path.unlink(missing_ok=True)
    Path(f"{path}.pub").unlink(missing_ok=True)
    bits = ["-b", "2048"] if kind == "rsa" else []
    subprocess.run(["ssh-keygen", "-q", "-t", kind, *bits, "-N", passphrase, "-f", str(path)], check=True)
    return Path(f"{path}.pub").read_text().split()[1]


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count the real loads of key files (paramiko.PKey.from_path)."""
    calls: list[str] = []
    real = paramiko.PKey.from_path

    def counted(path: Any, passphrase: Any = None) -> Any:
        calls.append(str(path))
        return real(path, passphrase)

    monkeypatch.setattr(paramiko.PKey, "from_path", counted)
    monkeypatch.setattr(sshconfig, "_KEYS", {})
    return calls


def test_an_unchanged_key_file_is_loaded_once(tmp_path: Path, loads: list[str]) -> None:
    key = tmp_path / "id_rsa"
    keygen(key)
    first = sshconfig._key_file(str(key))
    again = sshconfig._key_file(str(key))
    assert loads == [str(key)]
    assert first[0] == again[0] == str(key)
    assert again[1] is first[1] and isinstance(first[1], paramiko.RSAKey)


def test_a_replaced_key_file_is_loaded_again(tmp_path: Path, loads: list[str]) -> None:
    key = tmp_path / "id"
    keygen(key)
    before = sshconfig._key_file(str(key))[1]
    public = keygen(key, "ed25519")  # another key (and type) in the same place
    after = sshconfig._key_file(str(key))[1]
    assert len(loads) == 2
    assert after is not before and after.get_base64() == public
    assert hostkeys.fingerprint(after) != hostkeys.fingerprint(before)


def test_an_encrypted_or_missing_key_is_named_not_kept(tmp_path: Path, loads: list[str]) -> None:
    key = tmp_path / "id_locked"
    keygen(key, "ed25519", passphrase="correct horse")
    for _ in range(2):
        label, got = sshconfig._key_file(str(key))
        assert got is None and "encrypted" in label
    label, got = sshconfig._key_file(str(tmp_path / "absent"))
    assert got is None and "unusable" in label
    assert sshconfig._KEYS == {}


def test_threads_starting_together_load_the_file_once(tmp_path: Path, loads: list[str]) -> None:
    key = tmp_path / "id_rsa"
    keygen(key)
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda _: sshconfig._key_file(str(key))[1], range(8)))
    assert loads == [str(key)]
    assert all(k is got[0] for k in got)
