"""Each reporter alone over one run folder: CPU seconds and peak RSS, beside the cost of one read.

Every reporter runs in a fresh process (so its peak RSS is its own) over the same run folder, and
writes its files into a scratch folder the way a scan does. The floor printed first is one pass
over the findings (decoding every line into a Finding), which every reporter that shows findings
pays at least once.

    python benchmarks/reporters.py RUN_FOLDER            # e.g. a run of benchmarks/offline_scale.py --keep
    python benchmarks/reporters.py RUN_FOLDER --profile  # and the top of a cProfile of each

``junit+html+sarif`` is what the scan process writes from one reading; ``csv+xlsx`` what the forked
process reads the findings for. ``split`` times, one after another in one process, each part that
``writing.put_all`` gives a process of its own with two cores, and prints them by process: the
longest chain (the second process's reading, then the larger of its writing and the third's) is
about the reporters' wall time on an otherwise idle 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NAMES = ("read", "console", "junit", "sarif", "html", "csv", "xlsx", "csv+xlsx", "junit+html+sarif", "split")

CHILD = r"""
import cProfile, io, json, pstats, resource, sys, tempfile, time
from pathlib import Path
from scanner import history
from scanner.report import console, csv, html, junit, sarif, sheets, trend, writing, xlsx  # imported first
name, folder, profile = sys.argv[1], Path(sys.argv[2]), sys.argv[3] == "1"
run = history.load_run(folder)[0]
_ = run.tally  # a scan has it already
start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
prof = cProfile.Profile()
started = time.process_time()
if profile:
    prof.enable()
with tempfile.TemporaryDirectory() as out:
    if name == "read":
        sum(1 for _ in run.findings)
    elif name == "split":
        T, parts = time.process_time, {}
        files = writing.outputs(("junit", "html", "sarif", "csv", "xlsx"))(run, None)
        mark = T()
        for rel, body in files.items():
            if rel != writing.TABLES:
                writing.put(Path(out) / rel, body)
        parts["1: read, junit+html+sarif+summary"], mark = T() - mark, T()
        tables = files[writing.TABLES].files()
        books = tables.pop("workbooks").files()  # the third process
        parts["2: read for the 自己点検 rows"], mark = T() - mark, T()
        for rel, body in tables.items():
            writing.put(Path(out) / rel, body)
        parts["2: then csv + workbooks"], mark = T() - mark, T()
        for rel, body in books.items():
            writing.put(Path(out) / rel, body)
        parts["3: workbooks"] = T() - mark
        sys.stderr.write("".join(f"  process {k:<34} {v:7.2f} cpu s\n" for k, v in parts.items()))
    elif name == "console":
        console.render(run)
    else:
        files = writing.outputs(tuple(name.split("+")))(run, None)
        for rel, body in writing.expand(files).items():  # in this process, one after another
            writing.put(Path(out) / rel, body)
cpu = time.process_time() - started
if profile:
    prof.disable()
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(15)
    sys.stderr.write(text.getvalue())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"cpu_s": round(cpu, 2), "peak_mb": round(peak / 1024), "loaded_mb": round(start_rss / 1024)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a run folder (results.json, findings.jsonl)")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of each")
    parser.add_argument("--only", action="append", choices=NAMES, help="these reporters only")
    opts = parser.parse_args()
    hosts = len(json.loads((opts.run / "results.json").read_text("utf-8"))["hosts"])
    print(f"run {opts.run} ({hosts} hosts); one process per reporter")
    print(f"{'reporter':<10} {'cpu s':>7} {'peak RSS':>9} {'loaded run':>11}")
    for name in opts.only or NAMES:
        args = [sys.executable, "-c", CHILD, name, str(opts.run), "1" if opts.profile else "0"]
        done = subprocess.run(
            args, capture_output=True, text=True, env={"PYTHONPATH": str(REPO)}, check=False
        )
        if done.returncode:
            raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
        fig = json.loads(done.stdout.strip().splitlines()[-1])
        label = "read once" if name == "read" else name
        print(f"{label:<10} {fig['cpu_s']:>7.2f} {fig['peak_mb']:>6} MB {fig['loaded_mb']:>8} MB", flush=True)
        if opts.profile or name == "split":
            print(done.stderr)


if __name__ == "__main__":
    main()
