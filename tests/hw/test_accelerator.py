"""The whole engine in Amaranth's simulator: bit-exact against the golden model, and its
cycle counts equal to the cycle model's."""

import numpy as np
import pytest
from engine_sim import run_engine
from graphs import random_mlp
from neurogate.compiler.backends.amaranth.mapping import plan_program
from neurogate.compiler.interpreter import make_vectors, run_single_output
from neurogate.compiler.passes.pipeline import lower
from neurogate.hw.accelerator import Accelerator
from neurogate.hw.config import ArrayShape
from neurogate.sim.perf.engine_cycles import inference_cycles


def check(graph, array, *, vectors=8, **drive):
    lowered = lower(graph)
    program = plan_program(lowered, array)
    x = make_vectors(lowered, vectors, seed=vectors)
    got, cycles = run_engine(program, x, **drive)
    np.testing.assert_equal(got, run_single_output(lowered, x))
    return program, cycles


@pytest.mark.parametrize("sizes,array", [
    ([13, 11, 6, 3], (3, 5)),     # nothing divides
    ([16, 8, 8], (4, 4)),         # everything divides
    ([5, 1], (1, 1)),             # a single PE
    ([3, 20], (8, 8)),            # K < cols and N > rows
    ([40, 2], (2, 16)),           # wide array, short output
])
def test_random_mlps_bit_exact_and_cycles_match_the_model(sizes, array):
    program, cycles = check(random_mlp(sizes, seed=len(sizes)), ArrayShape(*array))
    assert cycles == [inference_cycles(program)] * len(cycles)


def test_floor_rounding_narrow_accumulator_wraps_like_golden():
    g = random_mlp([24, 9], seed=7, acc_width=16, rounding="floor", shifts=[3])
    check(g, ArrayShape(4, 4), vectors=10)


def test_int4_weights_and_unsigned_relu_outputs():
    g = random_mlp([12, 10, 5], seed=9, weight_bits=4)
    check(g, ArrayShape(3, 3))


def test_idle_input_and_output_backpressure():
    g = random_mlp([10, 7, 4], seed=11)
    check(g, ArrayShape(2, 3), in_gap=2, out_ready_every=3)


def test_descriptor_words_round_trip():
    program = plan_program(lower(random_mlp([10, 7, 4], seed=1)), ArrayShape(2, 3))
    assert len(program.descriptor_words()) == 2
    assert Accelerator(program=program).pipeline_latency == 5


def test_accelerator_delays_come_from_the_config_timing():
    program = plan_program(lower(random_mlp([10, 7, 4], seed=1)), ArrayShape(3, 5))
    dut = Accelerator(program=program)
    timing = program.config.timing
    assert dut.datapath == program.config.datapath
    assert dut.pipeline_latency == timing.pipeline == timing.operand_read + timing.matrix_unit
    assert timing.capture_delay == 5 + 4                      # cols + 4, as the model had it
