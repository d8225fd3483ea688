"""The cycle model's arithmetic on known cases (its agreement with the RTL is tested in
tests/hw/test_accelerator.py and tests/rtl)."""

import pytest
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


def test_model_runs_from_design_json_as_from_the_program(tmp_path):
    from neurogate.compiler import api
    from neurogate.compiler.design import Design
    graph = api.load("models/mlp_digits_int4.py")
    folder = api.compile(graph, array="2x4", out=tmp_path / "x")
    design = Design.from_json((folder / "design.json").read_text())
    program = plan_program(lower(graph), ArrayShape(2, 4))
    assert design.config == program.config
    cycles = inference_cycles(design.config, design.engine.descriptors)
    assert cycles == inference_cycles(program) == design.expected_cycles
    assert engine_timeline(design.config, design.engine.descriptors) == engine_timeline(program)


def test_model_follows_the_timing(monkeypatch):
    from neurogate.hw.requant import Requantizer
    program = plan_program(lower(random_mlp([20, 9, 5], seed=0)), ArrayShape(4, 4))
    before = inference_cycles(program)
    monkeypatch.setattr(Requantizer, "LATENCY", Requantizer.LATENCY + 1)
    assert inference_cycles(program) == before + 2          # once per layer


def test_model_refuses_untyped_input():
    program = plan_program(lower(random_mlp([8, 4], seed=0)), ArrayShape(2, 2))
    with pytest.raises(TypeError, match="Program, or an AcceleratorConfig"):
        inference_cycles(program.config)
    with pytest.raises(TypeError, match="each a LayerDescriptor"):
        inference_cycles(program.config, [{"k_tiles": 4}])
