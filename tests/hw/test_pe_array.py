"""PE and systolic array in Amaranth's simulator against NumPy dot products."""

import numpy as np
import pytest
from amaranth.sim import Simulator
from neurogate.hw.pe import ProcessingElement
from neurogate.hw.systolic import SystolicArray


def test_pe_construction_and_bad_widths():
    pe = ProcessingElement(act_bits=8, weight_bits=8, acc_bits=32)
    assert pe.latency == 4
    with pytest.raises(ValueError, match="act_bits must be an integer from 1 to 64, not 0"):
        ProcessingElement(act_bits=0, weight_bits=8, acc_bits=32)
    with pytest.raises(ValueError, match="array rows must be an integer from 1 to 256, not -3"):
        SystolicArray(rows=-3, cols=2, act_bits=8, weight_bits=8, acc_bits=32)


@pytest.mark.parametrize("rows,cols,acc_bits", [(3, 5, 32), (1, 1, 32), (2, 4, 12)])
def test_array_skewed_dot_products(rows, cols, acc_bits):
    dut = SystolicArray(rows=rows, cols=cols, act_bits=8, weight_bits=8, acc_bits=acc_bits)
    rng = np.random.default_rng(rows * 10 + cols)
    chunks = 12
    acts = rng.integers(-128, 128, (chunks, cols))
    weights = rng.integers(-128, 128, (chunks, cols, rows))
    acts[0], weights[0] = -128, -128            # most negative everywhere
    acts[1], weights[1] = 127, -128
    acts[2] = 0
    expected = np.einsum("jc,jcr->jr", acts, weights)
    half = 1 << (acc_bits - 1)
    expected = ((expected + half) % (1 << acc_bits)) - half
    results = {}

    async def bench(ctx):
        for cycle in range(chunks + cols + dut.latency + 1):
            for c in range(cols):
                j = cycle - c                   # column c sees chunk j, c cycles late
                if 0 <= j < chunks:
                    ctx.set(dut.act[c], int(acts[j, c]))
                    for r in range(rows):
                        ctx.set(dut.weight[c][r], int(weights[j, c, r]))
            j = cycle - dut.latency
            if 0 <= j < chunks:
                results[j] = [ctx.get(dut.result[r]) for r in range(rows)]
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    np.testing.assert_equal(np.array([results[j] for j in range(chunks)]), expected)
