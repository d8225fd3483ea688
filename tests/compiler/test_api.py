from neurogate.compiler import api
from neurogate.compiler.backends.engine.run import compile_program
from neurogate.hw.engine.config import EngineConfig
from neurogate.sim.engine.cycles import program_cycles


def test_estimate_sweep_matches_the_cycle_model():
    graph = api.load("models/digits_cnn.py")
    points = [api.estimate(graph, a) for a in ("4x4", "8x8", "16x16")]
    assert [p.pes for p in points] == [16, 64, 256]
    assert points[0].cycles > points[1].cycles > points[2].cycles
    program = compile_program(graph, EngineConfig(array=8))
    assert points[1].cycles == program_cycles(program.config,
                                              program.instructions[program.inference_pc:])
    assert points[1].utilization == program.useful_macs / (64 * points[1].cycles)


def test_compile_returns_the_folder(tmp_path):
    folder = api.compile(api.load("models/mlp_digits_int4.py"), array="4x4", out=tmp_path / "x")
    assert (folder / "design.json").is_file() and (folder / "program.hex").is_file()


def test_a_non_square_array_is_refused(tmp_path):
    import pytest
    from neurogate.numerics.errors import NeurogateError
    with pytest.raises(NeurogateError, match="square .* not 2x4"):
        api.compile(api.load("models/mlp_digits_int4.py"), array="2x4", out=tmp_path / "x")
    assert not (tmp_path / "x").exists()
