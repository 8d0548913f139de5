"""自己点検 attestations: answers read back from a filled-in 自己点検票, signed, and applied to manual controls.

A manual control (one no machine can check: training held, the server room locked, ...) stays
``manual`` until a person answers for it. ``kijun attest WORKBOOK`` reads the answers of a
自己点検票 (who, in which role, when, the answer, until when) into an attestation file, signed
like evidence. Later scans apply it: while it is in force the finding is ``pass``, ``fail`` or
``not_applicable`` *by attestation* (``Finding.attested`` says so, and by whom); before its date,
after its expiry, or for a finding that is no longer manual, it changes nothing and says why.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from scanner import keys, safeio
from scanner.errors import LoadError
from scanner.results import Finding, Status

SCHEMA = "kijun/attestations/v1"
MAX_VALID_DAYS = 400  # an attestation is renewed at least once a year (自己点検 is annual)
MAX_FILE_BYTES = 8 * 1024 * 1024
ANSWERS = {"pass": Status.PASS, "fail": Status.FAIL, "not_applicable": Status.NOT_APPLICABLE}


@dataclass(frozen=True)
class Attestation:
    """One person's answer for one manual control on one host (or the organization)."""

    key: str  # host/control, as Finding.key
    answer: str  # pass | fail | not_applicable
    attested_by: str
    role: str
    attested_on: date
    valid_until: date
    note: str = ""
    source: str = ""  # the workbook it was read from
    signer: str = ""  # fingerprint of the key that signed the attestation file, "" when unsigned

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "answer": self.answer,
            "attested_by": self.attested_by,
            "role": self.role,
            "attested_on": self.attested_on.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "note": self.note,
        }


def check_dates(attested_on: date, valid_until: date, today: date) -> str:
    """Return what is wrong with an attestation's dates ("" when nothing)."""
    if attested_on > today:
        return f"回答日が未来です / attested on {attested_on}, after today ({today})"
    if valid_until <= attested_on:
        return f"有効期限が回答日以前です / valid until {valid_until} is not after {attested_on}"
    if valid_until > attested_on + timedelta(days=MAX_VALID_DAYS):
        return f"有効期限は回答日から{MAX_VALID_DAYS}日以内 / valid until is more than {MAX_VALID_DAYS} days after"
    return ""


