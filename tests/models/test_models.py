"""The shipped example models: well-formed, accurate through the integer golden model."""

import pytest
from neurogate.compiler.modelfile import load_model
from neurogate.compiler.passes.pipeline import lower
from neurogate.models.digits import accuracy, held_out_set


@pytest.mark.parametrize("path,weight_bits,floor", [
    ("models/mlp_digits.py", 8, 0.96),
    ("models/mlp_digits_int4.py", 4, 0.93),
])
def test_digits_models(path, weight_bits, floor):
    graph = load_model(path)
    layers = lower(graph).nodes[1:]
    assert {n.weight_fmt.width for n in layers} == {weight_bits}
    assert {n.acc_fmt.width for n in layers} == {32} and {n.out.fmt.width for n in layers} == {8}
    sizes = [n.weights.shape for n in lower(graph).nodes[1:]]
    assert sizes == [(36, 64), (20, 36), (10, 20)]
    assert accuracy(graph) >= floor


def test_held_out_set_is_int8_q07():
    inputs, labels = held_out_set()
    assert inputs.shape == (360, 64) and inputs.min() >= 0 and inputs.max() <= 127
    assert set(labels.tolist()) == set(range(10))


def test_dense512_model():
    graph = lower(load_model("models/dense512.py"))
    assert graph.nodes[1].weights.shape == (512, 512)
