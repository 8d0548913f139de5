"""Differential test of the static sshd reading: generated config trees, read by kijun and by the real `sshd -T`.

Each tree is written under ``<tmp>/root/etc/ssh`` and read twice with the same absolute paths:
kijun collects it with the files transport (the collector's own rules: only ``sshd_config`` and
the non-hidden regular files of ``sshd_config.d``), and the real sshd reads it in a private mount
namespace where the tree is bind-mounted over ``/etc/ssh``. That way relative Include paths, which
sshd resolves against its compiled-in ``/etc/ssh``, mean the same file to both, with no rewriting.

A tree sshd rejects must make kijun raise; a tree sshd accepts must give the same value for every
keyword docs/facts.md promises (and every other keyword the tree sets); a tree whose Include names
files the collector does not read must make kijun raise rather than read part of the truth.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from scanner.collect import plan_for
from scanner.collect.files import gather
from scanner.facts import Context, sshd
from scanner.inventory import local_host
from scanner.rawfacts import RawFacts, build_raw
from tests.facts.test_sshd import DOC_KEYWORDS

SEED, TREES = 20261121, 200
CTX = Context(local_host().hosts[0], local_host())
SSHD = "/usr/sbin/sshd"

# fmt: off
YES_NO = ["yes", "no", "Yes", "NO"]
# keyword (as written in sshd_config(5)) -> values sshd accepts; a tuple of words is one line's arguments.
VALUES: dict[str, list[Any]] = {
    "PermitRootLogin": ["yes", "no", "prohibit-password", "without-password", "forced-commands-only", "No", "YES"],
    "PasswordAuthentication": YES_NO, "KbdInteractiveAuthentication": YES_NO,
    "ChallengeResponseAuthentication": YES_NO, "PubkeyAuthentication": YES_NO,
    "PermitEmptyPasswords": YES_NO, "UsePAM": YES_NO, "X11Forwarding": YES_NO,
    "AuthenticationMethods": [
        "any", "publickey", "publickey,password", "publickey,keyboard-interactive",
        "password,keyboard-interactive:pam", ("publickey,password", "publickey,keyboard-interactive"),
        "keyboard-interactive", "publickey,publickey",
    ],
    "MaxAuthTries": ["3", "6", "10", "04"],
    "ClientAliveInterval": ["0", "300", "5m", "1h", "90s", "1m30s", "2M"],
    "ClientAliveCountMax": ["0", "2", "3", "10"],
    "LoginGraceTime": ["0", "30", "2m", "1h30m", "120"],
    "AllowTcpForwarding": ["yes", "no", "all", "local", "remote", "Local"],
    "LogLevel": ["INFO", "VERBOSE", "debug1", "Debug3", "quiet", "ERROR"],
    "SyslogFacility": ["AUTH", "authpriv", "LOCAL0", "local7", "DAEMON"],
    "Ciphers": [
        "aes256-gcm@openssh.com,aes128-ctr", "+aes128-cbc", "-chacha20-poly1305@openssh.com",
        "^aes256-ctr", "-aes*-ctr", "chacha20-poly1305@openssh.com",
    ],
    "MACs": ["hmac-sha2-512-etm@openssh.com,hmac-sha2-256", "-hmac-sha1*,umac-64*", "+hmac-md5", "^hmac-sha2-512"],
    "KexAlgorithms": [
        "curve25519-sha256,curve25519-sha256@libssh.org", "-diffie-hellman-group14-sha256",
        "+diffie-hellman-group14-sha1", "^ecdh-sha2-nistp521", "-sntrup761x25519*,ecdh-*",
    ],
    "Port": ["22", "2222", "0022", "65535"],
    "ListenAddress": ["10.0.0.1", "10.0.0.2:2200", "0.0.0.0", "[::1]:2201", "::", "192.0.2.7"],
    "AllowUsers": ["alice", ("bob", "carol"), "admin@10.0.0.0/8", "ops*", "u?"],
    "AllowGroups": ["sshusers", ("wheel", "admins")],
    "DenyUsers": ["root", ("guest", "nobody")],
    "DenyGroups": ["nossh"],
    # Others, read the same way (docs: "every keyword in lowercase as sshd -T prints it").
    "Banner": ["none", "/etc/issue.net"],
    "PrintMotd": YES_NO, "PermitTTY": YES_NO, "MaxSessions": ["2", "10"], "TCPKeepAlive": YES_NO,
    "AcceptEnv": ["LANG", ("LC_*", "TZ")], "X11UseLocalhost": YES_NO, "IgnoreRhosts": YES_NO,
    "GatewayPorts": ["no", "yes", "clientspecified"], "Compression": ["yes", "no", "delayed"],
    "UseDNS": YES_NO, "PrintLastLog": YES_NO, "AddressFamily": ["any", "inet"],
    "HostbasedAuthentication": YES_NO, "PermitUserEnvironment": ["no", "yes"],
}
# Keywords sshd allows inside a Match block (the others make a non-matching block fatal).
IN_MATCH = [
    "PermitRootLogin", "PasswordAuthentication", "KbdInteractiveAuthentication", "PubkeyAuthentication",
    "PermitEmptyPasswords", "X11Forwarding", "AuthenticationMethods", "MaxAuthTries", "ClientAliveInterval",
    "ClientAliveCountMax", "AllowTcpForwarding", "LogLevel", "AllowUsers", "AllowGroups", "DenyUsers",
    "DenyGroups", "Banner", "PermitTTY", "MaxSessions", "AcceptEnv", "GatewayPorts", "IgnoreRhosts",
]
MATCHES = [
    "User alice", "Group admins,wheel", "Address 10.0.0.0/8", "LocalPort 2222", "Host *.example.org",
    "User bob Address 192.0.2.0/24", "User !root,*", "all", "All", "LocalAddress 10.0.0.1", "user deploy",
    "User root", "User root Address 10.0.0.0/8", "Address !10.0.0.0/8,*", "LocalPort 22", "Group root",
    "User zed,ro*", "Address 192.0.2.0/24", "User !root", "Host *",
]
DROPINS = ["00-base.conf", "10-auth.conf", "20-net.conf", "50-cloud-init.conf", "99-last.conf", "a.conf",
           "B.conf", "x.txt", "extra.conf", ".hidden.conf"]
INCLUDES = [
    "sshd_config.d/*.conf", "/etc/ssh/sshd_config.d/*.conf", "sshd_config.d/[0-5]*.conf",
    "sshd_config.d/?0-*.conf", "sshd_config.d/nothing*.conf", "sshd_config.d/*", "/etc/ssh/sshd_config.d/*.txt",
]
# Include patterns naming files an older collector never reads: kijun must refuse to guess. A
# collector that follows Include reads them (and the folders below), and kijun must read them as sshd.
OUTSIDE = ["/etc/ssh/other/*.conf", "sshd_config.d/.hidden.conf", "sshd_config.d/.*.conf", "/etc/ssh/extra.conf",
           "other/*", "other/nested/*.conf", "nothing/*.conf", "other/a.conf", "/etc/ssh/missing.conf"]
ANYWHERE = ["other/a.conf", "other/b.conf", "other/nested/c.conf", "extra.conf"]
# Mutations that sshd rejects: (what, line) written somewhere in the tree.
BROKEN = [
    "PermitRootLogin maybe", "PermitRootLogin", 'PermitRootLogin "no', "LoginGraceTime 2x", "Match all User x",
    "Ciphers aes*-ctr", "MaxAuthTries many", "Port 0", "AuthenticationMethods any,publickey",
    "AuthenticationMethods publickey any", "PasswordAuthentication no\nAuthenticationMethods password",
    "Match User x\nUsePAM no", "Match Address 10.0.0.0/8\nPort 2200", "Match User y\nCiphers aes128-ctr",
    "AddressFamily inet\nListenAddress ::1", "Port 70000", "ClientAliveCountMax -1", "PermitRootLogon no",
    "\f", "PermitRootLogin\vno", "Match User", "Match Foo bar", "AuthenticationMethods any\nAuthenticationMethods any",
    "Include sshd_config", "MaxAuthTries 3_0", "Match LocalPort 0",
]
# Odd spellings sshd accepts (or skips: an open quote in the keyword hides the whole line).
ODD = ['"PermitRootLogin" yes', 'Permit"RootLogin yes', "=MaxAuthTries 5", " = X11Forwarding yes",
       "PasswordAuthentication no\f", 'LogLevel "INFO" #"x', "UsePAM\tyes\t\f", "MaxAuthTries\t+4"]
# fmt: on


@dataclass
class Tree:
    """One generated /etc/ssh: files by path relative to /etc/ssh, and what kijun must do with it."""

    seed: int
    files: dict[str, str] = field(default_factory=dict)
    outside: bool = False  # an Include names a file the collector does not read
    broken: str = ""  # the mutation sshd must reject


class Writer:
    """Render directives with the spellings sshd accepts: case, separators, quotes, comments, blanks."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def keyword(self, word: str) -> str:
        choice = self.rng.random()
        if choice < 0.55:
            return word
        if choice < 0.7:
            return word.lower()
        if choice < 0.8:
            return word.upper()
        return "".join(c.upper() if self.rng.random() < 0.5 else c.lower() for c in word)

    def line(self, word: str, value: Any) -> str:
        args = (
            list(value)
            if isinstance(value, tuple)
            else value.split(" ")
            if word in ("Match", "Include")
            else [value]
        )
        if self.rng.random() < 0.15:
            args = [f'"{a}"' for a in args]
        sep = self.rng.choice([" ", " ", " ", "\t", "=", " = ", "  ", "= "])
        indent = self.rng.choice(["", "", "", "  ", "\t"])
        tail = self.rng.choice(["", "", "", "", " # set by generator", "\t#x", "  "])
        return f"{indent}{self.keyword(word)}{sep}{' '.join(args)}{tail}"

    def noise(self) -> str:
        return self.rng.choice(["", "# comment", "   ", "#PermitRootLogin yes", "\t# Match all", "#"])

    def directive(self, in_match: bool) -> str:
        word = self.rng.choice(IN_MATCH if in_match else list(VALUES))
        return self.line(word, self.rng.choice(VALUES[word]))

    def include(self, tree: Tree) -> str:
        if self.rng.random() < 0.2:
            tree.outside = True
            pattern = self.rng.choice(OUTSIDE)
        else:
            pattern = self.rng.choice(INCLUDES)
            if self.rng.random() < 0.2:
                pattern = f"sshd_config.d/{self.rng.choice(DROPINS[:-1])}"
            if self.rng.random() < 0.15:  # several patterns on one line
                pattern += " " + self.rng.choice(INCLUDES)
        return self.line("Include", pattern)

    def body(self, tree: Tree, size: int, in_match: bool, includes: bool) -> list[str]:
        lines = []
        for _ in range(size):
            roll = self.rng.random()
            if roll < 0.1:
                lines.append(self.noise())
            elif roll < 0.12:
                lines.append(self.rng.choice(ODD))
            elif roll < 0.22 and includes:
                lines.append(self.include(tree))
            else:
                lines.append(self.directive(in_match))
        return lines

    def config(self, tree: Tree, includes: bool) -> str:
        lines = self.body(tree, self.rng.randint(0, 8), False, includes)
        for _ in range(self.rng.choice([0, 0, 1, 1, 2, 3])):
            lines.append(self.line("Match", self.rng.choice(MATCHES)))
            lines += self.body(tree, self.rng.randint(0, 4), True, includes)
        end = self.rng.choice(["\n", "\n", "\n", "\r\n", "\f\n"])
        return end.join(lines) + (end if lines and self.rng.random() < 0.9 else "")


