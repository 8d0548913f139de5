"""modules parser vs kmod: `modprobe --showconfig` on generated modprobe.d trees.

Reference: kmod's own `modprobe --showconfig` (`-c`), run in a private mount namespace where each
generated tree is put on /etc/modprobe.d, /run/modprobe.d, /usr/local/lib/modprobe.d and
/usr/lib/modprobe.d (= /lib/modprobe.d on Debian's merged /usr). The truth per tree: the modules
kmod blacklists, and for each module the first install line (the one modprobe runs) and whether it
runs /bin/true or /bin/false. Compared with the parser's `blacklisted` and `install_disabled`.
"""

from __future__ import annotations

import random
from pathlib import Path

from scanner.facts import Context, modules
from scanner.inventory import local_host
from scanner.rawfacts import build_raw
from tests.reference.ns import agreement, in_namespace, need

INV = local_host()
CTX = Context(INV.hosts[0], INV)
SEED, TREES = 20261207, 200
# directory in the tree → where kmod reads it (and the paths the collector reports it under)
DIRS = {
    "etc": ("/etc/modprobe.d",),
    "run": ("/run/modprobe.d",),
    "local": ("/usr/local/lib/modprobe.d",),
    "usr": ("/usr/lib/modprobe.d", "/lib/modprobe.d"),
}
NAMES = ("usb-storage", "usb_storage", "cramfs", "firewire-core", "uas", "dccp", "sctp")
FILES = (
    "00-a.conf",
    "10-b.conf",
    "50-same.conf",
    "90-z.conf",
    "x.alias",
    ".hidden.conf",
    "noext",
    "c.conf.bak",
)
DISABLING = ("/bin/true", "/bin/false", "/usr/bin/false", "/usr/bin/true")


def line(rng: random.Random) -> str:
    name = rng.choice(NAMES)
    command = rng.choice([*DISABLING, f"/sbin/modprobe --ignore-install {name}", "/bin/echo no"])
    return rng.choice(
        [
            f"blacklist {name}",
            f"blacklist {name}",
            f"install {name} {command}",
            f"install {name} {command}",
            f"install {name} \\\n  {command}",
            f"  blacklist\t{name}",
            f"# blacklist {name}",
            f"blacklist {name} # comment",
            f"options {name} foo=1",
            f"softdep {name} pre: uas",
            "",
        ]
    )


def generate(rng: random.Random) -> dict[str, dict[str, str]]:
    """Return {tree dir: {file name: content}}; same names in several dirs test the override."""
    tree: dict[str, dict[str, str]] = {}
    for key in DIRS:
        for name in rng.sample(FILES, rng.randint(0, 4)):
            tree.setdefault(key, {})[name] = "".join(line(rng) + "\n" for _ in range(rng.randint(1, 5)))
    return tree


def write(tree: dict[str, dict[str, str]], root: Path) -> None:
    for key in DIRS:
        (root / key).mkdir(parents=True)
        for name, text in tree.get(key, {}).items():
            (root / key / name).write_text(text)


SCRIPT = """
mkdir -p /run /usr/local/lib
mount -t tmpfs kijun /run && mkdir /run/modprobe.d
mount -t tmpfs kijun /usr/local/lib && mkdir /usr/local/lib/modprobe.d
mount -t tmpfs kijun /etc/modprobe.d
mount -t tmpfs kijun /usr/lib/modprobe.d
for tree in "$@"; do
  rm -rf /etc/modprobe.d/* /etc/modprobe.d/.[!.]* /run/modprobe.d/* /run/modprobe.d/.[!.]* \
    /usr/local/lib/modprobe.d/* /usr/local/lib/modprobe.d/.[!.]* /usr/lib/modprobe.d/* /usr/lib/modprobe.d/.[!.]*
  cp -a "$tree/etc/." /etc/modprobe.d/
  cp -a "$tree/run/." /run/modprobe.d/
  cp -a "$tree/local/." /usr/local/lib/modprobe.d/
  cp -a "$tree/usr/." /usr/lib/modprobe.d/
  modprobe --showconfig > "$tree/showconfig" 2>/dev/null
done
"""


def truth(showconfig: str) -> tuple[set[str], set[str]]:
    """Return (blacklisted, install-disabled) modules from `modprobe -c` (first install line wins)."""
    blacklisted: set[str] = set()
    disabled: set[str] = set()
    seen: set[str] = set()
    for text in showconfig.split("# End of configuration files")[0].splitlines():
        words = text.split()
        if len(words) >= 2 and words[0] == "blacklist":
            blacklisted.add(words[1])
        elif len(words) >= 2 and words[0] == "install" and words[1] not in seen:
            seen.add(words[1])
            if len(words) > 2 and words[2] in DISABLING:
                disabled.add(words[1])
    return blacklisted, disabled


def parsed(tree: dict[str, dict[str, str]]) -> tuple[set[str], set[str]]:
    files = {f"{path}/{name}": text for key, paths in DIRS.items() for path in paths for name, text in tree.get(key, {}).items()}  # fmt: skip
    facts = modules.parse(build_raw(files=files), CTX)
    entries = {k: v for k, v in facts.items() if isinstance(v, dict) and k != "_origins"}
    return (
        {k for k, v in entries.items() if v["blacklisted"]},
        {k for k, v in entries.items() if v["install_disabled"]},
    )


def test_modules_parser_agrees_with_modprobe_showconfig(tmp_path: Path) -> None:
    need("modprobe")
    rng = random.Random(SEED)
    trees = [generate(rng) for _ in range(TREES)]
    roots = []
    for number, tree in enumerate(trees):
        write(tree, tmp_path / str(number))
        roots.append(str(tmp_path / str(number)))
    run = in_namespace(SCRIPT, *roots)
    assert run.returncode == 0, run.stderr
    results = []
    for number, tree in enumerate(trees):
        want = truth((tmp_path / str(number) / "showconfig").read_text())
        got = parsed(tree)
        results.append((f"tree {number}: modprobe {want}, kijun {got}: {tree}", want == got))
    # the generator is not degenerate: most trees disable something, and the override is exercised
    assert (
        sum(
            "etc" in tree and "usr" in tree and set(tree["etc"]) & set(tree["usr"]) != set() for tree in trees
        )
        > 10
    )
    agreement("modules vs modprobe --showconfig", results)
