"""Own the evidence bundle of a run: envelope, manifest of sha256 digests, ed25519 signature, verify.

A run folder is the bundle. ``manifest.json`` lists every other file with its sha256 (nothing may
be added, removed or changed), ``signature.json`` holds an ed25519 signature over the exact bytes
of ``manifest.json`` with the public key and its fingerprint, and ``envelope.json`` repeats the
run envelope so that it can be read without the findings. The private key never enters a bundle.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from scanner import keys, safeio
from scanner.errors import LoadError
from scanner.rawfacts import RawFacts
from scanner.results import Run

MANIFEST = "manifest.json"
SIGNATURE = "signature.json"
ENVELOPE = "envelope.json"
RESULTS = "results.json"
UNLISTED = frozenset({MANIFEST, SIGNATURE})  # the two files that cannot list themselves


def envelope_of(run: Run) -> dict[str, Any]:
    """Return the complete run envelope: identity, who, when, scope, hashes, coverage, signature."""
    return {"schema": "kijun/envelope/v1", **run.head(), **run.envelope}


def role_titles(roles: dict[str, Any]) -> list[str]:
    """Return every role title a profile names (its own words: 統括情報セキュリティ責任者, ...)."""
    titles: list[str] = []
    for value in roles.values():
        titles += [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return list(dict.fromkeys(titles))


@cache
def scanner_digest() -> str:
    """Return a sha256 over the scanner's own code, templates and schemas (which build ran)."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(
        p for p in root.rglob("*") if p.is_file() and p.suffix in (".py", ".j2", ".json", ".sh", ".ps1")
    ):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def stamp(run: Run, key: Ed25519PrivateKey | None) -> Run:
    """Return the run with its envelope saying whether, and with which public key, it is signed."""
    if key is None:
        block: dict[str, Any] = {
            "signed": False,
            "reason": "no signing key given (--sign-key / KIJUN_SIGN_KEY)",
        }
    else:
        public = key.public_key()
        block = {
            "signed": True,
            "algorithm": "ed25519",
            "public_key": keys.public_line(public),
            "fingerprint": keys.fingerprint(public),
        }
    return dataclasses.replace(run, envelope={**run.envelope, "signature": block})


def raw_bytes(raw: RawFacts) -> bytes:
    """Serialise one host's raw facts the way the bundle stores them (stable key order)."""
    # No indent: json's C encoder then does the work (the pure-Python one was a hot spot at scale).
    # A snapshot read by scanner.collect.snapshot kept its items as parsed when they were already in
    # this form (scanner.collect.rawcheck.build): only the encoding is left to do.
    doc = raw.stored_form()
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def file_sha256(path: Path) -> str:
    """Return the sha256 of a file, read in blocks."""
    return safeio.sha256(path)


def bundle_files(folder: Path) -> list[str]:
    """Return every file and symlink under a bundle (POSIX relative paths) except manifest and signature."""
    found = (p for p in folder.rglob("*") if p.is_symlink() or not p.is_dir())
    return sorted(rel for p in found if (rel := p.relative_to(folder).as_posix()) not in UNLISTED)


def scope_of(run: Run) -> dict[str, Any]:
    """Return what makes two runs comparable: inventory, profile and host selection."""
    limit = sorted(run.envelope.get("scope", {}).get("limit", []))
    return {"inventory": run.inventory, "profile": run.profile, "limit": limit}


