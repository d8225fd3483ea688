from neurogate.compiler import api
from neurogate.compiler.backends.amaranth.mapping import plan_program
from neurogate.compiler.passes.pipeline import lower
from neurogate.hw.config import ArrayShape
from neurogate.sim.perf.engine_cycles import inference_cycles


def test_estimate_sweep_matches_the_cycle_model():
    graph = api.load("models/mlp_digits.py")
    points = [api.estimate(graph, a) for a in ("2x2", "4x4", "8x8", "16x4")]
    assert [p.pes for p in points] == [4, 16, 64, 64]
    assert points[0].cycles > points[1].cycles > points[2].cycles
    program = plan_program(lower(graph), ArrayShape(4, 4))
    assert points[1].cycles == inference_cycles(program)
    macs = 64 * 36 + 36 * 20 + 20 * 10
    assert points[2].utilization == macs / (64 * points[2].cycles)


def test_compile_returns_the_folder(tmp_path):
    folder = api.compile(api.load("models/mlp_digits_int4.py"), array="2x4", out=tmp_path / "x")
    assert (folder / "design.json").is_file()
