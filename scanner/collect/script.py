"""Build the one POSIX sh collector script per host: read-only, framed, encoded so no content can forge a frame.

The script is scanner/collect/collector.sh with this run's plan filled in. Output grammar (parsed by
scanner/collect/framing.py and, for the batch record, scanner/collect/batch.py), every line ASCII::

    ==KIJUN:<nonce>:START 2
    time 2026-11-01T09:00:00+0900         header: host clock, encoding, limit, euid, node, follow
    ==KIJUN:<nonce>:BEGIN batch <enc "batch:1">
    ==KIJUN:<nonce>:DATA stream            one encoder pass (batch.py): the items listed with their
                                           state, one stat over them, the probes' output, one
                                           head -v over the plain files
    ==KIJUN:<nonce>:END
    ==KIJUN:<nonce>:BEGIN file <enc "file:/etc/x">      an item read on its own
    exists 1 | mode 644 | uid 0 | gid 0 | mtime <epoch> | size <bytes> | truncated 1 | sha256 <hex>
    redacted <lines>                       secrets replaced on the host (scanner/collect/secrets.py)
    error <token>                          content (or, without exists, the whole item) not collected
    ==KIJUN:<nonce>:DATA content           then encoded lines (no spaces) until the next directive
    ==KIJUN:<nonce>:END
    ==KIJUN:<nonce>:DONE <records>

The probes run in the batch's stream (collector.sh: PROBE_GROUPS groups at once from the script's
start, each group in phases under one timeout, each group's stream after the one before); the scanner keeps
4 KiB of each one's stderr. The parser still reads a probe as a record of its own (``DATA stdout``,
``rc <n>``, ``DATA stderr``) and the batch as ``DATA list``, ``DATA stat`` and ``DATA content``.
"""

from __future__ import annotations

import base64
import functools
import re
import secrets
from importlib.resources import files

from scanner.collect.follow import DIRECTIVES, MAX_FILES, SSHD_DIR
from scanner.collect.plan import Plan
from scanner.collect.probes import PROBES
from scanner.collect.secrets import REDACT, REFUSE

MAX_BYTES = 4 * 1024 * 1024
STDERR_BYTES = 4096
PROBE_GROUPS = 2  # probe groups running at once on the host (collector.sh kj_groups)

# Content of these paths never leaves the host: private keys, and shadow (reduced by its probe).
# Metadata (stat) stays allowed, since key and shadow permissions are themselves checked.
# A link is judged by its target too, and any file by its inode (a hard link to shadow), and all
# content by what it holds (scanner/collect/secrets.py).
DENIED_CONTENT = (
    "*_key",
    "*.pem",
    "*.key",
    "/etc/shadow",
    "/etc/shadow-",
    "/etc/gshadow",
    "/etc/gshadow-",
    "*/.google_authenticator",
)

_NONCE = re.compile(r"^[0-9a-f]{16,64}$")
_BRACKET = re.compile(r"\[!?[A-Za-z0-9._-]+\]")

_TEMPLATE = "collector.sh"


@functools.cache
def _template() -> str:
    return files("scanner").joinpath(f"collect/{_TEMPLATE}").read_text(encoding="utf-8")


def new_nonce() -> str:
    """Return a fresh random nonce for one run of the script."""
    return secrets.token_hex(16)


def quote(text: str) -> str:
    """Quote a string as one literal shell word."""
    return "'" + text.replace("'", "'\\''") + "'"


def is_glob(pattern: str) -> bool:
    """Tell whether a path pattern contains shell glob characters."""
    return any(c in pattern for c in "*?[")


def shell_glob(pattern: str) -> str:
    """Return a shell word that expands an absolute glob, with everything but the glob characters quoted.

    >>> shell_glob("/etc/pam.d/*")
    "'/etc/pam.d/'*"
    """
    if not pattern.startswith("/"):
        raise ValueError(f"collector paths must be absolute: {pattern!r}")
    return _word(pattern)


def _word(pattern: str) -> str:
    out: list[str] = []
    literal = ""
    i = 0
    while i < len(pattern):
        char = pattern[i]
        bracket = _BRACKET.match(pattern, i) if char == "[" else None
        if char in "*?" or bracket:
            if literal:
                out.append(quote(literal))
                literal = ""
            token = bracket.group(0) if bracket else char
            out.append(token)
            i += len(token)
            continue
        if char == "[":
            raise ValueError(f"unsupported bracket expression in {pattern!r}")
        literal += char
        i += 1
    if literal:
        out.append(quote(literal))
    return "".join(out)


def _items(kind: str, patterns: tuple[str, ...]) -> list[str]:
    lines = []
    for pattern in patterns:
        if is_glob(pattern):
            lines.append(f'for kj_g in {shell_glob(pattern)}; do kj_add {kind} "$kj_g" 1; done')
        else:
            lines.append(f"kj_add {kind} {shell_glob(pattern)} 0")
    return lines


def _caseless(word: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)


def _directives() -> str:
    """Return the case arms that set kj_fx (the suffix) for each directive that names more files."""
    arms = [
        f"        {dialect}:{_caseless(keyword)}) kj_fx={quote(suffix) if suffix else ''};;"
        for dialect, table in DIRECTIVES.items()
        for keyword, suffix in table.items()
    ]
    return "\n".join(arms)


