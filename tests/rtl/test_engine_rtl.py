"""RTL regression: compiled designs on Verilator, through the compiled harness (the
default) and the cocotb protocol bench, against the golden model."""

import json

import numpy as np
import pytest
from graphs import random_mlp
from neurogate.compiler import api
from neurogate.compiler.flows import verify as verify_flow
from neurogate.models.digits import build_digits_mlp, held_out_set
from neurogate.numerics.errors import NeurogateError


def compiled(tmp_path, graph, array, target="ecp5-85k"):
    out = tmp_path / graph.name
    api.compile(graph, array=f"{array[0]}x{array[1]}", target=target, out=out)
    return out


@pytest.mark.parametrize("weight_bits,array", [(8, (8, 8)), (4, (3, 5))])
def test_digits_mlp_bit_exact_on_the_harness(tmp_path, weight_bits, array):
    out = compiled(tmp_path, build_digits_mlp(weight_bits), array)
    report = api.verify(out, vectors=2000, seed=3)
    verified = report["verified"]
    assert verified["method"] == "verilator harness"
    assert verified["mismatches"] == 0 and verified["vectors"] == 2000
    assert verified["elements"] == 2000 * 10
    # The cycle model predicts the RTL exactly.
    assert report["latency_cycles"] == report["model_cycles"]


def test_digits_mlp_under_cocotb_with_idle_and_backpressure(tmp_path):
    out = compiled(tmp_path, build_digits_mlp(8), (4, 4))
    report = api.verify(out, vectors=30, protocol=True)
    assert report["verified"]["method"] == "cocotb"
    assert report["verified"]["mismatches"] == 0
    assert report["verified"]["vectors"] == 30 and report["verified"]["stress_vectors"] == 12
    assert report["latency_cycles"] == report["model_cycles"]


def test_the_whole_held_out_set_through_the_rtl(tmp_path):
    out = compiled(tmp_path, build_digits_mlp(8), (8, 8))
    inputs, labels = held_out_set()
    dataset = tmp_path / "digits.npz"
    np.savez(dataset, x=inputs, y=labels)
    report = api.verify(out, dataset=dataset)
    assert report["verified"]["vectors"] == len(labels) and report["verified"]["mismatches"] == 0
    accuracy = report["accuracy"]
    assert accuracy["labels"] == len(labels) and accuracy["rtl"] == accuracy["golden"]
    assert accuracy["rtl"] > 0.9


def test_a_wrong_expectation_is_caught_and_named_by_the_harness(tmp_path, monkeypatch):
    out = compiled(tmp_path, random_mlp([11, 6, 5], seed=5, name="tampered"), (2, 4))
    real = verify_flow.run_single_output

    def tampered(graph, x):
        expected = real(graph, x).copy()
        expected[3, 2] += 1
        expected[7, 0] += 1
        return expected

    monkeypatch.setattr(verify_flow, "run_single_output", tampered)
    with pytest.raises(verify_flow.MismatchError,
                       match=r"layer 'fc2', vector 3, element 2: expected .*\(2 of 40 elements"):
        api.verify(out, vectors=8)
    report = json.loads((out / "report.json").read_text())
    assert report["verified"]["mismatches"] == 2 and report["verified"]["mismatched_vectors"] == 2


def test_a_wrong_expectation_is_caught_and_named_by_cocotb(tmp_path, monkeypatch):
    out = compiled(tmp_path, random_mlp([11, 6, 5], seed=5, name="tampered"), (2, 4))
    real = verify_flow.write_vectors

    def tampered(folder, graph, count, seed=0):
        real(folder, graph, count, seed)
        vectors = json.loads((folder / "vectors.json").read_text())
        vectors["expected"][3][2] += 1
        (folder / "vectors.json").write_text(json.dumps(vectors))

    monkeypatch.setattr(verify_flow, "write_vectors", tampered)
    with pytest.raises(NeurogateError, match=r"layer 'fc2', vector 3, element 2: expected"):
        api.verify(out, vectors=8, protocol=True)
    report = json.loads((out / "report.json").read_text())
    assert report["verified"]["mismatches"] >= 1
