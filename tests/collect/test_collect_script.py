"""The real collector script, run under dash, bash --posix and busybox sh over a temporary tree."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from scanner.collect import Plan
from scanner.collect.framing import parse_output
from scanner.collect.local import run_script
from scanner.collect.probes import PROBES
from scanner.collect.script import build_script, shell_glob
from tests.collect.conftest import HUGE, JUNK, LIMIT, NONCE, SHELLS, make_tree, run_plan, tree_plan


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_files_are_framed_and_decoded_exactly(tree: Path, shell: str) -> None:
    _, raw = run_plan(tree_plan(str(tree)), SHELLS[shell])
    etc = f"{tree}/etc"
    conf = raw.file(f"{etc}/app.conf")
    assert conf is not None and conf.text == "PermitRootLogin no\n日本語\n"
    assert (conf.mode, conf.uid, conf.gid, conf.mtime, conf.truncated) == ("0640", 0, 0, 1_700_000_000, False)
    assert conf.sha256 == hashlib.sha256(conf.data).hexdigest()
    junk = raw.file(f"{etc}/app.d/10-junk.bin")
    assert junk is not None and junk.data == JUNK and junk.size == len(JUNK)
    forged = raw.file(f"{etc}/app.d/20-forged.conf")
    assert forged is not None and forged.text.startswith(f"==KIJUN:{NONCE}:END\n")
    odd = raw.file(f"{etc}/app.d/it's odd [1].conf")
    assert odd is not None and odd.text == "quote\n"
    empty = raw.file(f"{etc}/app.d/40-empty")
    assert empty is not None and empty.exists and empty.data == b"" and empty.size == 0


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_huge_file_is_cut_and_hashed_whole(tree: Path, shell: str) -> None:
    _, raw = run_plan(tree_plan(str(tree)), SHELLS[shell])
    huge = raw.file(f"{tree}/etc/app.d/30-huge.log")
    assert huge is not None and huge.truncated
    assert huge.data == HUGE[:LIMIT] and huge.size == len(HUGE)
    assert huge.sha256 == hashlib.sha256(HUGE).hexdigest()


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_missing_unmatched_hidden_and_directories(tree: Path, shell: str) -> None:
    _, raw = run_plan(tree_plan(str(tree)), SHELLS[shell])
    etc = f"{tree}/etc"
    missing = raw.file(f"{etc}/missing.conf")
    assert missing is not None and missing.exists is False
    gone = raw.stat(f"{etc}/gone")
    assert gone is not None and gone.exists is False
    assert not [i for i in raw.items if "nomatch.d" in i]
    assert raw.file(f"{etc}/app.d/.hidden") is None  # the shell's * skips dot files
    assert raw.file(f"{etc}/app.d/subdir") is None  # a glob collects regular files only
    # A literal directory asked as a file: its metadata, and no content pretending to be empty.
    assert raw.file(f"{etc}/app.d") is None
    folder = raw.stat(f"{etc}/app.d")
    assert folder is not None and folder.kind == "stat" and "not-regular" in folder.stderr


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_mode_and_owner_of_an_unreadable_file(tree: Path, shell: str) -> None:
    _, raw = run_plan(tree_plan(str(tree)), SHELLS[shell])
    locked = raw.stat(f"{tree}/etc/locked.conf")
    assert locked is not None
    assert (locked.mode, locked.uid, locked.gid) == ("0000", 4242, 4343)
    if os.geteuid() == 0:  # root reads it anyway
        assert locked.kind == "file" and locked.text == "secret-ish\n"


def test_unreadable_as_another_user_is_never_an_empty_or_absent_file() -> None:
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root to drop privileges")
    base = Path(tempfile.mkdtemp(prefix="kijun-collect-"))
    try:
        os.chmod(base, 0o755)
        make_tree(base)
        (base / "etc/private").mkdir(mode=0o700)
        (base / "etc/private/x.conf").write_text("x\n")
        files = (
            "/etc/locked.conf",
            "/etc/app.d/40-empty",
            "/etc/private/x.conf",
            "/etc/private/no.conf",
            "/etc/no.conf",
        )
        plan = Plan(files=tuple(f"{base}{f}" for f in files))
        _, raw = run_plan(plan, ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-s"))
    finally:
        shutil.rmtree(base)
    assert raw.collector["euid"] == "65534"
    assert raw.file(f"{base}/etc/locked.conf") is None
    locked = raw.stat(f"{base}/etc/locked.conf")
    assert locked is not None and "unreadable" in locked.stderr and locked.mode == "0000"
    empty = raw.file(f"{base}/etc/app.d/40-empty")
    assert empty is not None and empty.exists and empty.data == b""
    # Behind a directory it cannot search, the collector cannot tell present from absent.
    assert f"file:{base}/etc/private/x.conf" not in raw.items
    assert f"file:{base}/etc/private/no.conf" not in raw.items
    absent = raw.file(f"{base}/etc/no.conf")
    assert absent is not None and absent.exists is False


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_private_keys_never_read_but_stat_allowed(tree: Path, shell: str) -> None:
    out, raw = run_plan(tree_plan(str(tree)), SHELLS[shell])
    keys = f"{tree}/etc/keys"
    for name in ("ssh_host_rsa_key", "server.pem", "tls.key", "innocent.conf"):
        assert raw.file(f"{keys}/{name}") is None
    pub = raw.file(f"{keys}/ssh_host_rsa_key.pub")
    assert pub is not None and pub.text == "ssh-rsa AAAA\n"
    alias = raw.file(f"{keys}/alias.pub")
    assert alias is not None and alias.text == "ssh-rsa AAAA\n"
    key_stat = raw.items[f"stat:{keys}/ssh_host_rsa_key"]
    assert key_stat.kind == "stat" and key_stat.data == b"" and key_stat.mode is not None
    assert b"PRIVATE KEY" not in out and b"LS0tLS1CRUdJTiBPUEVOU1NI" not in out


def test_shadow_content_never_read(tree: Path) -> None:
    _, raw = run_plan(Plan(files=("/etc/shadow", "/etc/gshadow"), stats=("/etc/shadow",)))
    assert raw.file("/etc/shadow") is None and raw.file("/etc/gshadow") is None
    shadow = raw.items["stat:/etc/shadow"]
    assert shadow.mode == f"{os.stat('/etc/shadow').st_mode & 0o7777:04o}"


def test_shells_agree(tree: Path) -> None:
    results = {name: run_plan(tree_plan(str(tree)), argv)[1].items for name, argv in SHELLS.items()}
    first = results.pop("dash")
    assert len(first) >= 10
    for items in results.values():
        assert items == first


@pytest.mark.skipif(not shutil.which("busybox"), reason="busybox not installed")
def test_fallbacks_without_stat_base64_sha256sum(tree: Path, tmp_path: Path) -> None:
    # A host with busybox only and none of stat, base64, sha256sum, timeout: ls/date/od fallbacks.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    applets = subprocess.run(["busybox", "--list"], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        if applet not in ("stat", "base64", "sha256sum", "timeout"):
            (bindir / applet).symlink_to(shutil.which("busybox") or "")
    plan = tree_plan(str(tree))
    env = {"PATH": str(bindir)}
    out, raw = run_plan(plan, (str(bindir / "sh"), "-s"), env=env)
    assert b"\nenc hex\n" in out
    _, reference = run_plan(plan)
    for item_id, item in reference.items.items():
        got = raw.items[item_id]
        # Without sha256sum the whole-file hash of a truncated file is unknown, never invented.
        expected_sha = None if item.truncated else item.sha256
        assert (got.data, got.mode, got.uid, got.gid, got.mtime, got.size, got.sha256) == (
            item.data,
            item.mode,
            item.uid,
            item.gid,
            item.mtime,
            item.size,
            expected_sha,
        ), item_id
    assert raw.items.keys() == reference.items.keys()


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_real_probes(shell: str) -> None:
    def listening() -> bytes:
        return subprocess.run(["ss", "-H", "-tuln"], capture_output=True, check=True).stdout

    # Other processes may open or close a port while the script runs: the probe must equal what
    # ss printed just before or just after it, byte for byte.
    before = listening()
    _, raw = run_plan(Plan(probes=("ss-listen", "ip-addr")), SHELLS[shell])
    after = listening()
    ss = raw.probe("ss-listen")
    assert ss is not None and ss.rc == 0 and ss.cmd == PROBES["ss-listen"]
    assert ss.data in (before, after)
    ip = raw.probe("ip-addr")
    assert ip is not None and ip.rc == 0
    assert any(link["ifname"] == "lo" for link in json.loads(ip.text))


def test_probe_rc_stderr_and_missing_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PROBES, "t-missing", "kijun-no-such-command --flag")
    # Lots of stderr: cut to 4 KiB, and drained so the probe is not killed by SIGPIPE (rc 141).
    monkeypatch.setitem(PROBES, "t-noisy", "head -c 100000 /dev/zero >&2; printf 'done\\0\\377'; exit 3")
    monkeypatch.setitem(PROBES, "t-locale", "locale | grep '^LC_ALL='")
    _, raw = run_plan(Plan(probes=("t-missing", "t-noisy", "t-locale")))
    missing = raw.probe("t-missing")
    assert missing is not None and missing.rc == 127 and "not found" in missing.stderr
    noisy = raw.probe("t-noisy")
    assert noisy is not None and noisy.rc == 3 and noisy.data == b"done\x00\xff"
    assert noisy.stderr == "\x00" * 4096
    env = raw.probe("t-locale")
    assert env is not None and env.text == "LC_ALL=C\n"


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_a_hung_probe_is_an_error_and_the_others_are_kept(
    monkeypatch: pytest.MonkeyPatch, shell: str
) -> None:
    # The probes share one timeout per phase: a probe cut in the middle of a phase runs again first
    # in a new phase; cut again (it had the whole timeout), it is rc 124 and the next ones still run.
    monkeypatch.setitem(PROBES, "t-hang", "printf partial; echo 'stuck \"q\"' >&2; exec sleep 1000")
    monkeypatch.setitem(PROBES, "t-first", "echo first")
    monkeypatch.setitem(PROBES, "t-after", "echo after; echo 'warn' >&2; exit 5")
    plan = Plan(probes=("t-first", "t-hang", "t-after"))
    script = build_script(plan, NONCE, max_bytes=LIMIT, probe_timeout=1)
    out = run_script(script, 60, SHELLS[shell])
    raw = parse_output(out, NONCE, "test-host", "2026-11-01T09:00:00+09:00", {})
    first, hung, after = (raw.probe(n) for n in ("t-first", "t-hang", "t-after"))
    assert first is not None and (first.rc, first.text) == (0, "first\n")
    assert hung is not None and hung.rc == 124 and hung.text == "partial"
    assert hung.stderr == 'stuck "..."\n'  # masked on the host like every probe's stderr
    assert after is not None and (after.rc, after.text, after.stderr) == (5, "after\n", "warn\n")


def test_probe_does_not_eat_the_script(monkeypatch: pytest.MonkeyPatch) -> None:
    # A probe reading stdin would swallow the rest of a script sent on stdin.
    monkeypatch.setitem(PROBES, "t-reader", "cat")
    _, raw = run_plan(Plan(probes=("t-reader", "ss-listen")))
    reader = raw.probe("t-reader")
    assert reader is not None and reader.data == b"" and raw.probe("ss-listen") is not None


def test_header_carries_host_clock_and_identity() -> None:
    _, raw = run_plan(Plan())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", raw.collected_at)
    assert raw.collector["euid"] == str(os.geteuid())
    assert raw.collector["node"] == os.uname().nodename
    assert raw.items == {}


def test_script_is_read_only() -> None:
    script = build_script(tree_plan("/srv"), NONCE)
    targets = re.findall(r">>?\s*([^\s;|)]+)", script)
    assert len(targets) > 10
    for target in targets:
        assert target.startswith("&") or target == "/dev/null", target
    code = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("#"))
    writers = re.findall(r"\b(mktemp|rm|mv|cp|tee|touch|ln|chmod|chown|dd|sed -i)\b", code)
    assert writers == []


def test_globs_are_quoted_except_their_wildcards() -> None:
    assert shell_glob("/etc/pam.d/*") == "'/etc/pam.d/'*"
    assert shell_glob("/var/log/remote/*/*") == "'/var/log/remote/'*'/'*"
    assert shell_glob("/a b/$(x)/[0-9]?.conf") == "'/a b/$(x)/'[0-9]?'.conf'"
    with pytest.raises(ValueError):
        shell_glob("etc/relative")
    with pytest.raises(ValueError):
        shell_glob("/etc/[;reboot]")


def test_build_script_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="nonce"):
        build_script(Plan(), "not-hex!")
    with pytest.raises(ValueError, match="unknown probes"):
        build_script(Plan(probes=("rm-rf",)), NONCE)
