"""Secrets by content: what the collector refuses to send, and what it redacts, on the host before framing.

One table serves both sides: the host script runs it as POSIX ``grep`` and ``sed`` (basic regular
expressions, C locale), the files transport runs the same expressions translated to Python ``re``.
A file that holds a private key or a TOTP secret is refused (its content never leaves; its
metadata does); a password hash, a password in a URL or an assignment is replaced by ``REDACTED``
with nothing of the password left, and the item says how many lines were redacted.
"""

from __future__ import annotations

import re

MARK = "REDACTED"

# Refused whole: (reason, expressions). A line matching any expression refuses the file.
REFUSE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("private-key", ("-----BEGIN [A-Z0-9 ]*PRIVATE KEY", "PuTTY-User-Key-File-")),
    # google-authenticator's file (its options lines, or a bare base32 secret line) and oath's users file.
    (
        "totp-secret",
        (
            '^" *TOTP_AUTH',
            '^" *HOTP_COUNTER',
            '^" *RATE_LIMIT ',
            '^" *WINDOW_SIZE ',
            "^[A-Z2-7]\\{16,\\}$",
            "^HOTP/T[0-9]",
        ),
    ),
)


def _caseless(word: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)


_PASSWORD_KEYS = ("password", "passwd", "passphrase", "pwd")
_SECRET_KEYS = ("secret", "token", "api_key", "apikey", "secret_key", "access_key")
_HASH_IDS = (
    "1",
    "2a",
    "2b",
    "2x",
    "2y",
    "5",
    "6",
    "7",
    "y",
    "gy",
    "md5",
    "sha1",
    "apr1",
    "argon2i",
    "argon2d",
)
_SEP = "[ \t]*[=:][ \t]*"


def _redactions() -> list[tuple[str, str]]:
    rules: list[tuple[str, str]] = [
        # scheme://user:PASSWORD@host: everything up to the last "@" of the line goes (a password
        # may itself hold "@", ":" or "/").
        ("\\(://[^/@: \t]*\\):.*@", f"\\1:{MARK}@"),
        # sshpass -p PW, --password PW, --passphrase PW
        ("\\(sshpass[ \t].*-p[ \t]*\\)[^ \t][^ \t]*", f"\\1{MARK}"),
        ("\\(--pass[a-z]*[ \t][ \t]*\\)[^ \t-][^ \t]*", f"\\1{MARK}"),
    ]
    for key in _PASSWORD_KEYS:
        word = _caseless(key)
        rules += [
            (f'\\({word}{_SEP}"\\)[^"]*"', f'\\1{MARK}"'),  # password="..." keeps what follows
            (f"\\({word}{_SEP}'\\)[^']*'", f"\\1{MARK}'"),
            (f"\\({word}{_SEP}\\)[^\"' \t].*", f"\\1{MARK}"),  # unquoted: to the end of the line
            (f"\\({word}{_SEP}[\"']\\)[^\"']*$", f"\\1{MARK}"),  # a quote never closed
        ]
    for key in _SECRET_KEYS:
        word = _caseless(key)
        # A value that is a path (PAM's secret=/home/...) is not a secret.
        rules += [
            (f'\\({word}[ \t]*=[ \t]*"\\)[^"/~$][^"]*"', f'\\1{MARK}"'),
            (f"\\({word}[ \t]*=[ \t]*\\)[^\"'/~$ \t][^ \t]*", f"\\1{MARK}"),
        ]
    for ident in _HASH_IDS:
        rules.append((f"\\${ident}\\$[./A-Za-z0-9,=$-]\\{{8,\\}}[^: \t\"']*", MARK))
    # A DES crypt hash in a passwd or shadow line (its lock "!" is kept: the state stays readable).
    rules.append(("^\\([^:]*:!*\\)[./0-9A-Za-z]\\{13\\}:", f"\\1{MARK}:"))
    return rules


REDACT: tuple[tuple[str, str], ...] = tuple(_redactions())


def bre_to_re(bre: str) -> re.Pattern[bytes]:
    """Translate the POSIX basic regular expressions used above to a Python bytes pattern.

    >>> bre_to_re("\\\\(a\\\\)[0-9]\\\\{2,\\\\}+").pattern
    b'(a)[0-9]{2,}\\\\+'
    """
    out, i = [], 0
    while i < len(bre):
        char = bre[i]
        if char == "\\" and i + 1 < len(bre):
            nxt = bre[i + 1]
            out.append(nxt if nxt in "(){}" else re.escape(nxt))
            i += 2
        elif char == "[":
            end = bre.index("]", i + 2 if bre[i + 1 : i + 2] in ("^", "]") else i + 1)
            if bre[i + 1 : i + 3] == "^]":
                end = bre.index("]", i + 3)
            body = bre[i + 1 : end].replace("\\", "\\\\").replace("[", "\\[")
            out.append(f"[{body}]")
            i = end + 1
        elif char in "(){}+?|":
            out.append("\\" + char)
            i += 1
        else:
            out.append(char)
            i += 1
    return re.compile("".join(out).encode())


_REFUSE_RE = tuple((reason, tuple(bre_to_re(e) for e in exprs)) for reason, exprs in REFUSE)
_REDACT_RE = tuple((bre_to_re(m), r.replace("\\1", "\\g<1>").encode()) for m, r in REDACT)


def refused(data: bytes) -> str | None:
    """Return why content must never leave the host (``private-key``, ``totp-secret``), or None."""
    lines = data.split(b"\n")
    for reason, patterns in _REFUSE_RE:
        if any(p.search(line) for p in patterns for line in lines):
            return reason
    return None


def redact(data: bytes) -> tuple[bytes, int]:
    """Return the content with every secret replaced, and the number of lines changed (as ``grep -c``).

    >>> redact(b"x rest:https://bk:p@ss:w/d@host/ y\\n")
    (b'x rest:https://bk:REDACTED@host/ y\\n', 1)
    """
    lines = data.split(b"\n")
    count = 0
    for n, line in enumerate(lines):
        if not any(p.search(line) for p, _ in _REDACT_RE):
            continue
        count += 1
        for pattern, replacement in _REDACT_RE:
            line = pattern.sub(replacement, line)
        lines[n] = line
    return b"\n".join(lines), count


def excerpt(value: object, limit: int = 24) -> str:
    """Return a short, redacted quotation of a value from a file, safe to print in an error message.

    >>> excerpt("root:$6$saltsalt$hashhashhash:19000:0:99999:7:::")
    "'root:REDACTED:19000:0:999…'"
    """
    if not isinstance(value, str):
        return (
            "a mapping"
            if isinstance(value, dict)
            else "a list"
            if isinstance(value, list)
            else type(value).__name__
        )
    if refused(value.encode()):
        return "(content withheld)"
    text = redact(value.encode())[0].decode("utf-8", errors="replace").replace("\n", " ")
    return repr(text[:limit] + ("…" if len(text) > limit else ""))
