"""Own the ed25519 signing keys: generate, store, load, and name them by fingerprint.

The private key is a PKCS#8 PEM file readable by its owner only; the public key is one OpenSSH
line (``ssh-ed25519 AAAA... kijun``) so that ``ssh-keygen -lf key.pub`` prints the same
fingerprint kijun records. Only the public key and its fingerprint ever enter a report.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from scanner import safeio
from scanner.errors import LoadError

PASSPHRASE_ENV = "KIJUN_SIGN_PASSPHRASE"


class KeyFileError(ValueError):
    """A key file that cannot be read or is not an ed25519 key."""


def generate(path: Path, comment: str = "kijun") -> tuple[Path, Path]:
    """Write a new private key (mode 0600) and ``<path>.pub``; refuse to overwrite either.

    >>> private, public = generate(Path("kijun-mynumber.key"))  # doctest: +SKIP
    """
    public_path = path.with_name(path.name + ".pub")
    for target in (path, public_path):
        if target.exists():
            raise KeyFileError(f"{target}: already exists (kijun never overwrites a key)")
    key = Ed25519PrivateKey.generate()
    passphrase = os.environ.get(PASSPHRASE_ENV, "").encode()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public_path.write_text(public_line(key.public_key(), comment) + "\n", "ascii")
    return path, public_path


def load_private(path: Path) -> Ed25519PrivateKey:
    """Load a private ed25519 key (PEM or OpenSSH; passphrase from $KIJUN_SIGN_PASSPHRASE)."""
    try:
        data = safeio.read_bytes(path)
    except LoadError as exc:
        raise KeyFileError(str(exc)) from None
    passphrase = os.environ.get(PASSPHRASE_ENV, "").encode() or None
    key: object
    try:
        if data.lstrip().startswith(b"-----BEGIN OPENSSH PRIVATE KEY"):
            key = serialization.load_ssh_private_key(data, passphrase)
        else:
            key = serialization.load_pem_private_key(data, passphrase)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFileError(f"{path}: not a readable private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an ed25519 key")
    return key


def parse_public(text: str, where: str = "public key") -> Ed25519PublicKey:
    """Parse a public key from an OpenSSH line or a PEM block."""
    data = text.strip().encode()
    key: object
    try:
        if data.startswith(b"ssh-"):
            key = serialization.load_ssh_public_key(b" ".join(data.split()[:2]))
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyFileError(f"{where}: not a readable public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{where}: not an ed25519 key")
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    """Load a public key file (``.pub`` line or PEM)."""
    try:
        return parse_public(safeio.read_bytes(path).decode("ascii"), str(path))
    except LoadError as exc:
        raise KeyFileError(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise KeyFileError(f"{path}: cannot read ({exc})") from None


def public_line(key: Ed25519PublicKey, comment: str = "kijun") -> str:
    """Return the OpenSSH one-line form of a public key."""
    raw = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return f"{raw} {comment}".strip()


def fingerprint(key: Ed25519PublicKey) -> str:
    """Return the key's fingerprint as ``ssh-keygen -l`` prints it (``SHA256:`` base64, unpadded)."""
    blob = base64.b64decode(public_line(key, "").split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
