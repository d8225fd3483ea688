"""Every shipped model through the compiled RTL harness with many random vectors, and
every shipped model plus a few hundred random graphs through the HLS backend's g++
C-simulation.

    .venv/bin/python bench/regress.py [--vectors 1000000] [--graphs 300]   (make regress)

Prints per model: vectors, mismatching elements, cycles per inference (RTL), simulated
inferences per second and the wall time including compile and simulator build.
A mismatch stops the run with the first one named (exit 3).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from neurogate.compiler.flows.regress import regress, regress_graph
from neurogate.compiler.flows.verify import MismatchError

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--graphs", type=int, default=300,
                        help="random graphs (tests/graphs.py) through the HLS backend")
    parser.add_argument("--graph-vectors", type=int, default=1000)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    out = ROOT / "bench" / "out" / "regress"
    try:
        results = regress(out, vectors=args.vectors, seed=args.seed)
        results += regress(out, vectors=args.vectors, seed=args.seed, backend="hls")
        sys.path.insert(0, str(ROOT / "tests"))
        from graphs import random_graph
        graph_results = [
            regress_graph(random_graph(seed), out / "graph", vectors=args.graph_vectors,
                          seed=seed, backend="hls", io=("parallel", "stream")[seed % 2])
            for seed in range(args.graphs)]
    except MismatchError as error:
        print(f"MISMATCH: {error}")
        return 3
    print(f"{'model':<18} {'array':<12} {'vectors':>9} {'mismatches':>10} {'cycles':>7} "
          f"{'inf/s':>9} {'seconds':>8}")
    for r in results:
        print(f"{r.model:<18} {r.array:<12} {r.vectors:>9} {r.mismatches:>10} "
              f"{r.cycles or '-':>7} {r.inferences_per_second:>9,.0f} {r.seconds:>8.1f}")
    if graph_results:
        print(f"{len(graph_results)} random graphs through the HLS C-simulation, "
              f"{args.graph_vectors} vectors each: "
              f"{sum(r.mismatches for r in graph_results)} mismatches, "
              f"{sum(r.seconds for r in graph_results):.1f} s")
    print(f"total {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
