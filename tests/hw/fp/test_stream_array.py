"""FloatStreamArray (the float datapath member): construction, bad parameters.

Its behaviour against the golden model runs in the seam's generic testbench,
``tests/hw/test_datapath.py`` (``FloatDatapath`` members).
"""

from __future__ import annotations

import pytest
from amaranth.hdl import Shape
from neurogate.hw.datapath import FloatDatapath
from neurogate.hw.fp.stream_array import FloatPE, FloatStreamArray
from neurogate.numerics.floats import BF16, FP8_E4M3, FP16, FP32, ApproxNorm


def test_construction():
    norm = ApproxNorm(lz_window=4)
    dut = FloatStreamArray(rows=3, cols=2, in_fmt=BF16, acc_fmt=FP32, norm=norm, stages=2)
    assert dut.latency == 4 and dut.signature.skew == 2
    assert dut.signature == FloatDatapath(in_fmt=BF16, acc_fmt=FP32, norm=norm,
                                          stages=2).signature(3, 2)
    assert len(dut.act.as_value()) == 2 * 16
    assert len(dut.weight.as_value()) == 2 * 3 * 16
    assert len(dut.result.as_value()) == 3 * 32
    pe = FloatPE(in_fmt=FP8_E4M3, acc_fmt=FP16, stages=4)
    assert pe.latency == 4 and Shape.cast(pe.psum_out.shape()).width == 16


@pytest.mark.parametrize("kwargs, error, message", [
    ({"rows": 0}, ValueError, "array rows must be an integer from 1 to 256, not 0"),
    ({"cols": 257}, ValueError, "array cols must be an integer from 1 to 256, not 257"),
    ({"stages": 7}, ValueError, "stages must be an integer from 1 to 6, not 7"),
    ({"in_fmt": FP16, "acc_fmt": BF16}, ValueError,
     "acc_fmt mantissa bits \\(at least in_fmt's\\) must be an integer from 10 to 23, not 7"),
    ({"norm": None}, TypeError, "norm must be an ApproxNorm, not None"),
])
def test_refuses(kwargs, error, message):
    params = {"rows": 2, "cols": 2, "in_fmt": BF16, "acc_fmt": FP32} | kwargs
    with pytest.raises(error, match=message):
        FloatStreamArray(**params)
