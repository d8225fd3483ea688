import numpy as np
import pytest
from amaranth.sim import Simulator
from neurogate.hw.arith import RoundingCode
from neurogate.hw.lowbit.binary import BinaryArray
from neurogate.hw.lowbit.scale import OutputScale
from neurogate.numerics.rounding import Rounding
from neurogate.sim.golden.lowbit import binary_matmul, output_scale, pack_bits


def test_construction():
    dut = OutputScale(lanes=4, acc_bits=20, scale_bits=12, out_bits=8, per_channel=True)
    assert dut.latency == 4
    assert len(dut.scale.as_value()) == 4 * 12
    assert len(dut.bias.as_value()) == 4 * 32
    tensor = OutputScale(lanes=1, acc_bits=20, scale_bits=12, out_bits=8, per_channel=False)
    assert len(tensor.scale) == 12


@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")
@pytest.mark.parametrize("kwargs, message", [
    (dict(lanes=0), "lanes must be an integer from 1 to 256, not 0"),
    (dict(acc_bits=1), "acc_bits must be an integer from 2 to 64, not 1"),
    (dict(scale_bits=33), "scale_bits must be an integer from 2 to 32, not 33"),
    (dict(out_bits=0), "out_bits must be an integer from 1 to 32, not 0"),
    (dict(per_channel=1), "per_channel must be True or False, not 1"),
])
def test_bad_parameters(kwargs, message):
    args = dict(lanes=2, acc_bits=16, scale_bits=8, out_bits=8, per_channel=True) | kwargs
    with pytest.raises(ValueError, match=message):
        OutputScale(**args)


def _signed(value, width):
    value &= (1 << width) - 1
    return value - (1 << width) if value >> (width - 1) else value


def run_scale(dut, acc, scale, bias, shift, rounding, lo, hi, *, ready_every=1):
    """Stream ``acc[n, lanes]`` through ``dut`` with idle input cycles and back-pressure."""
    got = []

    def pack(values, width):
        return sum((int(v) & ((1 << width) - 1)) << (i * width) for i, v in enumerate(values))

    async def bench(ctx):
        if dut.per_channel:
            ctx.set(dut.scale.as_value(), pack(scale, dut.scale_bits))
            ctx.set(dut.bias.as_value(), pack(bias, dut.product_bits))
        else:
            ctx.set(dut.scale, int(scale))
            ctx.set(dut.bias, int(bias))
        ctx.set(dut.shift, shift)
        ctx.set(dut.rounding, RoundingCode.of(rounding))
        ctx.set(dut.lo, lo)
        ctx.set(dut.hi, hi)
        sent, cycle = 0, 0
        while len(got) < len(acc):
            offer = sent < len(acc) and cycle % 3 != 1
            ctx.set(dut.i.valid, offer)
            if offer:
                ctx.set(dut.i.payload.as_value(), pack(acc[sent], dut.acc_bits))
            ready = cycle % ready_every == 0
            ctx.set(dut.o.ready, ready)
            await ctx.delay(1e-9)
            if ctx.get(dut.o.valid) and ready:
                word = ctx.get(dut.o.payload.as_value())
                got.append([_signed(word >> (i * dut.out_bits), dut.out_bits)
                            for i in range(dut.lanes)])
            if offer and ctx.get(dut.i.ready):
                sent += 1
            await ctx.tick()
            cycle += 1
            assert cycle < 20 * len(acc) + 20

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return np.array(got, dtype=np.int64)


@pytest.mark.parametrize("rounding", list(Rounding), ids=[r.value for r in Rounding])
@pytest.mark.parametrize("ready_every", [1, 3])
def test_per_tensor_random_and_edges(rounding, ready_every):
    rng = np.random.default_rng(7 + list(Rounding).index(rounding))
    dut = OutputScale(lanes=1, acc_bits=20, scale_bits=12, out_bits=8, per_channel=False)
    scale, bias, shift = -1234, 5000, 13
    # inputs whose acc * scale + bias is an exact tie: half a step above a multiple of 2**13
    every = np.arange(-(1 << 19), 1 << 19)
    ties = every[(every * scale + bias) % (1 << shift) == 1 << (shift - 1)]
    ties = rng.choice(ties, 24).reshape(-1, 1)
    edges = [[-(1 << 19)], [(1 << 19) - 1], [0], [-1], [1]]
    acc = np.concatenate([rng.integers(-(1 << 19), 1 << 19, size=(40, 1)), edges, ties])
    got = run_scale(dut, acc, scale, bias, shift, rounding, -128, 127, ready_every=ready_every)
    np.testing.assert_equal(got, output_scale(acc, scale, bias, shift, rounding, -128, 127))


def test_per_channel_after_binary_array(skewed):
    """BiViT layer tail: XNOR-popcount dot products, then a per-channel scale and bias."""
    rng = np.random.default_rng(3)
    rows, cols, width = 4, 2, 16
    act = rng.integers(0, 2, size=(6, cols, width))
    weights = rng.integers(0, 2, size=(cols, rows, width))
    array = BinaryArray(rows=rows, cols=cols, width=width, acc_bits=8)
    weight_word = sum(pack_bits(weights)[:, r] << (r * width) for r in range(rows))
    dots = skewed(array, pack_bits(act), np.tile(weight_word, (6, 1)),
                  act_width=width, weight_width=rows * width)
    np.testing.assert_equal(dots, [binary_matmul(a, weights, "xnor", 8) for a in act])
    scale, bias = rng.integers(-2048, 2048, size=rows), rng.integers(-5000, 5000, size=rows)
    dut = OutputScale(lanes=rows, acc_bits=8, scale_bits=12, out_bits=6, per_channel=True)
    got = run_scale(dut, dots, scale, bias, 7, Rounding.HALF_UP, -20, 31)
    np.testing.assert_equal(got, output_scale(dots, scale, bias, 7, Rounding.HALF_UP, -20, 31))
    assert len(np.unique(got)) > 3  # not all saturated
