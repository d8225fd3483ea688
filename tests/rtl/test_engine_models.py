"""Every shipped model compiled for one 8x8 engine and run on that engine's Verilated RTL
against the golden model (corners first, then random), with one Verilator build for all
of them (batches too large for the scratchpad among them: spilled to host memory in row
bands); two models run one after the other on one engine from one host stream."""

import numpy as np
import pytest
from neurogate.compiler import api
from neurogate.compiler.flows.design_folder import load_design, load_graph
from neurogate.compiler.flows.verify_engine import output_payloads, rebuild_program
from neurogate.compiler.interpreter import make_input_vectors, run
from neurogate.hw.engine.config import EngineConfig
from neurogate.sim.verilator import harness

ENGINE = EngineConfig()
MODELS = {
    "digits_cnn": ("models/digits_cnn.py", {}, 300),
    "residual_cnn": ("models/residual_cnn.py", {}, 12),
    "vgg_cnn": ("models/vgg_cnn.py", {}, 12),
    "vgg_cnn_streamed": ("models/vgg_cnn.py", {"weight_loading": "streamed"}, 6),
    "digits_cnn_batch4_streamed": ("models/digits_cnn.py", {"weight_loading": "streamed",
                                                            "batch": 4}, 50),
    "mlp_digits": ("models/mlp_digits.py", {}, 300),
    # batches whose tensors outgrow the 8,192-word scratchpad: row bands, host memory
    "residual_cnn_batch4_spilled": ("models/residual_cnn.py", {"batch": 4}, 8),
    "vgg_cnn_batch8_spilled": ("models/vgg_cnn.py", {"batch": 8}, 8),
    # 909 instructions: longer than the 512-word program memory, sent in pages every run
    "digits_cnn_batch128_spilled_paged": ("models/digits_cnn.py", {"batch": 128}, 256),
    "qkeras_jet": ("models/data/qkeras_jet_mlp.h5", {}, 300),
}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    root = tmp_path_factory.mktemp("engine_models")
    folders = {}
    for name, (path, options, _) in MODELS.items():
        fmt = "ap_fixed<16,6>" if path.endswith(".h5") else None
        graph = api.load(path, input_format=fmt)
        folders[name] = api.compile(graph, out=root / name, engine=ENGINE, **options)
    return folders


def test_one_engine_verilog_for_every_model(compiled):
    texts = {(folder / "engine.v").read_bytes() for folder in compiled.values()}
    assert len(texts) == 1


@pytest.mark.parametrize("name", MODELS)
def test_shipped_model_bit_exact_on_the_engine_rtl(compiled, name):
    report = api.verify(compiled[name], vectors=MODELS[name][2], seed=1)
    assert report["verified"]["mismatches"] == 0
    assert report["verified"]["vectors"] == MODELS[name][2]
    e = report["engine_cycles"]
    # the cycle model (program load + setup + runs) within 0.5% of the RTL's total
    assert abs(e["total"] - e["model_total"]) <= 0.005 * e["model_total"]
    design = load_design(compiled[name])
    assert bool(design.host_tensors) == ("_spilled" in name)
    assert bool(design.program_pages) == name.endswith("_paged")


def test_digits_cnn_accuracy_on_the_rtl(compiled, tmp_path):
    from neurogate.models.digits_cnn import held_out_set
    x, y = held_out_set()
    np.savez(tmp_path / "digits.npz", x=x, y=y)
    report = api.verify(compiled["digits_cnn"], dataset=tmp_path / "digits.npz")
    assert report["verified"]["mismatches"] == 0
    assert report["accuracy"]["rtl"] == report["accuracy"]["golden"] == pytest.approx(354 / 360)


def test_two_models_on_one_engine_from_one_stream(compiled):
    """Program A, its runs, then program B and its runs, into one simulated engine."""
    stream, expected, programs = [], [], []
    for name in ("digits_cnn", "residual_cnn"):
        folder = compiled[name]
        design, graph = load_design(folder), load_graph(folder)
        program = rebuild_program(folder, design, graph)
        given = make_input_vectors(graph, 3, seed=7)
        stream += program.program_stream() + program.setup_stream() \
            + sum((program.inference_stream(b) for b in program.batches(given)), [])
        expected.append(run(graph, given))
        programs.append((program, len(given[graph.inputs[0].name])))
    design = load_design(compiled["digits_cnn"])
    exe = harness.build(compiled["digits_cnn"] / design.verilog, design.toplevel,
                        in_bits=ENGINE.host_bits, out_bits=ENGINE.spad_bits + 1)
    words = harness.ints_to_words(np.array([stream], dtype=object), ENGINE.host_bits)
    total = sum(p.output_words * count for p, count in programs)
    result = harness.run(exe, words, chunks=len(stream), outputs=total,
                         timeout_cycles=2_000_000, work=compiled["digits_cnn"] / "two")
    data, _ = output_payloads(result.words[0], ENGINE.spad_bits)
    at = 0
    for (program, count), want in zip(programs, expected):
        got = program.decode_runs(data[at:at + program.output_words * count], count)
        at += program.output_words * count
        for name in want:
            np.testing.assert_array_equal(got[name], want[name])
