"""A scan killed with SIGKILL at any moment leaves only complete runs and a latest that points at one."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from evidence.ward import EXAMPLE, REPO, make_keys, scan

from scanner import evidence, history, keys

KILLS = 8
CLI = "import sys; from scanner.cli import main; sys.exit(main())"


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def assert_only_complete_runs(out: Path, public: keys.Ed25519PublicKey, note: str) -> list[Path]:
    """Every visible entry is a complete, verifying run; latest names one of them."""
    visible = sorted(p for p in out.iterdir() if not p.name.startswith("."))
    runs = [p for p in visible if p.name != "latest"]
    assert set(history.runs(out)) == set(runs), note
    for run in runs:
        verdict = evidence.verify(run, [public])
        assert verdict.ok, (note, run, verdict.problems)
    latest = out / "latest"
    assert latest.is_symlink(), note
    assert latest.resolve() in [r.resolve() for r in runs], note
    return runs


def children(pid: int) -> set[int]:
    """Return the processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def survivors(pids: set[int], within: float = 30.0) -> set[int]:
    """Return those of ``pids`` still running (not zombies) after waiting up to ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        alive = set()
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                alive.add(pid)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)


def test_sigkill_during_a_scan_leaves_the_previous_run_intact(tmp_path: Path) -> None:
    private, public_path = make_keys(tmp_path, "mynumber")
    public = keys.load_public(public_path)
    out = tmp_path / "reports"
    first = scan(EXAMPLE, out, "--sign-key", private)
    before = tree_digest(first)
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    during_write = 0
    for i in range(KILLS):
        proc = subprocess.Popen(
            [sys.executable, "-c", CLI, "scan", str(EXAMPLE), "--out", str(out), "--quiet", "--sign-key", str(private)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip
        if i % 2 == 0:  # wait until the run folder is being written, then kill somewhere inside write_run
            deadline = time.monotonic() + 60
            while (
                proc.poll() is None
                and not any(out.glob(f".tmp-{proc.pid}-*"))
                and time.monotonic() < deadline
            ):
                time.sleep(0.001)
            time.sleep(rng.uniform(0, 0.3))
        else:  # anywhere from start-up to the end
            time.sleep(rng.uniform(0.1, 3.0))
        writing = proc.poll() is None and any(out.glob(f".tmp-{proc.pid}-*"))
        workers = children(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert not survivors(workers), f"kill {i}: the scan's worker processes outlived it"
        during_write += writing
        note = f"kill {i} (seed {seed}, during write_run: {writing})"
        assert_only_complete_runs(out, public, note)
        assert tree_digest(first) == before, note
    print(f"kills inside write_run: {during_write}/{KILLS} (seed {seed})")
    assert during_write >= 1, f"no kill landed inside write_run (seed {seed})"
    last = scan(EXAMPLE, out, "--sign-key", private)
    runs = assert_only_complete_runs(out, public, "after a clean scan")
    assert (out / "latest").resolve() == last.resolve()
    assert first in runs
    assert not [p for p in out.iterdir() if p.name.startswith(".")], (
        "stale temporary folders were not removed"
    )


def test_stale_temporaries_of_live_processes_are_kept(tmp_path: Path) -> None:
    live = tmp_path / f".tmp-{os.getpid()}-20261120T020000-aaaaaa-x"
    dead_pid = 2**22 + 7  # above the default pid_max of 4194304, so no process has it
    dead = tmp_path / f".tmp-{dead_pid}-20261120T020000-bbbbbb-y"
    link = tmp_path / f".latest.{dead_pid}"
    live.mkdir()
    dead.mkdir()
    (dead / "results.json").write_text("{}", "utf-8")
    link.symlink_to("nowhere")
    assert sorted(history.clean_stale(tmp_path)) == sorted([dead, link])
    assert live.is_dir() and not dead.exists() and not link.is_symlink()
