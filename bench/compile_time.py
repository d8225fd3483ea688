"""Compile time (model file -> program, engine Verilog and build folder).

    .venv/bin/python bench/compile_time.py

For each model: the first compile with an empty cache (the engine's Verilog is
generated) and the best of 3 with the engine's Verilog cached (every later compile for
the same engine).  Target: the residual CNN in under 10 s.  No yowasp tool runs during
compile.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from common import compile_example

CASES = [("models/residual_cnn.py", "8x8"), ("models/digits_cnn.py", "8x8"),
         ("models/vgg_cnn.py", "8x8"), ("models/mlp_digits.py", "8x8"),
         ("models/vgg16.py", "8x8")]       # 22,937 instructions, spills and pages


def timed(model: str, array: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        compile_example(model, array, out=Path(tmp) / "out")
        return time.perf_counter() - start


def main() -> int:
    for model, array in CASES:
        with tempfile.TemporaryDirectory() as cache:
            os.environ["NEUROGATE_CACHE_DIR"] = cache
            cold = timed(model, array)
            warm = min(timed(model, array) for _ in range(3))
        os.environ.pop("NEUROGATE_CACHE_DIR")
        print(f"{Path(model).stem:<14} {array}  compile {cold:6.2f} s with the engine's "
              f"Verilog generated, {warm:5.2f} s cached (best of 3)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
