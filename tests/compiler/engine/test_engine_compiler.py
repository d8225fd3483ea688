"""The engine backend's program on the instruction-level simulator against the golden
interpreter: random CNNs inside what the engine runs, the shipped models, batches,
resident and streamed weights, and what it refuses."""

import numpy as np
import pytest
from engine_graphs import random_cnn
from neurogate.compiler.backends.engine.lower import EngineMappingError
from neurogate.compiler.backends.engine.program import EngineFitError
from neurogate.compiler.backends.engine.run import compile_program, run_on_iss
from neurogate.compiler.builder import GraphBuilder
from neurogate.compiler.interpreter import make_input_vectors, run
from neurogate.hw.engine import isa
from neurogate.hw.engine.config import EngineConfig
from neurogate.hw.engine.isa import Error
from neurogate.numerics.errors import NeurogateError
from neurogate.numerics.formats import IntFormat
from neurogate.sim.engine.iss import EngineSim

SMALL = EngineConfig(array=4, spad_words=4096, wbuf_words=2048, bias_words=64)


def check(graph, config, *, vectors=6, seed=0, **options):
    program = compile_program(graph, config, **options)
    x = make_input_vectors(graph, vectors, seed=seed)
    got, want = run_on_iss(program, x), run(graph, x)
    for name in graph.outputs:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    return program


@pytest.mark.parametrize("seed", range(24))
def test_random_cnns_bit_exact_on_the_simulator(seed):
    graph = random_cnn(seed, lanes=4)
    check(graph, SMALL, seed=seed, batch=1, weights="resident")
    check(graph, SMALL, seed=seed, batch=2, weights="streamed", vectors=5)


@pytest.mark.parametrize("model", ["digits_cnn", "residual_cnn", "vgg_cnn", "mlp_digits"])
def test_shipped_models_bit_exact_on_the_simulator(model):
    import importlib
    graph = importlib.import_module(f"neurogate.models.{model}").build_model() \
        if model != "mlp_digits" else importlib.import_module(
            "neurogate.models.digits").build_digits_mlp(8)
    program = check(graph, EngineConfig(), vectors=8)
    # the VGG-style network's 2,174 weight words per column exceed the default engine's
    # 2,048: streamed; the others stay resident
    assert program.resident == (model != "vgg_cnn")


def test_streamed_weights_use_both_halves_and_match_resident():
    from neurogate.models.vgg_cnn import build_model
    graph = build_model()
    small = EngineConfig(wbuf_words=512)
    program = check(graph, small, vectors=3, weights="streamed")
    assert not program.resident and program.weight_stream_words > 0


def test_digits_cnn_accuracy_through_the_simulator_equals_golden():
    from neurogate.models.digits_cnn import build_model, held_out_set
    graph = build_model()
    x, labels = held_out_set()
    program = compile_program(graph, EngineConfig(), batch=8)
    got = run_on_iss(program, {"pixels": x})["logits"]
    want = run(graph, {"pixels": x})["logits"]
    np.testing.assert_array_equal(got, want)
    assert np.mean(got.argmax(1) == labels) == pytest.approx(354 / 360)


def test_compile_is_deterministic():
    graph = random_cnn(3)
    a = compile_program(graph, SMALL, batch=2).host_stream([])
    b = compile_program(graph, SMALL, batch=2).host_stream([])
    assert a == b


def _graph(build):
    b = GraphBuilder("g")
    x = b.input("x", (8, 8, 4), IntFormat(8))
    return b.build([build(b, x)])


@pytest.mark.parametrize("multiplier, shift", [(4, 9), (8, 2), (1, 0)])
def test_a_power_of_two_requantize_multiplier_is_a_shift(multiplier, shift):
    """``x * 2**k / 2**s`` is ``x / 2**(s - k)``: a right shift, or a left one (8, 2)."""
    b = GraphBuilder("g")
    x = b.input("x", (6, 6, 4), IntFormat(8))
    h = b.conv2d(x, np.random.default_rng(1).integers(-128, 128, (3, 3, 4, 5)),
                 weight_fmt=IntFormat(8), acc_width=32, padding="same")
    q = b.requantize(h, shift=shift, multiplier=multiplier, out_fmt=IntFormat(8),
                     rounding="half_even", name="rq")
    y = b.requantize(b.max_pool2d(q, 2), shift=1, multiplier=2, out_fmt=IntFormat(8))
    check(b.build([y]), SMALL, vectors=12)