def generate(seed: int) -> Tree:
    """Return one random tree; the same seed always gives the same tree."""
    rng = random.Random(seed)
    writer, tree = Writer(rng), Tree(seed)
    names = rng.sample(DROPINS, rng.randint(0, 5))
    if rng.random() < 0.3:  # files outside sshd_config.d, for an Include anywhere
        names += rng.sample(ANYWHERE, rng.randint(1, 3))
    for name in names:
        # Drop-ins include others only now and then, so that the tree rarely loops.
        where = name if name in ANYWHERE else f"sshd_config.d/{name}"
        tree.files[where] = writer.config(tree, includes=rng.random() < 0.25)
    main = writer.config(tree, includes=True)
    if rng.random() < 0.6:  # Debian's own first line
        main = "Include /etc/ssh/sshd_config.d/*.conf\n" + main
    tree.files["sshd_config"] = main
    if rng.random() < 0.1:
        tree.broken = rng.choice(BROKEN)
        target = rng.choice(sorted(tree.files))
        text = tree.files[target]
        tree.files[target] = text + ("" if text.endswith("\n") or not text else "\n") + tree.broken + "\n"
    return tree


@pytest.fixture(scope="module")
def sshd_ns(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a host key, once sshd can run in a private mount namespace here."""
    if os.geteuid() != 0 or shutil.which("unshare") is None or not os.path.exists(SSHD):
        pytest.skip("needs root, unshare and sshd (a mount namespace puts each tree on /etc/ssh)")
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd -T insists on its privsep directory
    key = tmp_path_factory.mktemp("hostkey") / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key


def real_sshd_T(etc_ssh: Path, key: Path, *spec: str) -> subprocess.CompletedProcess[str]:
    """Run `sshd -T` with the tree mounted over /etc/ssh in a mount namespace of its own."""
    script = 'mount --bind "$1" /etc/ssh && shift && exec "$@"'
    sshd_t = [SSHD, "-T", "-f", "/etc/ssh/sshd_config", "-h", str(key), *spec]
    run = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", str(etc_ssh), *sshd_t],
        capture_output=True,
        text=True,
        env={"LC_ALL": "C", "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        timeout=30,
        check=False,
    )
    # Plain `sshd -T` refuses any config with `Match LocalPort` (it wants the port of a connection);
    # a port no tree uses then stands for "no connection", as for every other criterion.
    if not spec and "'lport' not in connection test" in run.stderr:
        return real_sshd_T(etc_ssh, key, "-C", "lport=1")
    return run


def write(tree: Tree, root: Path) -> Path:
    etc_ssh = root / "etc" / "ssh"
    (etc_ssh / "sshd_config.d").mkdir(parents=True)
    for name, text in tree.files.items():
        (etc_ssh / name).parent.mkdir(parents=True, exist_ok=True)
        (etc_ssh / name).write_bytes(text.encode())
    return etc_ssh


# Connections sshd -T -C evaluates Match for: (user, spec); kijun's for_root / for_any must hold
# what sshd gives each (zed is named by no literal User list, so it stands for "any user"). The
# local port is one sshd listens on (first or last): no connection arrives on any other.
CONNECTIONS = [
    ("root", "user=root,host=h.example.org,addr=10.1.2.3,lport={first},laddr=10.0.0.1"),
    ("root", "user=root,host=x.example.org,addr=192.0.2.5,lport={last},laddr=10.0.0.2"),
    ("zed", "user=zed,host=h.example.org,addr=10.1.2.3,lport={first},laddr=10.0.0.1"),
    ("zed", "user=zed,host=x.example.org,addr=203.0.113.9,lport={last},laddr=10.0.0.2"),
]
MATCHED = [
    "permitrootlogin",
    "passwordauthentication",
    "pubkeyauthentication",
    "kbdinteractiveauthentication",
    "authenticationmethods",
    "x11forwarding",
    "maxauthtries",
    "permitemptypasswords",
    "allowtcpforwarding",
]


def per_connection(static: dict[str, Any], raw: RawFacts, etc_ssh: Path, key: Path) -> str:
    """Return "" when every connection's real values are among those kijun gives its class."""
    ports = static["port"]
    for user, template in CONNECTIONS:
        spec = template.format(first=ports[0], last=ports[-1])
        run = real_sshd_T(etc_ssh, key, "-C", spec)
        if run.returncode != 0:
            return f"sshd -T -C {spec} failed: {run.stderr.strip()[-200:]}"
        real = with_probe(raw, run.stdout)
        possible = static["for_root" if user == "root" else "for_any"]
        missed = {
            k: (real.get(k), possible.get(k)) for k in MATCHED if real.get(k) not in possible.get(k, [])
        }
        if missed:
            return f"{spec}: sshd gives values kijun does not consider: {missed}"
    return ""


def with_probe(raw: RawFacts, stdout: str) -> dict[str, Any]:
    from scanner.rawfacts import Item

    probe = Item(id="probe:sshd-T", kind="probe", cmd="sshd -T", rc=0, data=stdout.encode())
    return sshd.parse(
        RawFacts(raw.host, raw.collected_at, raw.collector, {**raw.items, probe.id: probe}), CTX
    )


def verdict(tree: Tree, root: Path, key: Path) -> tuple[str, str]:
    """Return (outcome, disagreement): "same", "outside" (an Include outside sshd_config.d, read), "both
    refuse" or "not assessed"; disagreement "" when none."""
    run = real_sshd_T(write(tree, root), key)
    if run.returncode != 0 and "mount" in run.stderr and "sshd" not in run.stderr:
        pytest.skip(f"cannot bind-mount over /etc/ssh here: {run.stderr.strip()}")
    raw = gather(root, plan_for(["sshd"]), "gen")  # the files transport, following Include
    try:
        static = sshd.parse(raw, CTX)
    except ValueError as exc:
        if run.returncode != 0:
            return "both refuse", ""
        if "not assessed" in str(exc):  # an error, never a pass: an Include line ending in \r or \f
            return "not assessed", ""
        return "", f"kijun raised {exc!r} but sshd accepted the tree"
    if run.returncode != 0:
        return "", f"sshd rejected the tree ({run.stderr.strip()[-300:]}) but kijun read it"
    probe = with_probe(raw, run.stdout)
    skip = ("source", "installed", "match_blocks", "for_root", "for_any", "_origins")
    keys = sorted({*DOC_KEYWORDS, *(k for k in static if k not in skip)})
    diff = {k: (static.get(k), probe.get(k)) for k in keys if static.get(k) != probe.get(k)}
    if diff:
        return "", f"static vs sshd -T: {diff}"
    problem = per_connection(static, raw, root / "etc" / "ssh", key)
    return ("", problem) if problem else ("outside" if tree.outside else "same", "")


def test_generated_trees_are_varied() -> None:
    trees = [generate(SEED + i) for i in range(TREES)]
    text = "\n".join(t for tree in trees for t in tree.files.values())
    assert generate(SEED) == trees[0]  # deterministic
    assert sum(tree.outside for tree in trees) >= 5 and sum(bool(tree.broken) for tree in trees) >= 10
    for needle in (
        "Include sshd_config.d/",
        "Include /etc/ssh/",
        "Match all",
        "Match User",
        "# ",
        "=",
        "\r\n",
    ):
        assert needle in text
    assert sum("sshd_config.d/a.conf" in tree.files for tree in trees) >= 20


def test_static_reading_agrees_with_real_sshd_on_generated_trees(sshd_ns: Path, tmp_path: Path) -> None:
    trees = [generate(SEED + i) for i in range(TREES)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        verdicts = list(pool.map(lambda t: verdict(t, tmp_path / str(t.seed), sshd_ns), trees))
    failures = {
        tree.seed: (problem, tree.files)
        for tree, (_, problem) in zip(trees, verdicts, strict=True)
        if problem
    }
    first = next(iter(failures.items()), None)
    assert not failures, f"{len(failures)} of {TREES} trees disagree; first: {first}"
    outcomes = Counter(outcome for outcome, _ in verdicts)
    print(
        f"\nsshd differential (sshd -T, sshd -T -C): {TREES} trees, {TREES - len(failures)}/{TREES} agree;"
        f" {outcomes['same'] + outcomes['outside']} read value by value ({outcomes['outside']} with an Include"
        f" outside sshd_config.d), {len(CONNECTIONS)} Match connections each; {outcomes['both refuse']} refused by both;"
        f" {outcomes['not assessed']} not assessed (an Include line ending in \\r or \\f)"
    )
    # Most trees are compared value by value; enough are refused by both, or refused for reading too little.
    assert outcomes["same"] >= 100 and outcomes["both refuse"] >= 20 and outcomes["outside"] >= 5, outcomes


def static(text: str, **dropins: str) -> dict[str, Any]:
    files = {"/etc/ssh/sshd_config": text} | {f"/etc/ssh/sshd_config.d/{k}": v for k, v in dropins.items()}
    return sshd.parse(build_raw(files=files), CTX)


# Disagreements the generator found in the first static reader, each checked here against what
# the real sshd 9.2 does (these need no root).
@pytest.mark.parametrize(
    "config,keyword,value",
    [
        ('Permit"RootLogin yes\n', "permitrootlogin", "prohibit-password"),  # open quote: sshd skips the line
        ('"PermitRootLogin" yes\n', "permitrootlogin", "yes"),
        ("=MaxAuthTries 5\n", "maxauthtries", "5"),
        ("PermitRootLogin yes\rPermitRootLogin no\n", "permitrootlogin", None),  # one line to sshd: raises
        ("LogLevel QUIET\n", "loglevel", "SILENT"),  # what sshd -T prints for it
        ("Match LocalPort 0\nMaxAuthTries 3\n", "maxauthtries", "6"),
        ("Match User x\nAuthenticationMethods publickey any\n", "authenticationmethods", ["any"]),
        ("AuthenticationMethods any\nAuthenticationMethods publickey\n", "authenticationmethods", ["any"]),
    ],
)
def test_lines_read_as_sshd_reads_them(config: str, keyword: str, value: Any) -> None:
    if value is None:
        with pytest.raises(ValueError):
            static(config)
    else:
        assert static(config)[keyword] == value


@pytest.mark.parametrize(
    "config,message",
    [
        ("\f\n", "no argument"),
        ("PermitRootLogon no\n", "bad configuration option"),
        ("Match User x\nUsePAM no\n", "not allowed within a Match block"),
        ("Match User x\nInclude sshd_config.d/*.conf\n", "not allowed within a Match block"),
        ("DSAAuthentication no\nMatch Address 10.0.0.0/8\nDSAAuthentication yes\n", "not allowed within"),
        ("Match User\n", "missing Match criteria"),
        ("Match Foo bar\n", "unsupported Match attribute"),
        ("PasswordAuthentication no\nAuthenticationMethods password\n", "cannot be satisfied"),
        ("AuthenticationMethods publickey any\n", "must appear alone"),
        ("AuthenticationMethods publickey\nMatch User x\nAuthenticationMethods any\n", "must appear alone"),
        ("AuthenticationMethods publickey,foo\n", "unknown method"),
        ("Port 0\n", "bad port"),
        ("MaxAuthTries -1\n", "invalid or too small"),
        ("Include sshd_config.d/.hidden.conf\n", "outside the collected files"),
    ],
)
def test_configs_sshd_refuses_raise(config: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        static(config, **{"a.conf": "Port 2222\n"})