def _canonical(doc: dict[str, Any]) -> bytes:
    body = {k: v for k, v in doc.items() if k != "signature"}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def document(items: list[Attestation], source: dict[str, str], key: Ed25519PrivateKey | None) -> bytes:
    """Return an attestation file: the answers, where they came from, and an ed25519 signature."""
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "source": source,
        "attestations": [a.to_json() for a in items],
    }
    if key is not None:
        public = key.public_key()
        doc["signature"] = {
            "algorithm": "ed25519",
            "public_key": keys.public_line(public),
            "fingerprint": keys.fingerprint(public),
            "value": base64.b64encode(key.sign(_canonical(doc))).decode(),
        }
    return (json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def read_regular(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """Read a regular file of bounded size without blocking on FIFOs or devices (see scanner.safeio)."""
    return safeio.read_bytes(path, limit)


def _signer(path: Path, doc: dict[str, Any], trusted: list[Ed25519PublicKey]) -> str:
    """Verify the embedded signature; return the signer's fingerprint ("" when unsigned and allowed)."""
    block = doc.get("signature")
    if block is None:
        if trusted:
            raise LoadError(str(path), 0, "unsigned, but a signature by the attestation key was required")
        return ""
    try:
        public = keys.parse_public(str(block["public_key"]), f"{path}: signature.public_key")
        public.verify(base64.b64decode(str(block["value"]), validate=True), _canonical(doc))
    except (KeyError, TypeError, ValueError, InvalidSignature, keys.KeyFileError):
        raise LoadError(str(path), 0, "the signature does not verify (edited after signing?)") from None
    fingerprint = keys.fingerprint(public)
    if trusted and fingerprint not in {keys.fingerprint(k) for k in trusted}:
        raise LoadError(str(path), 0, f"signed by {fingerprint}, not by the attestation key")
    return fingerprint


def _date(path: Path, where: str, value: Any) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise LoadError(str(path), 0, f"{where}: not a date (YYYY-MM-DD): {str(value)[:40]!r}") from None


def _one(path: Path, i: int, entry: Any, signer: str, source: str) -> Attestation:
    where = f"attestations[{i}]"
    if not isinstance(entry, dict):
        raise LoadError(str(path), 0, f"{where}: not a mapping")
    for name in ("key", "answer", "attested_by", "role", "attested_on", "valid_until"):
        if not isinstance(entry.get(name), str) or not entry[name].strip():
            raise LoadError(str(path), 0, f"{where}.{name}: missing or empty")
    if entry["answer"] not in ANSWERS:
        raise LoadError(
            str(path), 0, f"{where}.answer: {entry['answer'][:20]!r} is not one of {sorted(ANSWERS)}"
        )
    if entry["key"].count("/") != 1:
        raise LoadError(str(path), 0, f"{where}.key: not host/control")
    return Attestation(
        key=entry["key"],
        answer=entry["answer"],
        attested_by=entry["attested_by"],
        role=entry["role"],
        attested_on=_date(path, f"{where}.attested_on", entry["attested_on"]),
        valid_until=_date(path, f"{where}.valid_until", entry["valid_until"]),
        note=str(entry.get("note", "")),
        source=source,
        signer=signer,
    )


def load(folder: Path | None, trusted: list[Ed25519PublicKey] | None = None) -> list[Attestation]:
    """Load every ``*.json`` attestation file of a folder (none when it does not exist)."""
    if folder is None or not folder.is_dir():
        return []
    out: list[Attestation] = []
    for path in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(read_regular(path).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise LoadError(str(path), getattr(exc, "lineno", 0), f"not attestation JSON ({exc})") from None
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            raise LoadError(str(path), 0, f"not a kijun attestation file (schema is not {SCHEMA})")
        entries = doc.get("attestations")
        if not isinstance(entries, list):
            raise LoadError(str(path), 0, "attestations: not a list")
        signer = _signer(path, doc, trusted or [])
        source = str((doc.get("source") or {}).get("file", path.name))
        out += [_one(path, i, e, signer, source) for i, e in enumerate(entries)]
    return out


def _in_force(found: list[Attestation], today: date) -> tuple[Attestation | None, str]:
    """Return the newest attestation in force today, or why none is."""
    for item in sorted(found, key=lambda a: a.attested_on, reverse=True):
        if item.attested_on <= today <= item.valid_until:
            return item, ""
    latest = max(found, key=lambda a: a.attested_on)
    if latest.attested_on > today:
        return (
            None,
            f"回答日 {latest.attested_on} より前のため未適用 / attested on {latest.attested_on}, not yet in force",
        )
    return (
        None,
        f"回答の有効期限切れ {latest.valid_until} / attestation by {latest.attested_by} expired on {latest.valid_until}",
    )


def apply(findings: list[Finding], attestations: list[Attestation], today: date) -> list[Finding]:
    """Turn manual findings into pass/fail/not_applicable by the attestation in force, marked as such."""
    if not attestations:
        return findings
    by_key: dict[str, list[Attestation]] = {}
    for item in attestations:
        by_key.setdefault(item.key, []).append(item)
    out: list[Finding] = []
    for finding in findings:
        found = by_key.get(finding.key)
        if finding.status is not Status.MANUAL or not found:
            out.append(finding)
            continue
        chosen, why = _in_force(found, today)
        if chosen is None:
            out.append(replace(finding, message=f"{finding.message}; {why}".strip("; ")))
            continue
        item = chosen
        status = ANSWERS[item.answer]
        out.append(
            replace(
                finding,
                status=status,
                message=(
                    f"自己点検の回答による / by attestation: {item.answer} — {item.attested_by} ({item.role}), "
                    f"{item.attested_on}, 有効期限 valid until {item.valid_until}"
                ),
                attested={**item.to_json(), "source": item.source, "signer": item.signer},
            )
        )
    return out
