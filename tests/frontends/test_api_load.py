"""`api.load` and the command line take framework models as files and in memory: the
suffix (or the object's framework) picks the front-end, and the graph is the same either
way; the input format in hls4ml's spelling; one-line refusals."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from neurogate.compiler import api, serialize
from neurogate.compiler.frontends import parse_input_format
from neurogate.numerics.errors import NeurogateError
from neurogate.numerics.formats import IntFormat

ROOT = Path(__file__).resolve().parents[2]
JET = ROOT / "models" / "data" / "qkeras_jet_mlp.h5"
CNN = ROOT / "models" / "data" / "brevitas_digits_cnn.onnx"


def same_graph(a, b):
    return serialize.dumps(a).replace(a.name, "G") == serialize.dumps(b).replace(b.name, "G")


def test_an_in_memory_keras_model_gives_the_graph_of_its_file():
    from neurogate.compiler.frontends.keras import read_model

    from_file = api.load(JET, input_format="ap_fixed<16,6>")
    from_memory = api.load(read_model(JET), input_format=IntFormat(16, frac=10))
    assert same_graph(from_file, from_memory)


def test_an_in_memory_onnx_model_gives_the_graph_of_its_file():
    import onnx

    assert same_graph(api.load(CNN), api.load(onnx.load(str(CNN))))


@pytest.mark.parametrize("text, fmt", [
    ("ap_fixed<16,6>", IntFormat(16, True, 10)), ("ap_ufixed<8,0>", IntFormat(8, False, 8)),
    ("ap_int<8>", IntFormat(8)), ("ap_uint<4>", IntFormat(4, False)),
    (" ap_fixed< 12 , -2 > ", IntFormat(12, True, 14))])
def test_input_formats_in_hls4ml_spelling(text, fmt):
    assert parse_input_format(text) == fmt


@pytest.mark.parametrize("text", ["ap_fixed<16>", "fixed<16,6>", "ap_int<8,2>", "int8"])
def test_malformed_input_format_is_refused(text):
    with pytest.raises(NeurogateError, match="--input-format must be like"):
        api.load(JET, input_format=text)


def test_input_format_is_refused_for_models_that_declare_their_own():
    with pytest.raises(NeurogateError, match="--input-format is for Keras models"):
        api.load(ROOT / "models" / "mlp_digits.py", input_format="ap_int<8>")
    with pytest.raises(NeurogateError, match="--input-format is for Keras models"):
        api.load(CNN, input_format="ap_int<8>")


def run_cli(*args, cwd):
    env = {**os.environ, "NEUROGATE_PROGRESS": "0"}
    return subprocess.run([sys.executable, "-m", "neurogate.compiler.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=env)


def test_cli_compiles_and_verifies_a_qkeras_file_on_the_engine(tmp_path):
    out = tmp_path / "qjet"
    done = run_cli("compile", JET, "--input-format", "ap_fixed<16,6>", "--array", "8x8",
                   "--out", out, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    done = run_cli("verify", out, "--vectors", "300", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "0 of 1500 elements differ" in done.stdout
    golden = np.array(serialize.loads((out / "graph.json").read_text()).nodes[0].out.shape)
    assert golden.tolist() == [16]


def test_cli_refuses_a_truncated_onnx_file_in_one_line(tmp_path):
    bad = tmp_path / "cut.onnx"
    bad.write_bytes(CNN.read_bytes()[:300])
    done = run_cli("compile", bad, "--out", tmp_path / "o", cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cut.onnx" in lines[0] and "Traceback" not in done.stderr
    assert not (tmp_path / "o").exists()
