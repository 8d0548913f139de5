"""HTML dashboard at municipal scale: size, write time and load time in headless Chromium.

The example ward (36 hosts, scanned from its snapshots) is copied K times into one synthetic Run
(each copy a distinct host, findings streamed as a generator, some failures weeks old), rendered
and written like a run folder's report.html, then opened in Debian's chromium through selenium.
Printed side by side with the targets of issue 13 and the page kijun wrote before (issue 13's
figures for 1,008 hosts: 94 MB, 125 s to load).

    python benchmarks/html_report.py                 # 1,008 and 10,080 hosts
    python benchmarks/html_report.py --copies 28     # 1,008 hosts only
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scanner import compact  # noqa: E402
from scanner.history import atomic_write  # noqa: E402
from scanner.report import html, junit  # noqa: E402
from scanner.results import Finding, Run, Status  # noqa: E402

TARGET_MB, TARGET_LOAD_S = 20.0, 3.0
BEFORE = {1008: (94.0, 125.0)}  # issue 13: MB, Chromium load seconds of the old report


def base_run(work: Path) -> Run:
    """Scan the example ward from its snapshots (no network, no probes) and load its results."""
    out = work / "base"
    cmd = ["kijun", "scan", str(ROOT / "inventories/example-ward"), "--no-probe", "--format", "json"]
    subprocess.run([*cmd, "--out", str(out), "--quiet"], check=False, capture_output=True, env=os.environ)
    run = compact.load(out / "latest" / "results.json")  # results.json v2 + findings.jsonl
    return dataclasses.replace(run, findings=tuple(run.findings))  # read once, copied many times


def scaled(base: Run, copies: int) -> Run:
    """Return the ward copied ``copies`` times, findings as a one-shot generator (as a stream is)."""
    hosts = tuple(
        dataclasses.replace(h, name=f"{h.name}-{k:03d}", address=f"10.{k // 250}.{k % 250}.{i}")
        for k in range(copies)
        for i, h in enumerate(base.hosts)
    )
    since: dict[str, str] = {}

    def findings() -> Iterator[Finding]:
        for k in range(copies):
            for f in base.findings:
                g = copy.copy(f)  # cheaper than dataclasses.replace, so the reporter dominates the time
                object.__setattr__(g, "host", f"{f.host}-{k:03d}")
                if g.status is Status.FAIL:
                    since[g.key] = f"2026-{1 + k % 11:02d}-01"
                yield g

    trend = [
        {"run_id": f"r{i}", "started_at": f"2026-11-{i + 1:02d}T02:00:00+09:00",
         "counts": {"fail": 12 * copies + i, "error": i}, "coverage": {"ratio": 1.0}}
        for i in range(11)
    ]  # fmt: skip
    run = dataclasses.replace(
        base, hosts=hosts, findings=findings(), envelope={**base.envelope, "open_since": since}
    )  # type: ignore[arg-type]
    object.__setattr__(run, "_trend", trend)
    return run


def measure(run: Run, folder: Path) -> dict[str, float]:
    """Render and write report.html; return size, render and write seconds."""
    started = time.perf_counter()
    page = html.render(run, trend=getattr(run, "_trend", []))
    rendered = time.perf_counter()
    atomic_write(folder / "report.html", page)
    written = time.perf_counter()
    return {
        "mb": (folder / "report.html").stat().st_size / 1e6,
        "render": rendered - started,
        "write": written - rendered,
    }


def chromium(page: Path) -> dict[str, float]:
    """Open the page in headless Chromium; time until its script is done (median of 3), a filter, a search."""
    from tests.report.browser import start

    profile = tempfile.mkdtemp(prefix="kijun-bench-chromium-")
    driver = start(profile)
    try:
        loads, cpu, script = [], [], []
        for _ in range(3):  # the median of three cold loads (a blank page between them)
            driver.get("about:blank")
            driver.execute_cdp_cmd("Performance.enable", {})
            started = time.perf_counter()
            driver.get(page.as_uri())  # returns after the load event; the page's script has run by then
            ready = driver.execute_script("return document.documentElement.getAttribute('data-ready')")
            loads.append(time.perf_counter() - started)
            assert ready == "1", "the page's script did not finish"
            metrics = {
                m["name"]: m["value"] for m in driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
            }
            driver.execute_cdp_cmd("Performance.disable", {})
            cpu.append(float(metrics.get("ThreadTime", 0.0)))  # the renderer's main-thread CPU seconds
            script.append(float(metrics.get("ScriptDuration", 0.0)))
        load = sorted(loads)[1]
        toggle = driver.execute_script(
            "var s=document.getElementById('f-status'), t=performance.now();"
            "s.value='fail'; s.dispatchEvent(new Event('change')); return performance.now()-t;"
        )
        search = driver.execute_script(
            "var q=document.getElementById('q'), t=performance.now();"
            "q.value='mn-term-07-003'; q.dispatchEvent(new Event('input')); return performance.now()-t;"
        )
        floor = []
        empty = page.parent / "empty.html"
        empty.write_text("<!DOCTYPE html><title>floor</title><p>floor", encoding="utf-8")
        for _ in range(3):  # the floor: the same load of an empty page
            driver.get("about:blank")
            started = time.perf_counter()
            driver.get(empty.as_uri())
            floor.append(time.perf_counter() - started)
        return {
            "load": load,
            "cpu": sorted(cpu)[1],
            "script": sorted(script)[1],
            "floor": sorted(floor)[1],
            "filter_ms": float(toggle),
            "search_ms": float(search),
        }
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--copies", type=int, nargs="*", default=[28, 280], help="ward copies (36 hosts each)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kijun-bench-html-") as tmp:
        work = Path(tmp)
        base = base_run(work)
        print(f"base: example ward, {len(base.hosts)} hosts, {len(base.findings)} findings; "
              f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (shared machine)")  # fmt: skip
        head = f"{'hosts':>7} {'findings':>9} {'HTML MB':>8} {'stream s':>9} {'render s':>9} {'write s':>8} {'load s':>7} {'cpu s':>6} {'js s':>5} {'floor s':>8} {'filter ms':>10} {'search ms':>10} {'peak RSS MB':>12} {'junit MB':>9} {'failures-only MB':>17}"
        print(head)
        for copies in args.copies:
            started = time.perf_counter()
            for _ in scaled(base, copies).findings:
                pass
            stream = time.perf_counter() - started
            run = scaled(base, copies)
            folder = work / f"x{copies}"
            folder.mkdir()
            m = measure(run, folder)
            c = chromium(folder / "report.html")
            full = len(junit.render(scaled(base, copies)).encode()) / 1e6
            failing = len(junit.render(scaled(base, copies), failures_only=True).encode()) / 1e6
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            n = len(run.hosts)
            print(f"{n:>7} {n * len(base.findings) // len(base.hosts):>9} {m['mb']:>8.1f} {stream:>9.2f} {m['render']:>9.2f} {m['write']:>8.2f} "
                  f"{c['load']:>7.2f} {c['cpu']:>6.2f} {c['script']:>5.2f} {c['floor']:>8.2f} {c['filter_ms']:>10.0f} {c['search_ms']:>10.0f} {rss:>12.0f} {full:>9.1f} {failing:>17.2f}")  # fmt: skip
            before = BEFORE.get(n)
            if before:
                print(
                    f"{'':>7} {'before':>9} {before[0]:>8.1f} {'':>9} {'':>9} {'':>8} {before[1]:>7.1f}"
                    "   (issue 13, the report kijun wrote before)"
                )
        print("load s: wall time to the load event (median of 3); cpu s: the renderer main thread's CPU")
        print(
            "  time in that load (DevTools ThreadTime), less sensitive to a busy machine; js s: script time"
        )
        print("floor s: the same load of an empty page in the same browser")
        print(
            "stream s: generating the synthetic findings alone; render s includes it (and compiling the template)"
        )
        print(f"targets: HTML <= {TARGET_MB:.0f} MB and usable within {TARGET_LOAD_S:.0f} s at 10,080 hosts")


if __name__ == "__main__":
    main()
