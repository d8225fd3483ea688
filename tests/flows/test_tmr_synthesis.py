"""A ``--tmr`` spatial design keeps its three copies through synthesis: yosys would merge
flip-flops that hold equal values, so the flow marks them ``keep`` (without it the
copies of this design collapsed to one)."""

import json

import numpy as np
from neurogate.compiler import api
from neurogate.compiler.builder import GraphBuilder
from neurogate.numerics.formats import IntFormat


def tiny():
    rng = np.random.default_rng(2)
    b = GraphBuilder("tiny")
    x = b.input("x", 4, IntFormat(8))
    y = b.dense(x, rng.integers(-20, 20, (3, 4)), rng.integers(-50, 50, 3),
                weight_fmt=IntFormat(6), acc_width=16)
    return b.build([b.requantize(y, shift=3, out_fmt=IntFormat(8))])


def flip_flops(folder) -> int:
    api.synth(folder, asic=True)
    stat = json.loads((folder / "synth" / "asic" / "stat.json").read_text())["design"]
    return stat["num_cells_by_type"]["$_DFF_P_"]


def test_every_register_is_three_flip_flops_after_synthesis(tmp_path):
    plain, tmr = tmp_path / "plain", tmp_path / "tmr"
    api.compile(tiny(), style="spatial", target="asic", out=plain)
    api.compile(tiny(), style="spatial", target="asic", tmr=True, out=tmr)
    single = flip_flops(plain)
    assert single > 0
    # Every copy survives (without `keep`, yosys left about one copy: single + 32 or so);
    # synthesis may still drop a few constant bits of the plain design that TMR keeps.
    assert flip_flops(tmr) >= 3 * single