def test_other_requantize_multipliers_are_refused_naming_the_layer():
    for multiplier in (3, np.array([2, 4, 2, 2, 2])):
        b = GraphBuilder("g")
        x = b.input("x", (6, 6, 4), IntFormat(8))
        h = b.conv2d(x, np.ones((3, 3, 4, 5)), weight_fmt=IntFormat(8), acc_width=32)
        b.requantize(h, shift=4, multiplier=multiplier, out_fmt=IntFormat(8), name="rq")
        with pytest.raises(EngineMappingError, match="'rq': a Requantize multiplier that is "
                                                     "not one power of two"):
            compile_program(b.build(["rq"]), SMALL)


def test_refusals_name_the_layer_and_the_reason():
    cases = [
        (lambda b, x: b.softmax(b.flatten(x), name="probs"), "'probs': op Softmax"),
        (lambda b, x: b.avg_pool2d(x, 3, stride=1, out_fmt=IntFormat(8), name="avg3"),
         "'avg3': an average over 9 cells"),
        (lambda b, x: b.conv2d(x, np.ones((3, 3, 4, 4)), weight_fmt=IntFormat(8),
                               acc_width=32, name="raw"), None),
    ]
    for build, text in cases[:2]:
        with pytest.raises(EngineMappingError, match=text):
            compile_program(_graph(build), SMALL)
    # an accumulator feeding something other than a Requantize
    b = GraphBuilder("g")
    x = b.input("x", (8, 8, 4), IntFormat(8))
    h = b.conv2d(x, np.ones((3, 3, 4, 4)), weight_fmt=IntFormat(8), acc_width=32, name="raw")
    g = b.build([b.relu(h)])
    with pytest.raises(EngineMappingError, match="'raw': the engine requantizes"):
        compile_program(g, SMALL)


@pytest.mark.parametrize("signed", [True, False])
def test_16_bit_inputs_run_as_two_byte_planes(signed):
    """Mixed precision: a 16-bit input on 8-bit lanes, low and high bytes as two passes
    over the same weights (Dense on a vector, a (T, F) sequence, and Conv2D)."""
    rng = np.random.default_rng(16)
    fmt = IntFormat(16, signed=signed, frac=10)
    b = GraphBuilder("wide")
    x = b.input("x", 13, fmt)
    h = b.dense(x, rng.integers(-128, 128, (6, 13)), rng.integers(-99, 99, 6),
                weight_fmt=IntFormat(8), acc_width=32)
    out1 = b.requantize(h, shift=14, out_fmt=IntFormat(8, signed=False))
    image = b.input("image", (5, 5, 3), fmt)
    h = b.conv2d(image, rng.integers(-128, 128, (3, 3, 3, 5)), weight_fmt=IntFormat(8),
                 padding="same", stride=2, acc_width=32)
    out2 = b.requantize(h, shift=16, out_fmt=IntFormat(8))
    seq = b.input("seq", (3, 9), fmt)
    h = b.dense(seq, rng.integers(-128, 128, (4, 9)), weight_fmt=IntFormat(8), acc_width=32)
    out3 = b.requantize(h, shift=14, out_fmt=IntFormat(8), rounding="half_even")
    check(b.build([out1, out2, out3]), SMALL, vectors=12)


def test_inputs_wider_than_two_lanes_and_wide_pools_are_refused():
    b = GraphBuilder("g")
    x = b.input("wide_in", 16, IntFormat(20, frac=10))
    h = b.dense(x, np.ones((4, 16)), weight_fmt=IntFormat(8), acc_width=32)
    with pytest.raises(EngineMappingError, match="'wide_in': its 20-bit"):
        compile_program(b.build([b.requantize(h, shift=4, out_fmt=IntFormat(8))]), SMALL)
    b = GraphBuilder("g")
    x = b.input("x16", (4, 4, 2), IntFormat(16))
    with pytest.raises(EngineMappingError, match="'pool': its input 'x16' is 16-bit"):
        compile_program(b.build([b.max_pool2d(x, 2, name="pool")]), SMALL)


@pytest.mark.parametrize("spad", [4096, 2048, 512])
def test_residual_cnn_spills_to_host_memory_when_its_tensors_do_not_fit(spad):
    """7,168 words live at once (batch 1): a smaller scratchpad keeps some tensors in host
    memory, in row bands, bit-exact (the residual adds and the projection included)."""
    from neurogate.models.residual_cnn import build_model
    program = check(build_model(), EngineConfig(spad_words=spad, prog_words=1024), vectors=4,
                    batch=2)
    assert program.offchip and program.spad_peak <= spad
    stored, loaded = program.spill_words
    assert stored > 0 and loaded >= stored          # a band's window reaches its neighbours


