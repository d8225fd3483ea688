"""The HLS backend end to end: model -> project -> g++ C-simulation == golden model.

Construction (the project's files, deterministic bytes, the typed design), then bad
input (ops without a kernel, a broken project), then behaviour (shipped models, random
graphs with every op, io_stream, the resource strategy).  Each distinct project is one
g++ build (cached by content), so the random graphs here are a sample; `make regress`
runs a few hundred.
"""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from graphs import random_graph
from neurogate.compiler import api
from neurogate.compiler.builder import GraphBuilder
from neurogate.compiler.cli import main
from neurogate.compiler.design import HlsDesign
from neurogate.compiler.flows.design_folder import load_design
from neurogate.compiler.flows.verify import MismatchError
from neurogate.numerics import FP8_E4M3, IntFormat
from neurogate.numerics.errors import NeurogateError


def small_cnn(name="cnn"):
    rng = np.random.default_rng(4)
    b = GraphBuilder(name)
    x = b.input("image", (6, 6, 2), IntFormat(8, frac=7))
    h = b.conv2d(x, rng.integers(-128, 128, (3, 3, 2, 4)), rng.integers(-500, 500, 4),
                 weight_fmt=IntFormat(8, frac=6), padding="same", name="conv1")
    h = b.requantize(h, shift=9, out_fmt=IntFormat(8), rounding="half_even", name="conv1_q")
    h = b.relu(h, name="conv1_relu")
    h = b.max_pool2d(h, 2, name="pool1")
    h = b.flatten(h, name="flat")
    h = b.dense(h, rng.integers(-128, 128, (5, 36)), weight_fmt=IntFormat(8, frac=6),
                name="fc")
    h = b.requantize(h, shift=8, out_fmt=IntFormat(8), name="fc_q")
    return b.build(outputs=[h])


def test_the_project_folder(tmp_path):
    out = api.compile(small_cnn(), backend="hls", out=tmp_path / "p")
    names = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    for name in ("firmware/cnn.cpp", "firmware/cnn.h", "firmware/parameters.h",
                 "firmware/weights/conv1_w.h", "firmware/kernels/ng_dense.h",
                 "tb/cnn_test.cpp", "build_prj.tcl", "README.md", "design.json", "graph.json"):
        assert name in names, name
    design = load_design(out)
    assert isinstance(design, HlsDesign) and design.top == "cnn" and design.io == "parallel"
    assert [p.size for p in design.inputs] == [72] and [p.size for p in design.outputs] == [5]
    assert "set_part" in (out / "build_prj.tcl").read_text()


def test_the_project_is_deterministic(tmp_path):
    for name in ("a", "b"):
        api.compile(small_cnn(), backend="hls", io="stream", out=tmp_path / name)
    for path in (tmp_path / "a").rglob("*"):
        if path.is_file():
            assert path.read_bytes() == (tmp_path / "b" / path.relative_to(tmp_path / "a")
                                         ).read_bytes(), path


def test_an_op_without_a_kernel_is_refused_by_name(tmp_path):
    b = GraphBuilder("floaty")
    x = b.input("x", 4, FP8_E4M3)
    y = b.float_dense(x, np.zeros((2, 4), dtype=np.int64), acc_fmt=FP8_E4M3, name="fd")
    with pytest.raises(NeurogateError, match="layer 'fd': op FloatDense has no HLS kernel"):
        api.compile(b.build(outputs=[y]), backend="hls", out=tmp_path / "f")
    assert not (tmp_path / "f").exists()


def test_bad_hls_options_are_named(tmp_path):
    result = CliRunner().invoke(main, ["compile", "models/jet_mlp.py", "--backend", "hls",
                                       "--reuse", "0", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "--reuse" in result.output
    with pytest.raises(NeurogateError, match="--io must be one of"):
        api.compile(small_cnn(), backend="hls", io="serial", out=tmp_path / "o")


def test_a_gxx_error_names_the_generated_file_and_line(tmp_path):
    out = api.compile(small_cnn("broken"), backend="hls", out=tmp_path / "p")
    params = out / "firmware" / "parameters.h"
    params.write_text(params.read_text().replace("struct fc_config {", "struct fc_config { oops"))
    with pytest.raises(NeurogateError, match=r"parameters\.h:\d+:\d+: error"):
        api.verify(out, vectors=4)


def test_synth_refuses_an_hls_project(tmp_path):
    out = api.compile(small_cnn(), backend="hls", out=tmp_path / "p")
    with pytest.raises(NeurogateError, match="synthesize it with Vitis HLS"):
        api.synth(out)


@pytest.mark.parametrize("model", ["mlp_digits", "mlp_digits_int4", "jet_mlp", "dense512"])
def test_shipped_models_csim_bit_exact(tmp_path, model):
    out = api.compile(api.load(f"models/{model}.py"), backend="hls", out=tmp_path / model)
    vectors = 200 if model == "dense512" else 10_000
    report = api.verify(out, vectors=vectors)
    assert report["verified"]["method"] == "g++ C-simulation"
    assert report["verified"]["vectors"] == vectors and report["verified"]["mismatches"] == 0


@pytest.mark.parametrize("io, strategy, reuse", [("parallel", "latency", 1),
                                                 ("stream", "latency", 1),
                                                 ("parallel", "resource", 4),
                                                 ("stream", "resource", 3)])
def test_cnn_in_every_style(tmp_path, io, strategy, reuse):
    out = api.compile(small_cnn(), backend="hls", io=io, strategy=strategy, reuse=reuse,
                      out=tmp_path / "p")
    report = api.verify(out, vectors=500)
    assert report["verified"]["mismatches"] == 0


@pytest.mark.parametrize("seed", range(12))
def test_random_graphs_csim_bit_exact(tmp_path, seed):
    graph = random_graph(seed)
    out = api.compile(graph, backend="hls", io="stream" if seed % 3 == 2 else "parallel",
                      out=tmp_path / "g")
    report = api.verify(out, vectors=300, seed=seed)
    assert report["verified"]["mismatches"] == 0


def test_a_mismatch_is_named_by_layer_vector_and_element(tmp_path, monkeypatch):
    out = api.compile(small_cnn(), backend="hls", out=tmp_path / "p")
    from neurogate.compiler.flows import verify as verify_flow
    real = verify_flow.run

    def tampered(graph, given):
        values = real(graph, given)
        values["fc_q"] = values["fc_q"].copy()
        values["fc_q"][2, 3] += 1
        return values

    monkeypatch.setattr(verify_flow, "run", tampered)
    with pytest.raises(MismatchError, match=r"layer 'fc_q', vector 2, element 3"):
        api.verify(out, vectors=5)
    report = json.loads((out / "report.json").read_text())
    assert report["verified"]["mismatches"] == 1
