"""time parser (chrony sources) vs chronyd: `chronyd -p -f FILE` on generated configurations.

Reference: chronyd's own `-p` ("print the configuration and exit"), which prints every directive
it read, in order, with `include` and `confdir` expanded (file selection, the *.conf suffix, the
same-name rule across several confdir directories, file-name order, comments, case-insensitive
directive names). The truth per tree: the server/pool/peer lines it prints.

Not run here: `sourcedir`. chronyd -p prints the directive without reading its *.sources files
(they are read when sources are reloaded at start-up, which would send NTP traffic); the parser
reads them with the confdir rules and the *.sources suffix, covered by tests/cases/time.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

from scanner.facts.time import _chrony_servers
from scanner.rawfacts import build_raw
from tests.reference.ns import agreement, need

SEED, TREES = 20261207, 200
SOURCES = ("server", "pool", "peer", "Server", "POOL")
OTHER = ("driftfile /var/lib/chrony/chrony.drift", "makestep 1 3", "rtcsync", "leapsectz right/UTC")


def source(rng: random.Random) -> str:
    host = f"ntp{rng.randint(1, 99)}.example.lg.jp"
    return f"{rng.choice(SOURCES)} {host}{rng.choice(['', ' iburst', ' iburst maxsources 2'])}"


def lines(rng: random.Random) -> list[str]:
    out = []
    for _ in range(rng.randint(0, 4)):
        kind = rng.random()
        if kind < 0.5:
            out.append(source(rng))
        elif kind < 0.75:
            out.append(rng.choice("!;#%") + " " + source(rng))  # a comment
        else:
            out.append(rng.choice(OTHER))
    return out


def generate(rng: random.Random, root: Path) -> dict[str, str]:
    """Write a tree under root and return {absolute path: content} of every file in it."""
    files: dict[str, str] = {}
    dirs = [root / "conf.d", root / "extra.d"]
    names = ("10-a.conf", "50-same.conf", "90-z.conf", "x.sources", "y.conf.bak")
    for folder in dirs:
        for name in rng.sample(names, rng.randint(0, 3)):
            files[str(folder / name)] = "\n".join(lines(rng)) + "\n"
    for number in range(rng.randint(0, 2)):
        files[str(root / f"inc{number}.conf")] = "\n".join(lines(rng)) + "\n"
    main = lines(rng)
    for directive in rng.sample(
        [
            f"confdir {dirs[0]}",
            f"confdir {dirs[0]} {dirs[1]}",
            f"include {root}/inc*.conf",
            f"include {root}/inc0.conf",
        ],
        rng.randint(0, 2),
    ):
        main.insert(rng.randint(0, len(main)), directive)
    files[str(root / "chrony.conf")] = "\n".join(main) + "\n"
    for path, text in files.items():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)
    return files


def truth(root: Path) -> list[str] | None:
    """Return the sources chronyd prints, None when it refuses the configuration."""
    run = subprocess.run(
        ["chronyd", "-p", "-f", str(root / "chrony.conf")], capture_output=True, text=True, check=False
    )
    if run.returncode != 0:
        return None
    words = [line.split() for line in run.stdout.splitlines()]
    return [w[1] for w in words if len(w) > 1 and w[0].lower() in ("server", "pool", "peer")]


def parsed(files: dict[str, str], root: Path) -> list[str] | None:
    """Return the sources the parser reads, None when it raises (the subject is then an error)."""
    main = files.pop(str(root / "chrony.conf"))
    raw = build_raw(files={"/etc/chrony/chrony.conf": main, **files})
    try:
        return _chrony_servers(raw)
    except ValueError:
        return None


def test_chrony_sources_agree_with_chronyd_p(tmp_path: Path) -> None:
    need("chronyd")
    rng = random.Random(SEED)
    results = []
    with_includes = 0
    for number in range(TREES):
        root = tmp_path / str(number)
        files = generate(rng, root)
        with_includes += "confdir" in files[str(root / "chrony.conf")]
        want, got = truth(root), parsed(dict(files), root)
        results.append((f"tree {number}: chronyd {want}, kijun {got}", want == got))
    assert with_includes > TREES / 4  # the generator reaches confdir, not only the main file
    agreement("chrony sources vs chronyd -p", results)
