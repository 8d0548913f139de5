"""journald parser vs systemd: `systemd-analyze cat-config --root=TREE systemd/journald.conf`.

Reference: systemd's own `cat-config`, which prints the files journald reads, in the order it
applies them: /etc/systemd/journald.conf, then the drop-ins of /etc, /run, /usr/local/lib and
/usr/lib (`systemd/journald.conf.d/*.conf`), a name in an earlier directory hiding the same name
in a later one, in file-name order. The truth per tree: the last [Journal] Storage= and
MaxRetentionSec= over the printed files in that order (an empty value restores the default), read
with systemd's line rules ('#' or ';' first is a comment). The file selection and order are
systemd's; the last-assignment rule is the test's own reading of systemd.syntax(7).

Not run here: journald itself (it has no "print the configuration" mode).
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

from scanner.facts import Context, journald
from scanner.inventory import local_host
from scanner.rawfacts import build_raw
from tests.reference.ns import agreement, need

INV = local_host()
CTX = Context(INV.hosts[0], INV)
SEED, TREES = 20261207, 200
DIRS = ("etc", "run", "usr/local/lib", "usr/lib")
NAMES = ("10-a.conf", "50-same.conf", "90-z.conf", "b.conf.disabled", ".hidden.conf")
STORAGE = ("volatile", "persistent", "auto", "none", "")
RETENTION = ("1month", "5y", "2w 3d", "3600", "0", "1y", "")
DEFAULTS = {"Storage": "auto", "MaxRetentionSec": "0"}


def setting(rng: random.Random) -> str:
    key = rng.choice(("Storage", "MaxRetentionSec"))
    value = rng.choice(STORAGE if key == "Storage" else RETENTION)
    return rng.choice([f"{key}={value}", f"{key} = {value}", f"#{key}={value}", f";{key}={value}"])


def text(rng: random.Random) -> str:
    body = [setting(rng) for _ in range(rng.randint(0, 3))]
    head = rng.choice(["[Journal]", "[Journal]", "[Journal]", "[Other]"])
    stray = [setting(rng)] if rng.random() < 0.2 else []  # before any section: ignored
    return "\n".join([*stray, head, *body]) + "\n"


def generate(rng: random.Random, root: Path) -> dict[str, str]:
    """Write a tree under root; return {path on the host: content}."""
    files: dict[str, str] = {}
    if rng.random() < 0.8:
        files["/etc/systemd/journald.conf"] = text(rng)
    for folder in DIRS:
        for name in rng.sample(NAMES, rng.randint(0, 3)):
            files[f"/{folder}/systemd/journald.conf.d/{name}"] = text(rng)
    for path, content in files.items():
        (root / path[1:]).parent.mkdir(parents=True, exist_ok=True)
        (root / path[1:]).write_text(content)
    return files


def truth(root: Path) -> tuple[str, int | None]:
    run = subprocess.run(
        ["systemd-analyze", "cat-config", f"--root={root}", "systemd/journald.conf"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    printed = [line[2:] for line in run.stdout.splitlines() if line.startswith(f"# {root}/")]
    settings = dict(DEFAULTS)
    for path in printed:
        section = ""
        for line in Path(path).read_text().splitlines():
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
            elif section == "[Journal]" and "=" in line:
                key, value = (part.strip() for part in line.split("=", 1))
                if key in settings:
                    settings[key] = value or DEFAULTS[key]
    seconds = journald.seconds(settings["MaxRetentionSec"])
    return settings["Storage"], int(seconds // 86400) if seconds > 0 else None


def parsed(files: dict[str, str]) -> tuple[str, int | None]:
    main = "/etc/systemd/journald.conf"
    raw = build_raw(files=files, absent=[] if main in files else [main])
    facts = journald.parse(raw, CTX)
    return facts["storage"], facts["max_retention_days"]


def test_journald_agrees_with_systemd_cat_config(tmp_path: Path) -> None:
    need("systemd-analyze")
    rng = random.Random(SEED)
    results = []
    for number in range(TREES):
        root = tmp_path / str(number)
        root.mkdir()
        files = generate(rng, root)
        want, got = truth(root), parsed(files)
        results.append((f"tree {number}: systemd {want}, kijun {got}: {files}", want == got))
    agreement("journald vs systemd-analyze cat-config", results)
