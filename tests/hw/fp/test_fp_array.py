"""FloatSystolicArray: construction, bad parameters, Amaranth-sim smoke, cocotb/Verilator run."""

from __future__ import annotations

from pathlib import Path

import neurogate.sim.cocotb as cocotb_pkg
import numpy as np
import pytest
from amaranth.back import verilog
from amaranth.sim import Simulator
from neurogate.hw.fp.array import FloatSystolicArray
from neurogate.numerics.floats import BF16, FP8_E4M3, FP16, FP32, PRESETS, ApproxNorm
from neurogate.sim.cocotb.runner import run_cocotb
from neurogate.sim.golden import fp as gfp


def pack(codes, width: int) -> int:
    return sum(int(c) << (width * n) for n, c in enumerate(codes))


def test_construction():
    dut = FloatSystolicArray(rows=3, cols=2, in_fmt=BF16, acc_fmt=FP32, stages=2)
    assert dut.latency == 6
    assert len(dut.i.payload.as_value()) == 48 and len(dut.o.payload.as_value()) == 64


@pytest.mark.parametrize("kwargs, message", [
    ({"rows": 0}, "array rows must be an integer from 1 to 32, not 0"),
    ({"cols": 33}, "array cols must be an integer from 1 to 32, not 33"),
    ({"stages": 9}, "pipeline stages must be an integer from 1 to 6, not 9"),
    ({"in_fmt": FP16, "acc_fmt": BF16},
     "accumulator mantissa bits must be an integer from 10 to 23, not 7"),
])
def test_refuses(kwargs, message):
    params = {"rows": 2, "cols": 2, "in_fmt": BF16, "acc_fmt": FP32} | kwargs
    with pytest.raises(ValueError, match=message):
        FloatSystolicArray(**params)


def test_amaranth_sim_matches_golden():
    rows, cols, count = 3, 2, 12
    norm = ApproxNorm(lz_window=3)
    dut = FloatSystolicArray(rows=rows, cols=cols, in_fmt=FP8_E4M3, acc_fmt=BF16, norm=norm,
                             stages=2)
    rng = np.random.default_rng(5)
    w = gfp.from_float(rng.standard_normal((rows, cols)), FP8_E4M3)
    x = gfp.from_float(rng.standard_normal((count, rows)) * 4, FP8_E4M3)
    got = []

    async def bench(ctx):
        for k in range(rows):
            ctx.set(dut.w.valid, 1)
            ctx.set(dut.w.payload.as_value(), pack(w[k], 8))
            await ctx.tick()
        ctx.set(dut.w.valid, 0)
        sent, cycle = 0, 0
        while len(got) < count:
            ready = int(cycle % 3 != 2)
            ctx.set(dut.o.ready, ready)
            ctx.set(dut.i.valid, int(sent < count))
            if sent < count:
                ctx.set(dut.i.payload.as_value(), pack(x[sent], 8))
            await ctx.delay(1e-9)
            fired = ctx.get(dut.i.ready) and sent < count
            if ready and ctx.get(dut.o.valid):
                word = ctx.get(dut.o.payload.as_value())
                got.append([(word >> (16 * j)) & 0xFFFF for j in range(cols)])
            await ctx.tick()
            sent += int(bool(fired))
            cycle += 1

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    want = gfp.matmul_chain(x, w, in_fmt=FP8_E4M3, acc_fmt=BF16, norm=norm)
    np.testing.assert_equal(np.array(got, dtype=np.int64), want)


NAMES = {fmt: name for name, fmt in PRESETS.items()}


# One small configuration: the C++ build of a 3x3 BF16+FP32 array took 13 minutes on the
# shared 2-core machine (it passed; run it by adding it here), too slow for every test run.
@pytest.mark.parametrize("in_fmt, acc_fmt, norm, rows, cols", [
    (FP8_E4M3, FP16, ApproxNorm(lz_window=4, guard_bits=2, sticky=False), 2, 2),
], ids=["e4m3-fp16-lz4g2nosticky-2x2"])
def test_cocotb_verilator(tmp_path: Path, in_fmt, acc_fmt, norm, rows, cols):
    dut = FloatSystolicArray(rows=rows, cols=cols, in_fmt=in_fmt, acc_fmt=acc_fmt, norm=norm,
                             stages=2)
    source = tmp_path / "fp_array.v"
    source.write_text(verilog.convert(dut, name="fp_array"))
    lz = "-" if norm.lz_window is None else str(norm.lz_window)
    run_cocotb(sources=[source], toplevel="fp_array", test_module="fp_array_bench",
               test_dir=Path(cocotb_pkg.__file__).parent, build_dir=tmp_path / "build",
               extra_env={"FP_IN": NAMES[in_fmt], "FP_ACC": NAMES[acc_fmt],
                          "FP_NORM": f"{lz},{norm.guard_bits},{int(norm.sticky)}",
                          "FP_ROWS": str(rows), "FP_COLS": str(cols), "FP_VECTORS": "300",
                          "FP_SEED": "9"})
