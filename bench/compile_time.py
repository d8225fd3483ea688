"""Compile time (model file -> Verilog and build folder), best of 3 runs.

    .venv/bin/python bench/compile_time.py

Target: the example MLP in under 10 s.  No yowasp tool runs during compile.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from common import compile_example

CASES = [("models/mlp_digits.py", "8x8"), ("models/mlp_digits_int4.py", "8x8"),
         ("models/dense512.py", "8x8")]


def main() -> int:
    for model, array in CASES:
        times = []
        for _ in range(3):
            with tempfile.TemporaryDirectory() as tmp:
                start = time.perf_counter()
                compile_example(model, array, out=Path(tmp) / "out")
                times.append(time.perf_counter() - start)
        print(f"{Path(model).stem:<22} {array}  compile {min(times):6.2f} s (best of 3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
