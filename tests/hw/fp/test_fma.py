"""FloatMultiplyAdd in Amaranth's simulator against the golden model, every setting."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.sim import Simulator
from neurogate.hw.fp.fma import FloatMultiplyAdd, leading_zeros
from neurogate.numerics.floats import (
    BF16,
    FP8_E4M3,
    FP8_E5M2,
    FP16,
    FP32,
    PRESETS,
    ApproxNorm,
    FloatFormat,
)
from neurogate.sim.golden import fp as gfp

from .test_fp_golden import special_codes


def run_unit(dut: FloatMultiplyAdd, acc, a, b, *, stall_every: int = 0) -> np.ndarray:
    """Stream one operand triple per cycle (``ce`` low every ``stall_every`` cycles)."""
    acc, a, b = (np.asarray(x, dtype=np.int64).reshape(-1) for x in (acc, a, b))
    got = []

    async def bench(ctx):
        sent, cycle = 0, 0
        while len(got) < len(a):
            ce = 0 if stall_every and cycle % stall_every == stall_every - 1 else 1
            ctx.set(dut.ce, ce)
            if sent < len(a):
                ctx.set(dut.valid_in, 1)
                ctx.set(dut.a.as_value(), int(a[sent]))
                ctx.set(dut.b.as_value(), int(b[sent]))
                ctx.set(dut.acc.as_value(), int(acc[sent]))
            else:
                ctx.set(dut.valid_in, 0)
            await ctx.delay(1e-9)
            if ctx.get(dut.valid_out) and ce:
                got.append(ctx.get(dut.result.as_value()))
            await ctx.tick()
            if ce and sent < len(a):
                sent += 1
            cycle += 1
            assert cycle < 4 * len(a) + 50, "results stopped coming"

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return np.array(got, dtype=np.int64)


def vectors(in_fmt: FloatFormat, acc_fmt: FloatFormat, count: int, seed: int):
    """Every special triple, then random codes, then near-cancellation triples."""
    rng = np.random.default_rng(seed)
    sp_in, sp_acc = special_codes(in_fmt), special_codes(acc_fmt)
    sp_in = sp_in[rng.permutation(len(sp_in))[:12]] if len(sp_in) > 12 else sp_in
    a, b, c = (x.reshape(-1) for x in np.meshgrid(sp_in, sp_in, sp_acc[::2], indexing="ij"))
    ra, rb = (rng.integers(0, 1 << in_fmt.width, count) for _ in range(2))
    rc = rng.integers(0, 1 << acc_fmt.width, count)
    near = gfp.from_float(-gfp.to_float(ra, in_fmt) * gfp.to_float(rb, in_fmt)
                          * (1 + rng.standard_normal(count) * 2.0 ** -5), acc_fmt)
    rc = np.where(np.arange(count) % 3 == 0, near, rc)
    return (np.concatenate([c, rc]), np.concatenate([a, ra]), np.concatenate([b, rb]))


# --- construction -----------------------------------------------------------------------------
def test_construction_and_latency():
    dut = FloatMultiplyAdd(in_fmt=BF16, acc_fmt=FP32, stages=4)
    assert dut.latency == 4 and dut.cuts == (2, 3, 4, 6)
    assert len(dut.a.as_value()) == 16 and len(dut.result.as_value()) == 32
    assert FloatMultiplyAdd(in_fmt=FP8_E4M3, acc_fmt=FP32, stages=1).cuts == (6,)
    with pytest.raises(AttributeError):
        dut.latency = 3


# --- bad parameters ---------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"in_fmt": FP16, "acc_fmt": BF16},
     "accumulator mantissa bits must be an integer from 10 to 23, not 7"),
    ({"in_fmt": BF16, "acc_fmt": FloatFormat(11, 52)},
     "accumulator mantissa bits must be an integer from 7 to 23, not 52"),
    ({"in_fmt": BF16, "acc_fmt": FP32, "stages": 0},
     "pipeline stages must be an integer from 1 to 6, not 0"),
    ({"in_fmt": BF16, "acc_fmt": FP32, "stages": 7},
     "pipeline stages must be an integer from 1 to 6, not 7"),
])
def test_refuses(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FloatMultiplyAdd(**kwargs)


def test_refuses_wrong_types():
    with pytest.raises(TypeError, match="in_fmt must be a FloatFormat"):
        FloatMultiplyAdd(in_fmt="bf16", acc_fmt=FP32)
    with pytest.raises(TypeError, match="norm must be an ApproxNorm"):
        FloatMultiplyAdd(in_fmt=BF16, acc_fmt=FP32, norm=4)


# --- behaviour --------------------------------------------------------------------------------
def test_leading_zeros_tree():
    from amaranth.hdl import Signal
    from amaranth.sim import Simulator as Sim

    for width in (1, 5, 8, 13):
        v = Signal(width)
        lz = leading_zeros(v)

        async def bench(ctx, v=v, lz=lz, width=width):
            for x in range(1 << width) if width <= 8 else range(0, 1 << width, 37):
                ctx.set(v, x)
                assert ctx.get(lz) == width - x.bit_length(), (width, x)

        sim = Sim(__import__("amaranth.hdl", fromlist=["Module"]).Module())
        sim.add_testbench(bench)
        sim.run()


NAMES = {fmt: name for name, fmt in PRESETS.items()}
CASES = [
    (FP8_E4M3, FP32, ApproxNorm.exact(), 3),
    (FP8_E5M2, FP16, ApproxNorm.exact(), 6),
    (FP8_E4M3, FP8_E4M3, ApproxNorm.exact(), 2),
    (BF16, FP32, ApproxNorm.exact(), 1),
    (BF16, BF16, ApproxNorm.exact(), 4),
    (BF16, FP32, ApproxNorm(lz_window=4), 3),
    (BF16, FP32, ApproxNorm(lz_window=2, guard_bits=1, sticky=False), 3),
    (BF16, BF16, ApproxNorm(lz_window=8, guard_bits=2), 2),
    (FP8_E4M3, FP32, ApproxNorm(lz_window=3, sticky=False), 3),
    (FP8_E4M3, FP16, ApproxNorm(product_norm=False), 3),
    (BF16, FP32, ApproxNorm(lz_window=2, guard_bits=1, sticky=False, product_norm=False), 2),
    (FloatFormat(8, 7, subnormals=False), FloatFormat(8, 23, subnormals=False),
     ApproxNorm.exact(), 3),
]


@pytest.mark.parametrize("in_fmt, acc_fmt, norm, stages", CASES,
                         ids=[f"{NAMES.get(i, 'bf16-ftz')}+{NAMES.get(a, 'fp32-ftz')}"
                              f"-{n.describe()}-{s}st" for i, a, n, s in CASES])
def test_matches_golden(in_fmt, acc_fmt, norm, stages):
    acc, a, b = vectors(in_fmt, acc_fmt, 1500, seed=stages + 7 * acc_fmt.width)
    dut = FloatMultiplyAdd(in_fmt=in_fmt, acc_fmt=acc_fmt, norm=norm, stages=stages)
    got = run_unit(dut, acc, a, b, stall_every=5 if stages == 3 else 0)
    np.testing.assert_equal(got, gfp.fma(acc, a, b, in_fmt=in_fmt, acc_fmt=acc_fmt, norm=norm))


def test_fp8_exhaustive_products():
    """Every E4M3 x E4M3 pair once, the accumulator cycling through special and random FP32s."""
    ab = np.arange(256, dtype=np.int64)
    a, b = (x.reshape(-1) for x in np.meshgrid(ab, ab, indexing="ij"))
    rng = np.random.default_rng(11)
    pool = np.concatenate([special_codes(FP32), rng.integers(0, 1 << 32, 41)])
    acc = pool[np.arange(a.size) % len(pool)]
    dut = FloatMultiplyAdd(in_fmt=FP8_E4M3, acc_fmt=FP32, stages=3)
    got = run_unit(dut, acc, a, b)
    np.testing.assert_equal(got, gfp.fma(acc, a, b, in_fmt=FP8_E4M3, acc_fmt=FP32))
