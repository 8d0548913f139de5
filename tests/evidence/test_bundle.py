"""The evidence bundle: any changed byte, added or removed file, or foreign signature is detected."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from scanner import compact, evidence, history, keys

from .ward import EXAMPLE, kijun, make_keys, scan


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """Scan the example ward once, signed; return the run folder, the private and the public key."""
    tmp = tmp_path_factory.mktemp("signed")
    private, public = make_keys(tmp, "mynumber")
    run = scan(EXAMPLE, tmp / "reports", "--sign-key", private, "--operator", "架空 二郎",
               "--operator-role", "統括情報セキュリティ責任者")  # fmt: skip
    return run, private, public


@pytest.fixture
def bundle(signed: tuple[Path, Path, Path], tmp_path: Path) -> Path:
    """Return a private copy of the signed run to tamper with."""
    return Path(shutil.copytree(signed[0], tmp_path / signed[0].name))


def expected(signed: tuple[Path, Path, Path]) -> list[keys.Ed25519PublicKey]:
    return [keys.load_public(signed[2])]


def files_of(run: Path) -> list[str]:
    return sorted(p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file())


def test_a_fresh_signed_run_verifies(signed: tuple[Path, Path, Path]) -> None:
    verdict = evidence.verify(signed[0], expected(signed))
    assert verdict.ok, verdict.problems
    assert verdict.signed and verdict.authenticated
    assert verdict.files == len(files_of(signed[0])) - 2  # everything but manifest.json and signature.json


def test_the_bundle_holds_raw_facts_of_every_assessed_host(signed: tuple[Path, Path, Path]) -> None:
    run = compact.load(signed[0] / "results.json")
    listed = json.loads((signed[0] / "manifest.json").read_bytes())["files"]
    assessed = [h.name for h in run.hosts if h.assessed]
    assert assessed
    for name in assessed:
        assert f"evidence/{name}.json" in listed
        raw = json.loads((signed[0] / "evidence" / f"{name}.json").read_bytes())
        assert raw["host"] == name


def test_every_file_with_one_changed_byte_is_named(signed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    names = files_of(signed[0])
    assert {"results.json", "envelope.json", "manifest.json", "signature.json", "report.html"} <= set(names)
    for i, name in enumerate(names):
        copy = Path(shutil.copytree(signed[0], tmp_path / str(i)))
        data = bytearray((copy / name).read_bytes())
        where = len(data) // 2
        data[where] = (data[where] + 1) % 256
        (copy / name).write_bytes(bytes(data))
        verdict = evidence.verify(copy, expected(signed))
        assert not verdict.ok, name
        assert any(p.startswith(name) for p in verdict.problems), (name, verdict.problems)
        shutil.rmtree(copy)


def test_every_file_cut_in_half_is_named(signed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """A file that no longer parses (envelope.json, results.json, findings.jsonl ...) is named, never a crash."""
    names = files_of(signed[0])
    for i, name in enumerate(names):
        copy = Path(shutil.copytree(signed[0], tmp_path / str(i)))
        data = (copy / name).read_bytes()
        (copy / name).write_bytes(data[: len(data) // 2])
        verdict = evidence.verify(copy, expected(signed))
        assert not verdict.ok, name
        assert any(p.startswith(name) for p in verdict.problems), (name, verdict.problems)
        shutil.rmtree(copy)


def test_an_added_file_is_named(bundle: Path, signed: tuple[Path, Path, Path]) -> None:
    (bundle / "evidence" / "extra-host.json").write_text("{}", "utf-8")
    verdict = evidence.verify(bundle, expected(signed))
    assert verdict.problems == ["evidence/extra-host.json: not listed in manifest.json (added after the run)"]


def test_a_removed_file_is_named(bundle: Path, signed: tuple[Path, Path, Path]) -> None:
    (bundle / "evidence" / "koseki-ap-01.json").unlink()
    problems = evidence.verify(bundle, expected(signed)).problems
    assert "evidence/koseki-ap-01.json: listed in manifest.json but missing" in problems


def test_a_rewritten_manifest_breaks_the_signature(bundle: Path, signed: tuple[Path, Path, Path]) -> None:
    """Change a result, then fix up its digest in the manifest: only the signature can tell."""
    results = bundle / "findings.jsonl"
    results.write_bytes(results.read_bytes().replace(b'"status":"fail"', b'"status":"pass"', 1))
    doc = json.loads((bundle / "manifest.json").read_bytes())
    doc["files"]["findings.jsonl"]["sha256"] = evidence.file_sha256(results)
    doc["files"]["findings.jsonl"]["size"] = results.stat().st_size
    (bundle / "manifest.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", "utf-8")
    problems = evidence.verify(bundle, expected(signed)).problems
    assert "manifest.json: changed after signing (sha256 is not the one in signature.json)" in problems
    assert any(p.startswith("envelope.json: disagrees") for p in problems)  # counts changed
    # The forger also updates the digest that signature.json records: the signature itself fails.
    sig = json.loads((bundle / "signature.json").read_bytes())
    sig["manifest_sha256"] = evidence.file_sha256(bundle / "manifest.json")
    (bundle / "signature.json").write_text(json.dumps(sig, indent=1, sort_keys=True) + "\n", "ascii")
    problems = evidence.verify(bundle, expected(signed)).problems
    assert "signature.json: the signature does not verify over manifest.json" in problems


def test_a_bundle_re_signed_with_another_key_is_refused(
    bundle: Path, signed: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    intruder, _ = make_keys(tmp_path, "intruder")
    (bundle / "signature.json").write_bytes(
        evidence.sign((bundle / "manifest.json").read_bytes(), keys.load_private(intruder))
    )
    verdict = evidence.verify(bundle, expected(signed))
    assert any(p.startswith("signature.json: signed by SHA256:") and "not by the expected key" in p
               for p in verdict.problems)  # fmt: skip
    assert any(p.startswith("results.json: envelope signature block") for p in verdict.problems)
    assert evidence.verify(bundle).problems  # even without a pinned key: the envelope names the real key


def test_an_unsigned_run_passes_integrity_but_not_a_pinned_key(tmp_path: Path) -> None:
    run = scan(EXAMPLE, tmp_path / "reports", "--format", "json")
    envelope = json.loads((run / "envelope.json").read_bytes())
    assert envelope["signature"]["signed"] is False
    assert not (run / "signature.json").exists()
    verdict = evidence.verify(run)
    assert verdict.ok and not verdict.signed
    _, public = make_keys(tmp_path, "mynumber")
    problems = evidence.verify(run, [keys.load_public(public)]).problems
    assert problems == [
        "signature.json: missing: the run is unsigned, a signature by the expected key was required"
    ]


def test_the_cli_fails_naming_the_file(bundle: Path, signed: tuple[Path, Path, Path]) -> None:
    ok = kijun("evidence", "verify", signed[0], "--key", signed[2])
    assert ok.exit_code == 0, ok.output
    assert f"signed by {keys.fingerprint(keys.load_public(signed[2]))}" in ok.output
    target = bundle / "evidence" / "gw-01.json"
    target.write_bytes(target.read_bytes().replace(b"ens224", b"ens225", 1))
    bad = kijun("evidence", "verify", bundle, "--key", signed[2])
    assert bad.exit_code == 1
    assert f"{bundle}/evidence/gw-01.json: sha256 differs from manifest.json" in bad.output


def test_the_private_key_never_enters_the_bundle(signed: tuple[Path, Path, Path]) -> None:
    secret = keys.load_private(signed[1])
    from cryptography.hazmat.primitives import serialization

    raw = secret.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    pem = signed[1].read_bytes()
    for path in signed[0].rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert raw not in data and pem not in data and b"PRIVATE KEY" not in data, path


def test_a_second_scan_links_to_the_first(signed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "reports"
    first = scan(EXAMPLE, out, "--format", "json")
    second = scan(EXAMPLE, out, "--format", "json")
    link = json.loads((second / "envelope.json").read_bytes())["previous_run"]
    assert link["run_id"] == first.name
    assert link["manifest_sha256"] == evidence.file_sha256(first / "manifest.json")
    assert history.runs(out) == [first, second]
    assert (out / "latest").resolve() == second.resolve()
