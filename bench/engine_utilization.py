"""Programmable-engine utilization from RTL (Verilator) cycle counts.

    .venv/bin/python bench/engine_utilization.py

utilization = useful MACs / (PEs x cycles of one inference run).  A run's cycles are
measured as (cycles of the program, setup and two runs) - (program, setup and one run):
the RUN command's transfer to the last output, with the input load, streamed weight
loads, pipeline fill and drain and the output store all included.  Cases:

* a 3x3 convolution, 64 -> 64 channels, on a 32x32 image (target >= 90% on 8x8 int8);
* a 512x512 dense layer at batch 1 with resident weights (target >= 90%), at batch 1
  with streamed weights, and at batch 8 with streamed weights.

Each line also prints the cycle model's count for the run and its difference.  Cycle
counts do not depend on the device, and these engines have larger memories than the
default (the convolution keeps its whole 32x32x64 input and output on chip: a
32,768-word scratchpad; the resident 512x512 layer a 4,096-word weight buffer), more
block RAM than the ECP5-85k has, so they are compiled for the ``asic`` target.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from neurogate.compiler import api
from neurogate.compiler.builder import GraphBuilder
from neurogate.compiler.flows.verify_engine import rebuild_program, run_engine_rtl
from neurogate.compiler.interpreter import make_input_vectors
from neurogate.hw.engine.config import EngineConfig
from neurogate.numerics.formats import IntFormat

ROOT = Path(__file__).resolve().parents[1]


def conv64():
    rng = np.random.default_rng(64)
    b = GraphBuilder("conv3x3_64")
    x = b.input("x", (32, 32, 64), IntFormat(8))
    h = b.conv2d(x, rng.integers(-128, 128, (3, 3, 64, 64)), rng.integers(-999, 999, 64),
                 weight_fmt=IntFormat(8), padding="same", acc_width=32, name="conv")
    return b.build([b.requantize(h, shift=12, out_fmt=IntFormat(8), name="conv_q")])


def dense512():
    return api.load(ROOT / "models" / "dense512.py")


CASES = [
    ("conv3x3 64->64 32x32", conv64, EngineConfig(spad_words=32768), 1, "streamed"),
    ("dense 512x512", dense512, EngineConfig(wbuf_words=4096), 1, "resident"),
    ("dense 512x512", dense512, EngineConfig(wbuf_words=4096), 1, "streamed"),
    ("dense 512x512", dense512, EngineConfig(wbuf_words=4096), 8, "streamed"),
]


def run_cycles(folder: Path, design, graph, runs: int) -> int:
    program = rebuild_program(folder, design, graph)
    given = make_input_vectors(graph, design.batch * runs, seed=runs)
    _, _, result, _ = run_engine_rtl(folder, design, program, program.batches(given))
    return int(result.total_cycles)


def main() -> int:
    print(f"{'case':<22} {'batch':>5} {'weights':<9} {'MACs/run':>10} {'RTL cycles':>10} "
          f"{'model':>9} {'diff':>6} {'utilization':>11}")
    for label, build, engine, batch, weights in CASES:
        graph = build()
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "out"
            design = api.compile_design(graph, out=folder, engine=engine, batch=batch,
                                        weight_loading=weights, target="asic")
            cycles = run_cycles(folder, design, graph, 2) - run_cycles(folder, design, graph, 1)
        n = engine.array
        macs = design.useful_macs * batch
        print(f"{label:<22} {batch:>5} {weights:<9} {macs:>10} {cycles:>10} "
              f"{design.expected_cycles:>9} {design.expected_cycles - cycles:>+6} "
              f"{macs / (n * n * cycles):>10.1%}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
