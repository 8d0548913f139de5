"""Offline scale: `kijun scan` over the example ward copied K times (snapshot transport, no network).

Each copy of a host is a distinct host (its own name and snapshot file; the address is kept, the
zone probes are off), so nothing is shared between copies but the policy pack. The scan runs as a child process; the benchmark samples
the resident memory of the whole process tree (the scanner and any worker processes) every 0.1 s
and prints wall time, CPU time, peak RSS and PSS (see _tree_memory) and the size of what the run wrote.

    python benchmarks/offline_scale.py                      # 1,008 and 10,080 hosts, json and all formats
    python benchmarks/offline_scale.py --copies 28 --format json
    python benchmarks/offline_scale.py --again    # also a second scan into the same folder (a previous run)
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "inventories" / "example-ward"


def make_ward(copies: int, folder: Path) -> Path:
    """Write an inventory of ``copies`` times the example ward into ``folder`` (with snapshots)."""
    doc = yaml.safe_load((EXAMPLE / "inventory.yaml").read_text("utf-8"))
    hosts = doc["hosts"]
    snaps = {h["name"]: (EXAMPLE / "snapshots" / f"{h['name']}.json").read_text("utf-8") for h in hosts}
    (folder / "snapshots").mkdir(parents=True, exist_ok=True)
    out: list[dict[str, Any]] = []
    for k in range(copies):
        for host in hosts:
            twin = copy.deepcopy(host)
            name = host["name"] if k == 0 else f"{host['name']}-k{k:04d}"
            twin["name"] = name
            text = snaps[host["name"]]
            if k:
                text = re.sub(r'"host": "[^"]*"', f'"host": "{name}"', text, count=1)
            (folder / "snapshots" / f"{name}.json").write_text(text, "utf-8")
            out.append(twin)
    doc["hosts"] = out
    if (EXAMPLE / "waivers").is_dir():
        shutil.copytree(EXAMPLE / "waivers", folder / "waivers", dirs_exist_ok=True)
    path = folder / "inventory.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def _tree_memory(root: int) -> tuple[int, int]:
    """Return the summed RSS and PSS (bytes) of a process and all its descendants, from /proc.

    RSS counts a page once in every process that maps it (the forked workers share the parent's
    pages), so its sum is an upper bound; PSS divides each shared page among the processes that map
    it (smaps_rollup), so its sum is the memory the process tree takes.
    """
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, pss, todo = 0, 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        pss += _pss(pid)
        todo += children.get(pid, [])
    return total, pss


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _sizes(folder: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for path in folder.rglob("*"):
        if path.is_file():
            rel = path.relative_to(folder).parts
            key = rel[0] if len(rel) > 1 else path.name
            out[key] = out.get(key, 0) + path.stat().st_size
    return out


def run_scan(inventory: Path, out: Path, formats: tuple[str, ...]) -> dict[str, Any]:
    """Scan once in a child process; return wall, CPU, peak tree RSS, exit code and output sizes."""
    args = [
        sys.executable,
        "-c",
        "from scanner.cli import main; main()",
        "scan",
        str(inventory),
        "--out",
        str(out),
        "--quiet",
    ]
    args += ["--as-of", "2026-11-20", "--no-probe"]
    for fmt in formats:
        args += ["--format", fmt]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0, 0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            rss, pss = _tree_memory(proc.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.monotonic() - started
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    found = re.search(r"^report: (.+)$", stdout, re.MULTILINE)
    if found is None:
        raise SystemExit(f"scan failed ({proc.returncode}):\n{stdout}\n{stderr[-3000:]}")
    return {
        "wall_s": round(wall, 1),
        "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
        "peak_rss_mb": round(peak[0] / 1e6),
        "peak_pss_mb": round(peak[1] / 1e6),
        "exit": proc.returncode,
        "sizes": _sizes(Path(found.group(1))),
    }


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, action="append", help="K (default: 28 and 280)")
    parser.add_argument(
        "--format", dest="modes", action="append", choices=("json", "all"), help="default: both"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated wards and runs")
    parser.add_argument(
        "--again",
        action="store_true",
        help="scan each ward a second time into the same folder (a scheduled scan: a previous run exists)",
    )
    opts = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kijun-scale-"))
    print(f"machine: {os.cpu_count()} cores; kijun at {REPO}; temp {tmp}", flush=True)
    print(
        f"{'hosts':>7} {'formats':<8} {'wall s':>8} {'cpu s':>8} {'peak RSS':>9} {'peak PSS':>9}  outputs",
        flush=True,
    )
    try:
        for k in opts.copies or [28, 280]:
            ward = make_ward(k, tmp / f"ward-{k}")
            hosts = k * len(yaml.safe_load((EXAMPLE / "inventory.yaml").read_text("utf-8"))["hosts"])
            for mode in opts.modes or ["json", "all"]:
                for turn in ("", "2nd") if opts.again else ("",):
                    fig = run_scan(ward, tmp / f"out-{k}-{mode}", ("json",) if mode == "json" else ())
                    big = sorted(fig["sizes"].items(), key=lambda kv: -kv[1])
                    shown = ", ".join(f"{name} {_mb(size)}" for name, size in big[:6])
                    label = f"{mode} {turn}".strip()
                    print(
                        f"{hosts:>7} {label:<8} {fig['wall_s']:>8} {fig['cpu_s']:>8} "
                        f"{fig['peak_rss_mb']:>6} MB {fig['peak_pss_mb']:>6} MB  {shown}",
                        flush=True,
                    )
                    record = {"hosts": hosts, "formats": mode, "second_run": bool(turn), **fig}
                    print(json.dumps(record), file=sys.stderr, flush=True)
                shutil.rmtree(tmp / f"out-{k}-{mode}", ignore_errors=True)
            if not opts.keep:
                shutil.rmtree(ward.parent, ignore_errors=True)
    finally:
        if not opts.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
