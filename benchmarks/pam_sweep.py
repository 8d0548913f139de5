"""A bigger sweep of the PAM differential test: N generated stacks, kijun against real logins (pamtester).

Prints agreement (logins and verdicts), false passes, and the time kijun's interpreter takes per
stack side by side with the time real PAM takes to answer the same logins (its floor: what running
the logins costs). Needs root, unshare and pamtester; the machine is untouched (private mount namespace).

    python benchmarks/pam_sweep.py --stacks 2000 --seed 7
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tests.facts import pam_gen
from tests.facts.test_pam_differential import predicted, real, truth_verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    cases = pam_gen.stacks(args.seed, args.stacks)
    with tempfile.TemporaryDirectory(prefix="kijun-pam-sweep-") as tmp:
        start = time.perf_counter()
        truth = real(cases, Path(tmp))
        real_seconds = time.perf_counter() - start
    start = time.perf_counter()
    mine = [predicted(files) for files in cases]
    kijun_seconds = time.perf_counter() - start
    logins = sum(m[0] == t for m, t in zip(mine, truth, strict=True))
    verdicts = sum(m[1] == truth_verdict(t) for m, t in zip(mine, truth, strict=True))
    false_pass = sum(m[1] and not truth_verdict(t) for m, t in zip(mine, truth, strict=True))
    two = sum(truth_verdict(t) for t in truth)
    print(f"stacks {args.stacks} (seed {args.seed}), {two} require two factors")
    print(f"logins agree   {logins}/{args.stacks}")
    print(f"verdicts agree {verdicts}/{args.stacks}, false passes {false_pass}")
    print(f"{'':24}{'per stack':>12}")
    print(f"{'kijun interpreter':24}{kijun_seconds / args.stacks * 1000:>10.1f}ms")
    print(f"{'pamtester logins (2 ns)':24}{real_seconds / args.stacks * 1000:>10.1f}ms")


if __name__ == "__main__":
    main()