def probe_timeout_for(host_timeout: float) -> int:
    """Return the probes' timeout for a host's: a hung probe may take two (collector.sh), so a third of it.

    >>> probe_timeout_for(120), probe_timeout_for(600), probe_timeout_for(1)
    (40, 60, 1)
    """
    return max(1, min(60, int(host_timeout) // 3))


def build_script(plan: Plan, nonce: str, max_bytes: int = MAX_BYTES, probe_timeout: int = 60) -> str:
    """Return the collector script for a plan: one POSIX sh program, run as ``sh -s``.

    >>> "kj_probe" in build_script(Plan(probes=("ss-listen",)), "0123456789abcdef")
    True
    """
    if not _NONCE.match(nonce):
        raise ValueError("nonce must be 16 to 64 lowercase hex digits")
    if max_bytes < 1 or probe_timeout < 1:
        raise ValueError("max_bytes and probe_timeout must be positive")
    unknown = [p for p in plan.probes if p not in PROBES]
    if unknown:
        raise ValueError(f"unknown probes: {', '.join(unknown)}")
    commands = tuple(PROBES[name] for name in plan.probes)
    before, after = _script(plan, commands, max_bytes, probe_timeout)
    return before + nonce + after


@functools.lru_cache(maxsize=64)
def _script(plan: Plan, commands: tuple[str, ...], max_bytes: int, probe_timeout: int) -> tuple[str, str]:
    """Return the script of a plan cut where the nonce goes: every host of a scan with the same plan shares it.

    ``commands`` are the probes' commands, part of the key so that a changed PROBES entry is seen.
    """
    body = _items("file", plan.files) + _items("stat", plan.stats)
    for dialect, start in plan.follow:
        if dialect not in DIRECTIVES:
            raise ValueError(f"unknown dialect to follow: {dialect}")
        body.append(f"kj_follow {dialect} {shell_glob(start)}")
    body.append("kj_batch")
    # The egress probe's command is generated from validated data (quoted in the phase like the others).
    probes, starts = _grouped(list(zip(plan.probes, commands, strict=True)) + list(plan.generated))
    script = (
        _template()
        .replace("@NONCE@", "\0")
        .replace("@MAX@", str(max_bytes))
        .replace("@TIMEOUT@", str(probe_timeout))
        .replace("@DENIED@", "|".join(_word(p) for p in DENIED_CONTENT))
        .replace("@MAXFOLLOW@", str(MAX_FILES))
        .replace("@SSHDIR@", SSHD_DIR)
        .replace("@DIRECTIVES@", _directives())
        .replace("@FOLLOW@", " ".join(sorted({d for d, _ in plan.follow})) or "-")
        .replace("@BATCHID@", _ids("batch:1"))
        .replace("@KEYS@", _grep(REFUSE[0][1]))
        .replace("@TOTP@", _grep(REFUSE[1][1]))
        .replace("@REDACT@", _grep(tuple(m for m, _ in REDACT)))
        .replace(
            "@ANYSECRET@", _grep(tuple(e for _, exprs in REFUSE for e in exprs) + tuple(m for m, _ in REDACT))
        )
        .replace("@SED@", " ".join(f"-e {quote(f's|{m}|{r}|g')}" for m, r in REDACT))
        .replace("@PHASE@", quote(_phase(probes)) if probes else "")
        .replace("@NPROBES@", str(len(probes)))
        .replace("@GROUPS@", " ".join(map(str, starts)))
        .replace("@BODY@", "\n".join(body))
    )
    before, nul, after = script.partition("\0")
    if not nul or "\0" in after:
        raise ValueError("a NUL byte in the plan")
    return before, after


def _grouped(
    probes: list[tuple[str, str]], count: int = PROBE_GROUPS
) -> tuple[list[tuple[str, str]], list[int]]:
    """Deal the probes round-robin into ``count`` groups that run at once; return them in group order and each group's first number.

    Most of a probe's time is waiting (on systemd, chronyd, the kernel), so a few groups at once
    shorten the host's wall time; each group costs a phase (timeout, sh, sed, encoder) and a cat.

    >>> _grouped([("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")], 3)
    ([('a', '1'), ('d', '4'), ('b', '2'), ('c', '3')], [1, 3, 4])
    """
    count = min(count, len(probes)) or 1
    groups = [probes[g::count] for g in range(count)]
    starts = [1 + sum(len(each) for each in groups[:g]) for g in range(count)]
    return [p for each in groups for p in each], starts


def _phase(probes: list[tuple[str, str]]) -> str:
    """Return the probe phase: one sh program running the probes from number $1 on (collector.sh)."""
    lines = [
        "K=$KJ_K; unset KJ_K; kj_at=$1 kj_to=$2 kj_c=",
        # A timeout that signals the phase alone (busybox) must still end the probe it waits for.
        "trap 'kill -9 \"$kj_c\" 2>/dev/null; exit 143' TERM",
        "kj_s() {",
        '  [ "$1" -ge "$kj_at" ] && [ "$1" -le "$kj_to" ] || return 1',
        '  printf \'s %s %s\\n\' "$1" "$2" >&9',
        '  printf \'\\n%sprobe %s\\n\' "$K" "$2" >&2',
        '  printf \'%sprobe %s\\n\' "$K" "$2"',
        "}",
        'kj_e() { printf \'%src %s %s\\n\' "$K" "$2" "$3"; printf \'e %s\\n\' "$1" >&9; }',
    ]
    for number, (name, command) in enumerate(probes, start=1):
        lines.append(
            f'if kj_s {number} {quote(name)}; then ( {command}\n) 9>&- & kj_c=$!; wait "$kj_c"; '
            f"kj_e {number} {quote(name)} $?; fi"
        )
    return "\n".join(lines) + "\n"


def _ids(item_id: str) -> str:
    """Return an id encoded both ways (base64, hex), so the host picks one without starting a process."""
    raw = item_id.encode()
    return f"{base64.b64encode(raw).decode()} {raw.hex()}"


def _grep(expressions: tuple[str, ...]) -> str:
    return " ".join(f"-e {quote(e)}" for e in expressions)
