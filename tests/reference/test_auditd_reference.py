"""auditd parser (rules from files) vs augenrules on generated /etc/audit/rules.d trees.

Reference: the audit package's own `augenrules`, run in a private mount namespace where a
generated tree is bound over /etc/audit and a no-op is bound over auditctl (so nothing reaches
the kernel). augenrules compiles rules.d into /etc/audit/audit.rules as auditd's start-up loads
it: only *.rules files, in `ls -v` order, comment and blank lines dropped, `-D`/`-b`/`-f` first
and `-e` last. The truth per tree: the -a/-A/-w rule lines of the compiled file, in order,
compared with the parser's `rules` when it reads the files (auditctl could not be asked).

Not run here: `auditctl -R` / `auditctl -l`. They would load the generated rules into the
kernel, whose audit rule list is global to the machine (no namespace isolates it), so a test must
not change it. How loaded rules print (`auid!=-1`, `-S all`) is covered by recorded `auditctl -l`
output in tests/facts/test_auditd.py.
"""

from __future__ import annotations

import random
from pathlib import Path

from scanner.facts import Context, auditd
from scanner.inventory import local_host
from scanner.rawfacts import build_raw
from tests.reference.ns import agreement, in_namespace, need

INV = local_host()
CTX = Context(INV.hosts[0], INV)
SEED, TREES = 20261207, 200
NAMES = ("10-base.rules", "9-early.rules", "30-stig.rules", "99-finalize.rules", "README", "old.rules.bak")
RULES = (
    "-w /etc/passwd -p wa -k identity",
    "-w /etc/shadow -p w -k identity",
    "-w /var/log/lastlog -p wa -k logins",
    "-a always,exit -F path=/usr/bin/sudo -F perm=x -F auid>=1000 -F auid!=unset -k privileged",
    "-a always,exit -F arch=b64 -S execve -C uid!=euid -F euid=0 -k setuid",
    "-a never,exit -F path=/etc/shadow -F perm=wa",
    "-A always,exit -F arch=b64 -S adjtimex,settimeofday -k time-change",
    "-w /etc/sudoers -p wa -k actions#1",
)
CONTROL = ("-D", "-b 8192", "-f 1", "-e 2", "--backlog_wait_time 60000")


def text(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(0, 5)):
        kind = rng.random()
        if kind < 0.6:
            lines.append(rng.choice(["", "  ", "\t"]) + rng.choice(RULES))
        elif kind < 0.75:
            lines.append(rng.choice(["# ", "  #", "#"]) + rng.choice(RULES))
        elif kind < 0.9:
            lines.append(rng.choice(CONTROL))
        else:
            lines.append("")
    return "\n".join(lines) + "\n"


def generate(rng: random.Random, root: Path) -> dict[str, str]:
    files = {name: text(rng) for name in rng.sample(NAMES, rng.randint(1, 4))}
    (root / "rules.d").mkdir(parents=True)
    for name, content in files.items():
        (root / "rules.d" / name).write_text(content)
    return {f"/etc/audit/rules.d/{name}": content for name, content in files.items()}


SCRIPT = """
stage=$1; shift
printf '#!/bin/sh\\nexit 0\\n' > "$stage/auditctl" && chmod 755 "$stage/auditctl"
mount --bind "$stage/auditctl" /usr/sbin/auditctl
mount --bind "$stage/audit" /etc/audit
for tree in "$@"; do
  rm -rf /etc/audit/rules.d /etc/audit/audit.rules
  cp -a "$tree/rules.d" /etc/audit/rules.d
  augenrules > /dev/null 2>&1 || true
  if [ -f /etc/audit/audit.rules ]; then cp /etc/audit/audit.rules "$tree/audit.rules"; fi
done
"""


def truth(root: Path) -> list[str]:
    compiled = root / "audit.rules"
    if not compiled.exists():
        return []  # augenrules: "No rules"
    out = []
    for line in compiled.read_text().splitlines():
        words = line.split()
        if words and words[0] in ("-a", "-A", "-w"):
            out.append(line.strip())
    return out


def test_auditd_file_rules_agree_with_augenrules(tmp_path: Path) -> None:
    need("augenrules")
    rng = random.Random(SEED)
    stage = tmp_path / "stage"
    (stage / "audit").mkdir(parents=True)
    trees, roots = [], []
    for number in range(TREES):
        root = tmp_path / str(number)
        trees.append(generate(rng, root))
        roots.append(str(root))
    run = in_namespace(SCRIPT, str(stage), *roots)
    assert run.returncode == 0, run.stderr
    results, reordered = [], 0
    for number, files in enumerate(trees):
        want = truth(Path(roots[number]))
        facts = auditd.parse(build_raw(files=files, absent=["/etc/audit/audit.rules"]), CTX)
        got = facts["rules"]
        reordered += (
            "/etc/audit/rules.d/9-early.rules" in files and "/etc/audit/rules.d/10-base.rules" in files
        )
        results.append((f"tree {number}: augenrules {want}, kijun {got}: {files}", want == got))
    assert reordered > 10  # `ls -v` puts 9-early before 10-base: the order is exercised
    agreement("audit rules vs augenrules", results)