def manifest(folder: Path, run: Run, created_at: datetime) -> bytes:
    """Return manifest.json for a complete bundle folder: every file with its sha256 and size."""
    files = {
        rel: {"sha256": file_sha256(folder / rel), "size": (folder / rel).stat().st_size}
        for rel in bundle_files(folder)
    }
    doc = {
        "schema": "kijun/manifest/v1",
        "run_id": run.run_id,
        "created_at": created_at.isoformat(),
        "scope": scope_of(run),
        "hashes": run.envelope.get("hashes", {}),
        "files": files,
    }
    return (json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def sign(manifest_data: bytes, key: Ed25519PrivateKey) -> bytes:
    """Return signature.json: an ed25519 signature over the exact manifest bytes, with the public key."""
    public = key.public_key()
    doc = {
        "algorithm": "ed25519",
        "signed_file": MANIFEST,
        "manifest_sha256": hashlib.sha256(manifest_data).hexdigest(),
        "signature": base64.b64encode(key.sign(manifest_data)).decode(),
        "public_key": keys.public_line(public),
        "fingerprint": keys.fingerprint(public),
    }
    return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode("ascii")


@dataclass
class Verdict:
    """What verifying a bundle found; ``problems`` each start with the file they concern."""

    folder: Path
    run_id: str = ""
    files: int = 0
    signed: bool = False
    fingerprint: str = ""
    authenticated: bool = False  # the signature matched a key the caller expected
    malformed: bool = False  # the manifest is missing, unreadable or not of kijun's shape: not a run
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _read_json(folder: Path, name: str, verdict: Verdict) -> Any:
    if not (folder / name).exists():
        verdict.problems.append(f"{name}: missing")
        return None
    try:
        return safeio.load_json(folder / name, safeio.RUN_LIMIT)
    except LoadError as exc:
        verdict.problems.append(f"{name}: unreadable ({exc.message})")
    return None


def _check_signature(folder: Path, data: bytes, expected: list[Ed25519PublicKey], verdict: Verdict) -> None:
    if not (folder / SIGNATURE).exists():
        if expected:
            verdict.problems.append(
                f"{SIGNATURE}: missing: the run is unsigned, a signature by the expected key was required"
            )
        return
    doc = _read_json(folder, SIGNATURE, verdict)
    if not isinstance(doc, dict):
        return
    verdict.signed = True
    try:
        signature = base64.b64decode(str(doc["signature"]), validate=True)
        embedded = keys.parse_public(str(doc["public_key"]), SIGNATURE)
        canonical = (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode("ascii")
    except (KeyError, ValueError) as exc:
        verdict.problems.append(f"{SIGNATURE}: malformed ({exc})")
        return
    verdict.fingerprint = keys.fingerprint(embedded)
    fields = (doc.get("algorithm"), doc.get("signed_file"), doc.get("public_key"), doc.get("fingerprint"))
    if fields != ("ed25519", MANIFEST, keys.public_line(embedded), verdict.fingerprint) or (
        canonical != safeio.read_bytes(folder / SIGNATURE)
    ):
        verdict.problems.append(
            f"{SIGNATURE}: edited after signing (fields or layout are not as kijun wrote them)"
        )
        return
    wanted = [keys.fingerprint(k) for k in expected]
    if expected and verdict.fingerprint not in wanted:
        verdict.problems.append(
            f"{SIGNATURE}: signed by {verdict.fingerprint}, not by the expected key ({', '.join(wanted)})"
        )
        return
    if doc.get("manifest_sha256") != hashlib.sha256(data).hexdigest():
        verdict.problems.append(f"{MANIFEST}: changed after signing (sha256 is not the one in {SIGNATURE})")
        return
    try:
        embedded.verify(signature, data)
    except InvalidSignature:
        verdict.problems.append(f"{SIGNATURE}: the signature does not verify over {MANIFEST}")
        return
    verdict.authenticated = bool(expected)


def _check_files(folder: Path, listed: dict[str, Any], verdict: Verdict) -> None:
    present = bundle_files(folder)
    for rel in present:
        if rel not in listed:
            verdict.problems.append(f"{rel}: not listed in {MANIFEST} (added after the run)")
        elif (folder / rel).is_symlink():
            verdict.problems.append(f"{rel}: is a symlink; a bundle holds plain files only")
    for rel, entry in sorted(listed.items()):
        path = PurePosixPath(rel)
        if path.is_absolute() or ".." in path.parts or rel in UNLISTED:
            verdict.problems.append(f"{MANIFEST}: unsafe path {rel!r}")
        elif rel not in present:
            verdict.problems.append(f"{rel}: listed in {MANIFEST} but missing")
        elif not isinstance(entry, dict):
            verdict.problems.append(f"{MANIFEST}: entry of {rel!r} is not an object (not a kijun manifest)")
            verdict.malformed = True
        elif not (folder / rel).is_symlink():
            try:
                digest = file_sha256(folder / rel)
            except LoadError as exc:
                verdict.problems.append(f"{rel}: {exc.message}")
                continue
            if digest != str(entry.get("sha256", "")):
                verdict.problems.append(f"{rel}: sha256 differs from {MANIFEST} (changed after the run)")
    verdict.files = len(listed)


def _check_results(folder: Path, doc: dict[str, Any], verdict: Verdict) -> None:
    from scanner import compact

    if _read_json(folder, RESULTS, verdict) is None:
        return
    try:
        run = compact.load(folder / RESULTS)  # v3 reads envelope.json too: it may be the broken file
    except LoadError as exc:
        verdict.problems.append(_unreadable(folder, exc))
        return
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        verdict.problems.append(f"{RESULTS}: not a kijun results document ({exc})")
        return
    try:
        run.counts()  # reads every finding line once
    except LoadError as exc:
        verdict.problems.append(_unreadable(folder, exc))
        return
    except (OSError, KeyError, TypeError, ValueError) as exc:
        verdict.problems.append(f"{compact.FINDINGS}: not the findings of {RESULTS} ({exc})")
        return
    if run.run_id != doc.get("run_id"):
        verdict.problems.append(f"{RESULTS}: run id {run.run_id} is not the manifest's {doc.get('run_id')}")
    if run.envelope.get("hashes", {}) != doc.get("hashes", {}):
        verdict.problems.append(f"{RESULTS}: envelope hashes disagree with {MANIFEST}")
    if _read_json(folder, ENVELOPE, verdict) not in (None, envelope_of(run)):
        verdict.problems.append(f"{ENVELOPE}: disagrees with the envelope in {RESULTS}")
    block = run.envelope.get("signature", {})
    if bool(block.get("signed")) != verdict.signed or (
        verdict.signed and block.get("fingerprint") != verdict.fingerprint
    ):
        verdict.problems.append(
            f"{RESULTS}: envelope signature block ({block.get('fingerprint', 'unsigned')}) "
            f"disagrees with {SIGNATURE} ({verdict.fingerprint or 'absent'})"
        )
    for host in run.hosts:
        if host.assessed and host.evidence_file not in doc.get("files", {}):
            verdict.problems.append(
                f"{host.evidence_file or 'evidence/' + host.name + '.json'}: "
                f"missing raw facts of assessed host {host.name}"
            )


def _unreadable(folder: Path, exc: LoadError) -> str:
    """Say which file of the run could not be read, named as the manifest names it (relative)."""
    try:
        name = Path(exc.path).relative_to(folder).as_posix()
    except ValueError:
        name = exc.path
    return f"{name}{f':{exc.line}' if exc.line else ''}: unreadable ({exc.message})"


def verify(folder: Path, expected: list[Ed25519PublicKey] | None = None) -> Verdict:
    """Check every file against the manifest, the manifest against the signature, results against both.

    >>> verify(Path("reports/latest"), [keys.load_public(Path("mynumber.key.pub"))]).ok  # doctest: +SKIP
    True
    """
    verdict = Verdict(folder)
    if not (folder / MANIFEST).exists():
        verdict.problems.append(f"{MANIFEST}: missing (not a complete kijun run)")
        verdict.malformed = True
        return verdict
    try:
        data = safeio.read_bytes(folder / MANIFEST, safeio.RUN_LIMIT)
        doc = safeio.parse_json(data, folder / MANIFEST)
    except LoadError as exc:
        verdict.problems.append(f"{MANIFEST}: unreadable ({exc.message})")
        verdict.malformed = True
        return verdict
    if (
        not isinstance(doc, dict)
        or doc.get("schema") != "kijun/manifest/v1"
        or not isinstance(doc.get("files"), dict)
    ):
        verdict.problems.append(f"{MANIFEST}: not a kijun manifest")
        verdict.malformed = True
        return verdict
    verdict.run_id = str(doc.get("run_id", ""))
    try:
        _check_signature(folder, data, expected or [], verdict)
        _check_files(folder, doc["files"], verdict)
        _check_results(folder, doc, verdict)
    except (AttributeError, TypeError, KeyError, ValueError) as exc:
        # A document of the wrong shape (a list where an object belongs, ...) is a problem, not a crash.
        verdict.problems.append(f"{MANIFEST}: not of the shape kijun writes ({type(exc).__name__}: {exc})")
        verdict.malformed = True
    return verdict
