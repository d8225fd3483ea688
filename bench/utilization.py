"""Array utilization measured from RTL simulation (Verilator) cycle counts.

    .venv/bin/python bench/utilization.py

utilization = useful MACs / (PEs x cycles), where useful MACs = sum over layers of
N x K (padding excluded) and cycles run from the first input transfer to the last
output transfer of one inference (input loading, pipeline fill and drain included).
Target: >= 90% for a 512x512 dense layer on an 8x8 array.
"""

from __future__ import annotations

import sys
from pathlib import Path

from common import compile_example
from neurogate.compiler.flows.verify import verify_design

CASES = [("models/dense512.py", "8x8", 3), ("models/mlp_digits.py", "8x8", 20),
         ("models/mlp_digits.py", "4x4", 20)]


def main() -> int:
    print(f"{'model':<24} {'array':<6} {'MACs':>8} {'RTL cycles':>10} {'model':>6} "
          f"{'utilization':>11}")
    for model, array, vectors in CASES:
        out, design = compile_example(model, array)
        report = verify_design(out, vectors=vectors)
        print(f"{Path(model).stem:<24} {array:<6} {design.useful_macs:>8} "
              f"{report['latency_cycles']:>10} {report['model_cycles']:>6} "
              f"{report['utilization']:>10.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
