"""RTL regression: compiled designs on Verilator under the generated cocotb bench."""

import json

import pytest
from graphs import random_mlp
from neurogate.compiler import api
from neurogate.compiler.flows import verify as verify_flow
from neurogate.models.digits import build_digits_mlp
from neurogate.numerics.errors import NeurogateError


def compiled(tmp_path, graph, array, target="ecp5-85k"):
    out = tmp_path / graph.name
    api.compile(graph, array=f"{array[0]}x{array[1]}", target=target, out=out)
    return out


@pytest.mark.parametrize("weight_bits,array", [(8, (8, 8)), (4, (3, 5))])
def test_digits_mlp_bit_exact_on_verilator(tmp_path, weight_bits, array):
    out = compiled(tmp_path, build_digits_mlp(weight_bits), array)
    report = verify_flow.verify_design(out, vectors=40)
    assert report["verified"]["mismatches"] == 0
    assert report["verified"]["vectors"] == 40 and report["verified"]["stress_vectors"] == 12
    # The cycle model predicts the RTL exactly.
    assert report["latency_cycles"] == report["model_cycles"]


def test_a_wrong_expectation_is_caught_and_named(tmp_path, monkeypatch):
    out = compiled(tmp_path, random_mlp([11, 6, 5], seed=5, name="tampered"), (2, 4))
    real = verify_flow.write_vectors

    def tampered(folder, graph, count, seed=0):
        real(folder, graph, count, seed)
        vectors = json.loads((folder / "vectors.json").read_text())
        vectors["expected"][3][2] += 1
        (folder / "vectors.json").write_text(json.dumps(vectors))

    monkeypatch.setattr(verify_flow, "write_vectors", tampered)
    with pytest.raises(NeurogateError, match=r"layer 'fc2', vector 3, element 2: expected"):
        verify_flow.verify_design(out, vectors=8)
    report = json.loads((out / "report.json").read_text())
    assert report["verified"]["mismatches"] >= 1
