"""Real logins through Linux-PAM with pamtester, in a private mount namespace (the machine is untouched).

Run as ``unshare -m python3 tests/facts/pam_truth.py CASES.json RESULTS.json`` (root). Inside the
namespace, /etc/pam.d, /etc/passwd, /etc/shadow and /etc/group are bind-mounted over with copies
that add two users with a password: ``kjenrolled`` (with a TOTP secret in ~/.google_authenticator)
and ``kjbare`` (without). For each case (a dict file name -> text, service ``kjgen``), each user
tries every combination of right and wrong answers to the password and verification-code prompts;
the result says which combinations pamtester authenticated. Standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import pty
import re
import secrets
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SERVICE = "kjgen"
USERS = {"kjenrolled": 2921, "kjbare": 2922}
# (password right, code right); a user without a secret is never asked for a code, so only the
# password varies for kjbare.
ANSWERS = ((True, True), (True, False), (False, True), (False, False))
_PROMPT = re.compile(rb"(assword|erification code)[^\n]*: ?$")


def totp(secret: str, at: float) -> str:
    """Return the RFC 6238 code pam_google_authenticator expects (HMAC-SHA1, 30 s, 6 digits)."""
    digest = hmac.new(base64.b32decode(secret), struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def credentials() -> tuple[str, str, str]:
    """Return a fresh password, its SHA-512 crypt hash for /etc/shadow, and a TOTP secret."""
    password, secret = secrets.token_urlsafe(12), base64.b32encode(secrets.token_bytes(10)).decode()
    hashed = subprocess.run(
        # "--" ends perl's own options: a password may start with "-" (token_urlsafe draws from A-Za-z0-9_-).
        ["perl", "-e", "print crypt($ARGV[0], '$6$' . $ARGV[1] . '$')", "--", password, secrets.token_hex(8)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return password, hashed, secret


def _setup(work: Path) -> tuple[str, str]:
    """Bind-mount the users and an empty /etc/pam.d; return (password, TOTP secret)."""
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    password, hashed, secret = credentials()
    etc = work / "etc"
    etc.mkdir()
    passwd = Path("/etc/passwd").read_text() + "".join(
        f"{u}:x:{uid}:{uid}::{work}/{u}:/bin/sh\n" for u, uid in USERS.items()
    )
    shadow = Path("/etc/shadow").read_text() + "".join(f"{u}:{hashed}:19000:0:99999:7:::\n" for u in USERS)
    group = Path("/etc/group").read_text() + "".join(f"{u}:x:{uid}:\n" for u, uid in USERS.items())
    for name, text, mode in (("passwd", passwd, 0o644), ("shadow", shadow, 0o640), ("group", group, 0o644)):
        (etc / name).write_text(text)
        os.chmod(etc / name, mode)
        subprocess.run(["mount", "--bind", str(etc / name), f"/etc/{name}"], check=True)
    for user, uid in USERS.items():
        home = work / user
        home.mkdir()
        if user == "kjenrolled":
            (home / ".google_authenticator").write_text(f'{secret}\n" TOTP_AUTH\n')
            os.chmod(home / ".google_authenticator", 0o400)
            os.chown(home / ".google_authenticator", uid, uid)
        os.chown(home, uid, uid)
    (work / "pam.d").mkdir()
    subprocess.run(["mount", "--bind", str(work / "pam.d"), "/etc/pam.d"], check=True)
    faillock = work / "faillock"
    faillock.mkdir()
    if Path("/run/faillock").is_dir():
        subprocess.run(["mount", "--bind", str(faillock), "/run/faillock"], check=True)
    return password, secret


def login(user: str, password: str, code: str) -> bool:
    """Run pamtester, answering each prompt by its text; tell whether it authenticated."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp("pamtester", ["pamtester", SERVICE, user, "authenticate"])
    out = b""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        tail = out.rsplit(b"\n", 1)[-1]
        match = _PROMPT.search(tail)
        if match:
            answer = password if match.group(1) == b"assword" else code
            os.write(fd, answer.encode() + b"\n")
            out += b"\n"
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    text = out.decode(errors="replace")
    if "successfully authenticated" in text:
        return os.waitstatus_to_exitcode(status) == 0
    return False


def main() -> None:
    cases = json.loads(Path(sys.argv[1]).read_text())
    with tempfile.TemporaryDirectory(prefix="kijun-pam-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)
        password, secret = _setup(work)
        results = []
        for files in cases:
            folder = work / "pam.d"
            for old in folder.iterdir():
                old.unlink()
            for name, text in files.items():
                (folder / name).write_text(text)
            got: dict[str, list[list[bool]]] = {}
            for user in USERS:
                got[user] = []
                for pw_ok, code_ok in ANSWERS if user == "kjenrolled" else ANSWERS[1::2]:
                    for tally in (work / "faillock").iterdir():  # every login starts unlocked
                        tally.unlink() if tally.is_file() else shutil.rmtree(tally)
                    code = totp(secret, time.time())
                    wrong_code = f"{(int(code) + 500000) % 1_000_000:06d}"
                    ok = login(
                        user, password if pw_ok else "not-" + password, code if code_ok else wrong_code
                    )
                    if ok:
                        got[user].append([pw_ok, code_ok])
            results.append(got)
        Path(sys.argv[2]).write_text(json.dumps(results))


if __name__ == "__main__":
    main()
