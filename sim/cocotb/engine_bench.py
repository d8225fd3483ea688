"""cocotb bench for a compiled matrix-engine design, parameterized by its ``design.json``.

The generated ``tb_<design>.py`` in a build folder imports this module; the design
folder is passed in ``NEUROGATE_DESIGN``, the vector file in ``NEUROGATE_VECTORS`` and
the results file in ``NEUROGATE_RESULTS``.  Every output integer is compared with the
golden model's; the first mismatch names the layer, the vector and the element.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge

from ...compiler.design import Design
from ...compiler.progress import write_detail
from ...hw.program import pack_lanes, unpack_lanes
from .. import scoreboard
from .streams import CycleCounter, StreamDriver, StreamMonitor, start_clock_and_reset


class EngineTB:
    """Owns clock, reset, the input driver, the output monitor and the scoreboard."""

    def __init__(self, dut, design: Design, *, idle: float = 0.0, stall: float = 0.0,
                 seed: int = 0):
        self.dut, self.design = dut, design
        self.cols = design.config.array.cols
        self.act_bits = design.config.widths.act_bits
        self.out_bits = design.config.widths.out_bits
        self.chunks = design.engine.input_chunks
        self.counter = CycleCounter(dut.clk)
        self.driver = StreamDriver(dut, "i", dut.clk, self.counter, idle=idle, seed=seed)
        self.monitor = StreamMonitor(dut, "o", dut.clk, self.counter, stall=stall, seed=seed + 1)
        self.received: list[tuple[int, int, int]] = []   # (value, last, cycle)
        self.sent_cycles: list[int] = []

    async def start(self) -> None:
        await start_clock_and_reset(self.dut, cycles=3)
        cocotb.start_soon(self.counter.run())
        cocotb.start_soon(self.monitor.run(self._on_word))
        await RisingEdge(self.dut.clk)

    def _on_word(self, word: int, cycle: int) -> None:
        data = unpack_lanes(word, self.out_bits, 1)[0]
        self.received.append((data, (word >> self.out_bits) & 1, cycle))

    async def send_vector(self, vector: list[int]) -> None:
        padded = list(vector) + [0] * (self.chunks * self.cols - len(vector))
        for j in range(self.chunks):
            lanes = padded[j * self.cols:(j + 1) * self.cols]
            cycle = await self.driver.send(pack_lanes(lanes, self.act_bits))
            if j == 0:
                self.sent_cycles.append(cycle)

    async def wait_outputs(self, count: int, *, timeout: int) -> None:
        limit = self.counter.cycle + timeout
        while len(self.received) < count:
            if self.counter.cycle > limit:
                raise AssertionError(f"timeout: {len(self.received)} of {count} outputs after "
                                     f"{timeout} cycles")
            await RisingEdge(self.dut.clk)


def compare(design: Design, expected: list[list[int]],
            received: list[tuple[int, int, int]]) -> scoreboard.Comparison:
    """Scoreboard (``sim/scoreboard.py``, shared with the compiled harness): every output
    value and the ``last`` flag, in order."""
    n_out = len(expected[0]) if expected else 0
    rows = len(received) // n_out if n_out else 0
    got = np.array([value for value, _, _ in received[:rows * n_out]]).reshape(rows, n_out)
    last = np.array([flag for _, flag, _ in received[:rows * n_out]]).reshape(rows, n_out)
    return scoreboard.compare(design.layer_names[-1], np.array(expected)[:rows], got, last)


async def run_vectors(dut, *, idle: float, stall: float, limit: int | None, tag: str) -> dict:
    design = Design.from_json((Path(os.environ["NEUROGATE_DESIGN"]) / "design.json").read_text())
    progress = os.environ.get("NEUROGATE_PROGRESS_FILE") if tag == "all" else None
    vectors = json.loads(Path(os.environ["NEUROGATE_VECTORS"]).read_text())
    inputs, expected = vectors["inputs"][:limit], vectors["expected"][:limit]
    tb = EngineTB(dut, design, idle=idle, stall=stall, seed=len(inputs))
    await tb.start()
    n_out = design.output_size
    timeout = 20 * design.expected_cycles + 1000
    for v, vector in enumerate(inputs):
        await tb.send_vector(vector)
        await tb.wait_outputs((v + 1) * n_out, timeout=timeout * (1 + int(bool(idle or stall)) * 10))
        if progress and (v % 10 == 9 or v == len(inputs) - 1):
            write_detail(progress, f"{v + 1}/{len(inputs)} vectors")
    outcome = compare(design, expected, tb.received)
    cycles = [tb.received[(v + 1) * n_out - 1][2] - tb.sent_cycles[v] + 1 for v in range(len(inputs))]
    result = {"vectors": len(inputs), "mismatches": outcome.mismatched_elements,
              "mismatched_vectors": outcome.mismatched_vectors, "first_mismatch": outcome.first,
              "cycles": cycles}
    path = Path(os.environ["NEUROGATE_RESULTS"]).with_suffix(f".{tag}.json")
    path.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    assert outcome.ok, outcome.first
    return result


@cocotb.test()
async def all_vectors(dut):
    """Every vector back to back, no idle input, output always ready: cycle counts."""
    await run_vectors(dut, idle=0.0, stall=0.0, limit=None, tag="all")


@cocotb.test()
async def idle_and_backpressure(dut):
    """The first vectors again with random input gaps and output back-pressure."""
    await run_vectors(dut, idle=0.3, stall=0.4, limit=12, tag="stress")
