"""login_defs parser vs shadow-utils: `useradd --prefix DIR` on generated login.defs files.

Reference: shadow-utils' own getdef, as `useradd --prefix DIR` uses it: it reads DIR/etc/login.defs
and writes the new account into DIR/etc/passwd and DIR/etc/shadow with PASS_MIN_DAYS,
PASS_MAX_DAYS and PASS_WARN_AGE in the shadow fields (empty for -1, the default of an item that is
missing or that getdef cannot read) and the first uid at UID_MIN. Run in a private mount
namespace with the journal socket hidden, so the machine's logs get no "new user" lines; every
file written is under the per-tree prefix. The truth per file: (min, max, warn, uid).

Only these four items are compared: nothing else that reads login.defs prints what it read.
"""

from __future__ import annotations

import random
from pathlib import Path

from scanner.facts import Context, login_defs
from scanner.inventory import local_host
from scanner.rawfacts import build_raw
from tests.reference.ns import agreement, in_namespace, need

INV = local_host()
CTX = Context(INV.hosts[0], INV)
SEED, TREES = 20261207, 150
DAYS = ("90", "60", "-1", "99999", "0", '"30"', "060", "0x1e", "45 # ward rule", "abc", "1e3", "-5", "")
UIDS = ("1000", "2000", "0x800", "01750", "1500 # x", "x")


def line(rng: random.Random) -> str:
    key = rng.choice(["PASS_MAX_DAYS", "PASS_MIN_DAYS", "PASS_WARN_AGE", "UID_MIN"])
    value = rng.choice(UIDS if key == "UID_MIN" else DAYS)
    space = rng.choice([" ", "\t", "  ", "\t\t"])
    lead = rng.choice(["", "", " ", "#", "# "])
    return f"{lead}{key}{space}{value}".rstrip() if value else key


def generate(rng: random.Random, root: Path) -> str:
    text = "\n".join(line(rng) for _ in range(rng.randint(1, 8))) + "\n"
    etc = root / "etc"
    etc.mkdir(parents=True)
    (etc / "login.defs").write_text(text)
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (etc / "group").write_text("root:x:0:\nusers:x:100:\n")
    (etc / "shadow").write_text("root:*:20000:0:99999:7:::\n")
    (etc / "gshadow").write_text("root:*::\n")
    return text


SCRIPT = """
mount -t tmpfs kijun /run/systemd/journal 2>/dev/null || true
for root in "$@"; do
  useradd --prefix "$root" kjref > "$root/useradd.out" 2>&1 || true
done
"""


def truth(root: Path) -> tuple[str, str, str, str] | None:
    shadow = [
        ln.split(":") for ln in (root / "etc" / "shadow").read_text().splitlines() if ln.startswith("kjref:")
    ]
    passwd = [
        ln.split(":") for ln in (root / "etc" / "passwd").read_text().splitlines() if ln.startswith("kjref:")
    ]
    if not shadow or not passwd:
        return None  # useradd refused (e.g. UID_MIN above UID_MAX)
    return shadow[0][3], shadow[0][4], shadow[0][5], passwd[0][2]


def parsed(text: str) -> tuple[str, str, str, str]:
    facts = login_defs.parse(build_raw(files={login_defs.LOGIN_DEFS: text}), CTX)

    def days(key: str) -> str:
        value = facts.get(key, -1)
        return "" if not isinstance(value, int) or value == -1 else str(value)

    uid = facts.get("uid_min", 1000)
    return (
        days("pass_min_days"),
        days("pass_max_days"),
        days("pass_warn_age"),
        str(uid if isinstance(uid, int) else 1000),
    )


def test_login_defs_agrees_with_useradd(tmp_path: Path) -> None:
    need("useradd")
    rng = random.Random(SEED)
    texts, roots = [], []
    for number in range(TREES):
        root = tmp_path / str(number)
        texts.append(generate(rng, root))
        roots.append(str(root))
    run = in_namespace(SCRIPT, *roots)
    assert run.returncode == 0, run.stderr
    results = []
    for number, text in enumerate(texts):
        want, got = truth(Path(roots[number])), parsed(text)
        results.append((f"login.defs {number}: useradd {want}, kijun {got}: {text!r}", want == got))
    assert sum(want != ("", "", "", "1000") for want in (truth(Path(r)) for r in roots)) > TREES / 2
    agreement("login.defs vs useradd --prefix", results)
