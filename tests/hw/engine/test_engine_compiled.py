"""Compiled networks (the engine backend's host streams) on the engine's RTL: bit-exact
against the ISS, and each run's cycles equal to the cycle model's (no tolerance)."""

import numpy as np
import pytest
from engine_graphs import random_cnn
from engine_rtl_sim import compare
from neurogate.compiler.backends.engine.run import compile_program
from neurogate.compiler.interpreter import make_input_vectors
from neurogate.hw.engine.config import EngineConfig
from neurogate.sim.engine.cycles import program_cycles

CONFIG = EngineConfig(array=4, spad_words=4096, wbuf_words=2048, bias_words=64)


@pytest.mark.parametrize("seed,weights", [(0, "resident"), (1, "streamed"), (3, "resident"),
                                          (4, "streamed")])
def test_random_cnns_on_the_rtl(seed, weights):
    graph = random_cnn(seed, lanes=4)
    program = compile_program(graph, CONFIG, batch=1, weights=weights)
    x = make_input_vectors(graph, 2, seed=seed)
    batches = [{k: np.asarray(v)[i:i + 1] for k, v in x.items()} for i in range(2)]
    result = compare(CONFIG, program.host_stream(batches), gaps=0.05, stalls=0.1, seed=seed)
    assert len(result.outputs) == 2 * program.output_words
    setup = [program.instructions[:program.inference_pc]] if program.resident else []
    runs = setup + [program.instructions[program.inference_pc:]]
    clean = compare(CONFIG, program.host_stream(batches[:1]))
    assert clean.run_cycles == [program_cycles(CONFIG, ins) for ins in runs]
