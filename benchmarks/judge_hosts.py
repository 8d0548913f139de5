#!/usr/bin/env python3
"""CPU per host of judging the example ward's hosts: the conditions, and the whole evaluate_host.

Facts are parsed once; then every host is judged ``--rounds`` times (the best round counts, CPU
time of this process); the two ways' rounds are taken in turn, so both see the same load. Two comparisons side by side:

- conditions alone, in this tree: each applicable check's condition (and precondition) by the
  interpreter (``scanner.conditions.evaluate``, the tests' oracle) and compiled (``scanner.compiled``);
- ``subjects_for`` + ``evaluate_host`` per host, this tree against ``--checkout DIR`` (another tree,
  e.g. ``git worktree add /tmp/kijun-before <commit>``), both loaded in this process in turn.

Verdicts are kept by content (scanner/verdicts.py), so rounds after the first judge hosts whose
checks read what they read before: the figure for clones of the ward's hosts. ``--forget`` clears
the kept verdicts before every round: the figure for hosts never seen (only hosts of one kind with
the same configuration within the ward still share).

    python benchmarks/judge_hosts.py
    python benchmarks/judge_hosts.py --checkout /tmp/kijun-before [--forget]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FORGET = False  # --forget: kept verdicts (scanner/verdicts.py) forgotten before every round


def judge_round(tree: Path) -> Callable[[], float]:
    """Load ``tree``'s scanner (as the only ``scanner`` while it loads), parse the ward's facts with it
    and return a function that judges every host once and gives the CPU ms per host.

    Both trees live in this one process (each keeps its own modules), so their rounds can be taken
    in turn on the same core: separate processes may run on differently loaded cores.
    """
    sys.path.insert(0, str(tree))
    for name in [n for n in sys.modules if n == "scanner" or n.startswith("scanner.")]:
        del sys.modules[name]
    facts = importlib.import_module("scanner.facts")
    collect_error = importlib.import_module("scanner.collect").CollectError
    evaluate_host = importlib.import_module("scanner.engine").evaluate_host
    inventory = importlib.import_module("scanner.inventory").load(tree / "inventories" / "example-ward")
    pack = importlib.import_module("scanner.policy").load_pack(inventory.profile)
    fetch = importlib.import_module("scanner.run").fetch
    subjects_for = importlib.import_module("scanner.selection").subjects_for
    items = []
    for host in inventory.hosts:
        got, _ = fetch(host, pack, inventory, 10.0)
        if not isinstance(got, collect_error):
            subjects = subjects_for(pack, host) | {"host"}
            items.append((host, facts.build(got, facts.Context(host, inventory), subjects)))
    sys.path.remove(str(tree))
    kept = importlib.util.find_spec("scanner.verdicts") and importlib.import_module("scanner.verdicts")

    def judge() -> float:
        if kept and FORGET:  # every round judges the ward as hosts never seen (kept verdicts off)
            kept._KEPT.clear()
            kept._USED[0] = 0
        started = time.process_time()
        for host, parsed in items:
            subjects_for(pack, host)
            evaluate_host(pack, host, parsed, "")
        return 1000 * (time.process_time() - started) / len(items)

    return judge


def hosts(trees: list[Path], rounds: int) -> list[float]:
    """Return each tree's best CPU ms per host of ``subjects_for`` + ``evaluate_host``, rounds in turn."""
    judges = [judge_round(tree) for tree in trees]
    best = [float("inf")] * len(trees)
    for _ in range(rounds):
        for i, judge in enumerate(judges):
            best[i] = min(best[i], judge())
    return best


def conditions(rounds: int) -> tuple[float, float, int]:
    """Return ms per host of the conditions interpreted and compiled (best round each), and the hosts."""
    sys.path.insert(0, str(REPO))
    from scanner import facts as factsmod
    from scanner.collect import CollectError
    from scanner.compiled import program
    from scanner.conditions import evaluate
    from scanner.inventory import load
    from scanner.operators import MISSING
    from scanner.plans import plan
    from scanner.policy import load_pack
    from scanner.run import fetch

    inventory = load(REPO / "inventories" / "example-ward")
    pack = load_pack(inventory.profile)
    work = []
    count = 0
    for host in inventory.hosts:
        got, _ = fetch(host, pack, inventory, 10.0)
        if isinstance(got, CollectError):
            continue
        count += 1
        tree = factsmod.build(
            got, factsmod.Context(host, inventory), plan(pack, host).subjects | {"host"}
        ).tree
        work += [(c, tree, step.values) for step in plan(pack, host).steps for c in step.checks]

    def interpreted() -> None:
        for check, tree, values in work:
            if check.when is not None:
                evaluate(check.when, tree, values, "error")
            evaluate(check.condition, tree, values, check.if_missing)

    def compiled() -> None:
        for check, tree, values in work:
            when, condition = program(check)
            if when is not None:
                when(tree, values, "error", MISSING)
            condition(tree, values, check.if_missing, MISSING)

    best = {interpreted: float("inf"), compiled: float("inf")}
    for _ in range(rounds):
        for fn in best:
            started = time.process_time()
            fn()
            best[fn] = min(best[fn], time.process_time() - started)
    return 1000 * best[interpreted] / count, 1000 * best[compiled] / count, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", type=Path, help="another kijun tree to compare evaluate_host with")
    parser.add_argument("--rounds", type=int, default=15, help="rounds over the hosts (the best counts)")
    parser.add_argument(
        "--forget",
        action="store_true",
        help="forget kept verdicts before each round (hosts never seen; without it, rounds after the "
        "first judge the ward's hosts again, as clones of them would be)",
    )
    options = parser.parse_args()
    global FORGET
    FORGET = options.forget
    old, new, count = conditions(options.rounds)
    print(
        f"conditions, {count} hosts: interpreted {old:.3f} ms/host, compiled {new:.3f} ms/host ({old / new:.1f}x)"
    )
    trees = [REPO] + ([options.checkout.resolve()] if options.checkout else [])
    best = hosts(trees, options.rounds)
    if options.checkout:
        print(
            f"subjects_for + evaluate_host: {options.checkout} {best[1]:.3f} ms/host, "
            f"this tree {best[0]:.3f} ms/host ({best[1] / best[0]:.1f}x)"
        )
    else:
        print(f"subjects_for + evaluate_host: this tree {best[0]:.3f} ms/host")


if __name__ == "__main__":
    main()
