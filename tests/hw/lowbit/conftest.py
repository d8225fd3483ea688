"""Drive a skewed weight-streaming array (SystolicArray convention) in Amaranth's simulator."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.sim import Simulator


def _signed(value: int, width: int) -> int:
    value &= (1 << width) - 1
    return value - (1 << width) if value >> (width - 1) else value


def run_skewed(dut, act_fields, weight_fields, *, act_width: int, weight_width: int):
    """Present chunk ``k``'s column ``c`` operands at cycle ``k + c``; read chunk ``k``'s
    row results at cycle ``k + dut.latency``.  Fields are per column, already integers
    (signed activations are masked here).  Returns ``(chunks, rows)`` int64."""
    act_fields = np.asarray(act_fields, dtype=object)
    weight_fields = np.asarray(weight_fields, dtype=object)
    chunks, cols = act_fields.shape
    rows, acc_bits = dut.rows, dut.acc_bits
    results = []

    async def bench(ctx):
        for t in range(chunks + cols + dut.latency):
            act = weight = 0
            for c in range(cols):
                k = t - c
                if 0 <= k < chunks:
                    act |= (int(act_fields[k, c]) & ((1 << act_width) - 1)) << (c * act_width)
                    weight |= int(weight_fields[k, c]) << (c * weight_width)
            ctx.set(dut.act.as_value(), act)
            ctx.set(dut.weight.as_value(), weight)
            k = t - dut.latency
            if 0 <= k < chunks:
                word = ctx.get(dut.result.as_value())
                results.append([_signed(word >> (r * acc_bits), acc_bits) for r in range(rows)])
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return np.array(results, dtype=np.int64)


@pytest.fixture
def skewed():
    return run_skewed

