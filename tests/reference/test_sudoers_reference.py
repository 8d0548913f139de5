"""sudoers parser vs sudo: `visudo -c -f` and `sudo -l -U user -h host` on generated sudoers trees.

Reference: sudo 1.9 itself, in a private mount namespace where each generated /etc/sudoers and
/etc/sudoers.d (plus a fixed /etc/passwd and /etc/group naming the users and groups) are bound
over the machine's. `visudo -c -f /etc/sudoers` says whether sudo accepts the tree (with its
includes); `sudo -l -U user -h host` lists what each user may run on each host named in the tree
and on this one, with the NOPASSWD tag in force for each command. The truth per user: some command
listed with NOPASSWD (on db01 or web01, the hosts the trees name: a rule for ALL hosts matches
both; kijun counts host-restricted rules as well) that is ALL or as
good as ALL. Which commands are "as good as ALL" is kijun's own table (scanner/facts/sudo_power.py,
no reference program decides it); who may run what, with or without a password, is sudo's.
For a tree visudo rejects, the parser must raise too (the subject is then an error).
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from scanner.facts import Context, sudoers
from scanner.facts.sudo_power import why_all
from scanner.inventory import local_host
from scanner.rawfacts import build_raw
from tests.reference.ns import agreement, in_namespace, need

INV = local_host()
CTX = Context(INV.hosts[0], INV)
SEED, TREES = 20261207, 100
USERS = ("alice", "bob", "carol", "dave")
GROUPS = {"ops": ("bob", "carol"), "dev": ("dave",)}
HOSTS = ("db01", "web01")
COMMANDS = (
    "ALL", "/bin/sh", "/usr/bin/vim /etc/hosts", "/usr/bin/systemctl start x.service", "/usr/bin/ls",
    "/usr/bin/python3", "/usr/bin/find", "/usr/local/sbin/*", "/usr/bin/less /var/log/syslog", "/usr/sbin/reboot",
)  # fmt: skip
PASSWD = "root:x:0:0:root:/root:/bin/bash\n" + "".join(
    f"{u}:x:{1001 + i}:{1001 + i}::/home/{u}:/bin/bash\n" for i, u in enumerate(USERS)
)
GROUP = "root:x:0:\n" + "".join(
    f"{g}:x:{2001 + i}:{','.join(m)}\n" for i, (g, m) in enumerate(GROUPS.items())
)


def rule(rng: random.Random, aliases: list[str]) -> str:
    who = rng.choice([*USERS, "%ops", "%dev", "ALL", "ADMINS", "alice, %ops"])
    host = rng.choice(["ALL", "ALL", *HOSTS])
    specs = []
    for _ in range(rng.randint(1, 3)):
        tag = rng.choice(["", "", "NOPASSWD: ", "PASSWD: ", "NOPASSWD:NOEXEC: "])
        specs.append(tag + rng.choice([*COMMANDS, *aliases]))
    runas = rng.choice(["", "(root) ", "(ALL:ALL) ", "(ALL) "])
    return f"{who} {host} = {runas}{', '.join(specs)}"


def broken(rng: random.Random) -> str:
    return rng.choice(
        ["alice", "alice ALL", "bob ALL = NOPASWD: ALL", "cmnd_alias x = /bin/ls", "%ops ALL = (root"]
    )


def sudoers_file(rng: random.Random, includedir: bool) -> str:
    aliases = ["SHELLS", "SAFE"] if rng.random() < 0.5 else []
    lines = ["Defaults env_reset", "root ALL=(ALL:ALL) ALL", "User_Alias ADMINS = carol, dave"]
    if aliases:
        lines += ["Cmnd_Alias SHELLS = /bin/sh, /bin/bash", "Cmnd_Alias SAFE = /usr/bin/ls, /usr/sbin/reboot"]
    lines += [rule(rng, aliases) for _ in range(rng.randint(0, 4))]
    if rng.random() < 0.08:
        lines.append(broken(rng))
    if includedir:
        lines.append(rng.choice(["@includedir /etc/sudoers.d", "#includedir /etc/sudoers.d"]))
    return "\n".join(lines) + "\n"


def generate(rng: random.Random) -> dict[str, str]:
    files = {sudoers.SUDOERS: sudoers_file(rng, rng.random() < 0.7)}
    for name in rng.sample(["10-ops", "50-dev", "60.disabled", "70-old~", "README"], rng.randint(0, 3)):
        text = "# nothing here\n" if name == "README" else "\n".join(rule(rng, []) for _ in range(2)) + "\n"
        files[f"{sudoers.SUDOERS_DIR}/{name}"] = text
    return files


SCRIPT = """
stage=$1; shift
for f in sudoers passwd group; do mount --bind "$stage/$f" "/etc/$f"; done
mount --bind "$stage/sudoers.d" /etc/sudoers.d
for tree in "$@"; do
  cat "$tree/sudoers" > /etc/sudoers
  rm -f /etc/sudoers.d/* /etc/sudoers.d/.[!.]*
  cp "$tree/sudoers.d/." -a /etc/sudoers.d/ 2>/dev/null || cp -a "$tree/sudoers.d/." /etc/sudoers.d/
  chmod 0440 /etc/sudoers /etc/sudoers.d/* 2>/dev/null || true
  if visudo -c -q -f /etc/sudoers >/dev/null 2>&1; then echo ok > "$tree/visudo"; else echo bad > "$tree/visudo"; continue; fi
  for user in alice bob carol dave; do
    for host in db01 web01; do
      echo "== $user $host" >> "$tree/sudo-l"
      sudo -l -U "$user" -h "$host" >> "$tree/sudo-l" 2>&1 || true
    done
  done
done
"""


def listed(text: str) -> dict[str, list[tuple[bool, str]]]:
    """Return (nopasswd, command) per user from the `sudo -l` listings."""
    out: dict[str, list[tuple[bool, str]]] = {u: [] for u in USERS}
    for block in re.split(r"^== ", text, flags=re.M)[1:]:
        user = block.split()[0]
        body = re.sub(r"\n {8,}", " ", block.split("may run the following commands on", 1)[-1])
        for line in body.splitlines():
            if not line.startswith("    ("):
                continue
            nopasswd = False
            for spec in line.split(")", 1)[1].split(","):
                while tag := re.match(
                    r"\s*(NO)?(PASSWD|EXEC|SETENV|LOG_INPUT|LOG_OUTPUT|MAIL|FOLLOW|INTERCEPT):", spec
                ):
                    if tag.group(2) == "PASSWD":
                        nopasswd = tag.group(1) == "NO"
                    spec = spec[tag.end() :]
                out[user].append((nopasswd, spec.strip()))
    return out


def covered(user: str, principals: list[str]) -> bool:
    groups = [g for g, members in GROUPS.items() if user in members]
    return "ALL" in principals or user in principals or any(f"%{g}" in principals for g in groups)


def test_sudoers_parser_agrees_with_sudo(tmp_path: Path) -> None:
    need("sudo", "visudo")
    rng = random.Random(SEED)
    stage = tmp_path / "stage"
    (stage / "sudoers.d").mkdir(parents=True)
    for name, text in (("sudoers", ""), ("passwd", PASSWD), ("group", GROUP)):
        (stage / name).write_text(text)
    trees, roots = [generate(rng) for _ in range(TREES)], []
    for number, files in enumerate(trees):
        root = tmp_path / str(number)
        (root / "sudoers.d").mkdir(parents=True)
        for path, text in files.items():
            (root / path.removeprefix("/etc/")).write_text(text)
        roots.append(str(root))
    run = in_namespace(SCRIPT, str(stage), *roots)
    assert run.returncode == 0, run.stderr
    results, refused, granted = [], 0, 0
    for number, files in enumerate(trees):
        root = Path(roots[number])
        raw = build_raw(files=files)
        if (root / "visudo").read_text().strip() == "bad":
            refused += 1
            try:
                sudoers.parse(raw, CTX)
                results.append((f"tree {number}: visudo refuses it, kijun reads it: {files}", False))
            except ValueError:
                results.append((f"tree {number}", True))
            continue
        facts = sudoers.parse(raw, CTX)
        for user, commands in listed((root / "sudo-l").read_text()).items():
            want = any(nopasswd and why_all(command) for nopasswd, command in commands)
            got = covered(user, facts["nopasswd_all"])
            granted += want
            results.append(
                (f"tree {number} {user}: sudo {want}, kijun {got}: {commands} {files}", want == got)
            )
    assert refused > 3 and granted > 50  # the generator reaches both refusals and grants
    agreement("sudoers vs visudo and sudo -l", results)
