"""Compiled networks (the engine backend's host streams) on the engine's RTL: bit-exact
against the ISS, and each run's cycles equal to the cycle model's (no tolerance)."""

import numpy as np
import pytest
from engine_graphs import random_cnn
from engine_rtl_sim import compare
from neurogate.compiler.backends.engine.host import program_load_cycles
from neurogate.compiler.backends.engine.run import compile_program
from neurogate.compiler.interpreter import make_input_vectors
from neurogate.hw.engine import isa
from neurogate.hw.engine.config import EngineConfig
from neurogate.sim.engine.cycles import program_cycles
from neurogate.sim.engine.iss import Echo

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


@pytest.mark.parametrize("seed", [3, 8, 40])      # 40: a Concat's output in host memory
def test_spilled_and_paged_programs_on_the_rtl(seed):
    """Tensors in host memory (row bands, the host echoing the stored words) and a
    program longer than the 16-word program memory (sent in pages): bit-exact with idle
    input and back-pressure, and the RTL's cycles from the first host word to the end of
    the last run equal the cycle model's."""
    config = EngineConfig(array=4, spad_words=128, wbuf_words=2048, bias_words=64,
                          prog_words=16)
    graph = random_cnn(seed, lanes=4)
    program = compile_program(graph, config, batch=1, weights="resident")
    assert program.offchip and program.paged
    x = make_input_vectors(graph, 2, seed=seed)
    batches = [{k: np.asarray(v)[i:i + 1] for k, v in x.items()} for i in range(2)]
    stream = program.host_stream(batches)
    assert any(isinstance(w, Echo) for w in stream)
    compare(config, stream, gaps=0.05, stalls=0.1, seed=seed)
    clean = compare(config, stream)
    model = program_load_cycles(program.program_stream()) + program.setup_cycles \
        + 2 * program.run_cycles
    assert clean.runs_end_at - clean.first_word_at == model


def test_a_load_waits_for_the_store_still_sending_the_words_it_overwrites():
    """``x + conv(x)`` with ``x`` in host memory: the ADD's LOAD of ``x`` goes where the
    convolution's last band is still being STOREd (their staging regions overlap, their
    steps do not); with back-pressure on the output the STORE is slow, and a LOAD
    without the store unit's wait bit would overwrite words before they leave."""
    from engine_graphs import RandomCnn
    from neurogate.numerics.formats import IntFormat

    r = RandomCnn(0, lanes=4)
    b = r.b
    x = b.input("x", (8, 8, 4), IntFormat(8, frac=4))
    conv = r.conv(x, channels=4, kernel=1, stride=1, dilation=1, padding="same")
    h = b.add(x, conv, out_fmt=IntFormat(8, frac=2))
    graph = b.build([r.dense(b.flatten(h), 3, relu=False)])
    config = EngineConfig(array=4, spad_words=128, wbuf_words=512, bias_words=16,
                          prog_words=64)
    program = compile_program(graph, config, batch=1)
    assert "x" in program.offchip
    x_loads = [pc for pc, load in program.loads if load.source == "x"]
    assert any(isa.decode(program.instructions[pc]).wait >> isa.Unit.STORE & 1
               for pc in x_loads)
    stream = program.host_stream(program.batches(make_input_vectors(graph, 1, seed=1)))
    for seed in range(3):
        compare(config, stream, stalls=0.5, seed=seed)
