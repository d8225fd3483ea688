"""Every shipped model through the compiled RTL harness with many random vectors.

    .venv/bin/python bench/regress.py [--vectors 1000000]      (make regress)

Prints per model: vectors, mismatching elements, cycles per inference, simulated
inferences per second and the wall time including compile and simulator build.
A mismatch stops the run with the first one named (exit 3).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from neurogate.compiler.flows.regress import regress
from neurogate.compiler.flows.verify import MismatchError

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        results = regress(ROOT / "bench" / "out" / "regress", vectors=args.vectors, seed=args.seed)
    except MismatchError as error:
        print(f"MISMATCH: {error}")
        return 3
    print(f"{'model':<18} {'array':<5} {'vectors':>9} {'mismatches':>10} {'cycles':>7} "
          f"{'inf/s':>9} {'seconds':>8}")
    for r in results:
        print(f"{r.model:<18} {r.array:<5} {r.vectors:>9} {r.mismatches:>10} {r.cycles:>7} "
              f"{r.inferences_per_second:>9,.0f} {r.seconds:>8.1f}")
    print(f"total {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
