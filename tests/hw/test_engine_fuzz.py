"""Seeded random engines: shapes, arrays, widths, rounding, ReLU and stalls all drawn at
random; every output bit-exact against the golden model, cycles equal to the model."""

import numpy as np
import pytest
from engine_sim import run_engine
from neurogate.compiler.backends.amaranth.mapping import plan_program
from neurogate.compiler.builder import GraphBuilder
from neurogate.compiler.interpreter import make_vectors, run_single_output
from neurogate.compiler.passes.pipeline import lower
from neurogate.hw.config import ArrayShape
from neurogate.numerics.formats import IntFormat
from neurogate.numerics.rounding import Rounding
from neurogate.sim.perf.engine_cycles import inference_cycles


def random_engine(rng):
    layers = int(rng.integers(1, 4))
    sizes = [int(rng.integers(1, 40)) for _ in range(layers + 1)]
    act_bits, weight_bits = int(rng.integers(2, 10)), int(rng.integers(2, 9))
    acc_bits = int(rng.integers(14, 40))
    b = GraphBuilder("fuzz")
    x = b.input("x", sizes[0], IntFormat(act_bits, signed=bool(rng.integers(0, 2))))
    for i, (k, n) in enumerate(zip(sizes, sizes[1:])):
        w = IntFormat(weight_bits)
        x = b.dense(x, rng.integers(w.min, w.max + 1, (n, k)), rng.integers(-50, 50, n),
                    weight_fmt=w, acc_width=acc_bits, name=f"fc{i}")
        last = i == layers - 1
        out = IntFormat(int(rng.integers(2, 10)), signed=bool(rng.integers(0, 2))) if last \
            else IntFormat(act_bits)
        x = b.requantize(x, shift=int(rng.integers(0, 12)), out_fmt=out,
                         rounding=str(rng.choice([r.value for r in Rounding])), name=f"q{i}")
        if rng.random() < 0.5:
            x = b.relu(x, name=f"relu{i}")
    return lower(b.build([x])), ArrayShape(int(rng.integers(1, 7)), int(rng.integers(1, 7)))


@pytest.mark.parametrize("seed", range(12))
def test_random_engine(seed):
    rng = np.random.default_rng(1000 + seed)
    graph, array = random_engine(rng)
    program = plan_program(graph, array)
    x = make_vectors(graph, 6, seed=seed)
    stalls = seed % 3 == 0
    got, cycles = run_engine(program, x, in_gap=2 if stalls else 0,
                             out_ready_every=3 if stalls else 1)
    np.testing.assert_equal(got, run_single_output(graph, x))
    if not stalls:
        assert cycles == [inference_cycles(program)] * len(x)
