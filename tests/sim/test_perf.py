"""The cycle model's arithmetic on known cases (its agreement with the RTL is tested in
tests/hw/test_accelerator.py and tests/rtl)."""

from graphs import random_mlp
from neurogate.compiler.backends.amaranth.mapping import plan_program
from neurogate.compiler.passes.pipeline import lower
from neurogate.hw.config import ArrayShape
from neurogate.sim.perf.engine_cycles import engine_timeline, inference_cycles, utilization


def test_long_k_loop_issues_back_to_back():
    program = plan_program(lower(random_mlp([64, 16], seed=0)), ArrayShape(4, 4))
    (layer,) = engine_timeline(program)
    # 16 input chunks, then 4 tiles x 16 chunks with no stall, then the drain of the
    # last tile: capture (cols+4), 4 rows, requantizer (3).
    assert layer.first_issue == 16
    last_issue = 16 + 4 * 16 - 1
    assert layer.last_output == last_issue + 8 + 3 + 3
    assert inference_cycles(program) == layer.last_output + 1


def test_utilization_formula():
    program = plan_program(lower(random_mlp([64, 16], seed=0)), ArrayShape(4, 4))
    cycles = inference_cycles(program)
    assert utilization(program, [(16, 64)], cycles) == 1024 / (16 * cycles)