def test_a_concat_output_in_host_memory_is_banded_with_all_its_copies():
    """Random CNN 7 concatenates twice; on 512 words both results go to host memory, and
    each band is stored once every source has written its channels."""
    program = check(random_cnn(7, lanes=4), EngineConfig(array=4, spad_words=512,
                                                         wbuf_words=2048, bias_words=64,
                                                         prog_words=4096), vectors=3)
    concats = sorted(s for s in program.offchip if s.startswith("concat"))
    assert concats == ["concat11", "concat7"]
    for name in concats:
        stored = [(offset, count) for s, offset, count in program.stores if s == name]
        words = program.tensors[name].layout.words
        assert sum(count for _, count in stored) == words       # every word stored once
        assert len(stored) > 1                                  # in bands


def test_tensors_that_do_not_fit_even_when_tiled_give_the_sizes():
    """The global average pool reads its whole 4x4x64 input at once (its band is the
    image): 256 words cannot hold it and the output row beside it."""
    from neurogate.models.residual_cnn import build_model
    with pytest.raises(EngineFitError, match=r"layer 'gap': its smallest band needs 260 "
                                              r"scratchpad words even when tiled and the "
                                              r"engine has 256 \(it reads one image's whole "
                                              r"input at once\); in host memory: gap, image"):
        compile_program(build_model(), EngineConfig(spad_words=256, prog_words=4096))


@pytest.mark.parametrize("seed", range(12))
def test_random_cnns_in_row_bands_bit_exact(seed):
    """Random CNNs on scratchpads of 128 and 512 words: whatever spills (inputs, outputs,
    pools, adds, wide inputs, dense layers per image) matches the golden model; a
    graph that cannot fit is refused with the sizes, not run."""
    graph = random_cnn(seed, lanes=4)
    spilled = refused = 0
    for spad, batch, weights in ((128, 1, "resident"), (512, 2, "streamed")):
        config = EngineConfig(array=4, spad_words=spad, wbuf_words=2048, bias_words=64,
                              prog_words=4096)
        try:
            program = check(graph, config, vectors=3, seed=seed, batch=batch, weights=weights)
        except EngineFitError as e:
            assert "even when tiled" in str(e)
            refused += 1
            continue
        spilled += bool(program.offchip)
    assert spilled or refused == 2


def test_an_echo_of_a_word_not_yet_output_is_refused_by_the_simulator():
    from neurogate.sim.engine.iss import Echo
    graph = random_cnn(2)
    program = compile_program(graph, SMALL)
    stream = program.host_stream(program.batches(make_input_vectors(graph, 1)))
    at = stream.index(isa.command(isa.Command.RUN, pc=program.inference_pc)) + 1
    stream[at] = Echo(0)
    with pytest.raises(EOFError, match="echoes output word 0 when only 0 have been output"):
        EngineSim(SMALL).run(stream)


def test_resident_weights_that_do_not_fit_are_refused():
    from neurogate.models.vgg_cnn import build_model
    with pytest.raises(EngineFitError, match="resident weights need 2174 weight-buffer words"):
        compile_program(build_model(), EngineConfig(wbuf_words=1024), weights="resident")


def test_bad_batch_and_weight_mode():
    graph = random_cnn(1)
    with pytest.raises(NeurogateError, match="batch must be a positive integer"):
        compile_program(graph, SMALL, batch=0)
    with pytest.raises(NeurogateError, match="weights must be one of"):
        compile_program(graph, SMALL, weights="rom")


def test_a_program_for_another_engine_is_refused_by_its_header():
    graph = random_cnn(2)
    program = compile_program(graph, SMALL)
    other = EngineSim(EngineConfig(array=4, spad_words=8192, wbuf_words=2048, bias_words=64))
    result = other.run(program.program_stream())
    assert result.error is Error.BAD_SIGNATURE
    # and nothing runs after it
    x = make_input_vectors(graph, 1)
    assert other.run(program.inference_stream(x)).outputs == []


def test_qkeras_jet_mlp_with_its_16_bit_input_runs_on_the_8_bit_engine():
    from neurogate.compiler import api
    graph = api.load("models/data/qkeras_jet_mlp.h5", input_format="ap_fixed<16,6>")
    program = check(graph, EngineConfig(), vectors=300)
    assert program.tensors["features"].layout.planes == 2
