"""A right shift wider than the value (random graph 12 of `make regress` found it): the
reference ap_fixed headers assert on a negative integer part, so the kernels widen first."""

import numpy as np
from neurogate.compiler import api
from neurogate.compiler.builder import GraphBuilder
from neurogate.numerics import IntFormat, Rounding


def test_shifts_wider_than_the_value_round_exactly(tmp_path):
    b = GraphBuilder("wide_shift")
    x = b.input("x", 16, IntFormat(4, frac=0))
    y = b.input("y", 16, IntFormat(2, frac=4))
    outs = [b.requantize(x, shift=3, out_fmt=IntFormat(6), rounding="half_away", name="r")]
    for i, rounding in enumerate(Rounding):
        for frac in (-2, -4):
            for overflow in ("wrap", "saturate"):
                outs.append(b.add(x, y, out_fmt=IntFormat(6, frac=frac), rounding=rounding,
                                  overflow=overflow, name=f"sum_{i}_{-frac}_{overflow}"))
                outs.append(b.mul(x, y, out_fmt=IntFormat(3, frac=frac), rounding=rounding,
                                  overflow=overflow, name=f"prod_{i}_{-frac}_{overflow}"))
    out = api.compile(b.build(outputs=outs), backend="hls", out=tmp_path / "p")
    report = api.verify(out, vectors=400)
    assert report["verified"]["mismatches"] == 0
    assert np.all(np.isfinite([report["simulation"]["inferences_per_second"]]))
