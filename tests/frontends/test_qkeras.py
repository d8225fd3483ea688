"""The QKeras / Keras front-end: construction, refusals (one line naming layer, type and
reason), then behaviour: the golden model of the graph equals ``model.predict`` on every
element, for the shipped models (10,000 inputs each plus the digits) and for small seeded
models of each layer type; approximated scales are measured and reported.

Needs tensorflow, tf-keras and qkeras (the ``qkeras`` extra): without them every test
that needs them fails with a message saying so (they are not skipped).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from neurogate.compiler.frontends.common import exact_binary_grid, multiplier_and_shift
from neurogate.compiler.interpreter import make_input_vectors, run
from neurogate.numerics import IntFormat, NeurogateError

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
try:
    import tf_keras as keras
    from neurogate.compiler.frontends.keras import (
        FrontendError,
        FrontendWarning,
        compare_with_keras,
        import_keras,
        load_keras,
    )
    from neurogate.models import qkeras_digits_cnn, qkeras_jet
    from qkeras import QActivation, QBatchNormalization, QDense, quantized_bits, quantized_relu

    from . import qkeras_models as zoo
    MISSING = None
except ImportError as error:          # reported by the fixture below, never skipped
    MISSING = error


@pytest.fixture
def tf():
    if MISSING is not None:
        pytest.fail(f"the QKeras front-end tests need tensorflow, tf-keras and qkeras "
                    f"(pip install 'neurogate[qkeras]'): {MISSING}")


def dense_model(*layers, shape=(6,)):
    x = keras.Input(shape, name="x")
    h = x
    for layer in layers:
        h = layer(h)
    return keras.Model(x, h)


def q8():
    return quantized_bits(8, 0, alpha=1)


# --- shared helpers (no TensorFlow) -------------------------------------------------------------


def test_exact_binary_grid():
    ints, frac = exact_binary_grid([0.75, -0.5, 3.0, 0.0])
    assert frac == 2 and ints.tolist() == [3, -2, 12, 0]
    assert exact_binary_grid([1024.0, 2048.0])[1] == -10
    assert exact_binary_grid([np.inf]) is None


def test_multiplier_and_shift():
    multipliers, shift = multiplier_and_shift([0.3, -1.7])
    assert np.all(np.abs(multipliers) < 2 ** 30)
    assert np.allclose(multipliers / 2.0 ** shift, [0.3, -1.7], rtol=2 ** -28)
    multiplier, shift = multiplier_and_shift(0.5)
    assert multiplier / 2.0 ** shift == 0.5


# --- refusals -------------------------------------------------------------------------------


def refusal(model, **options) -> str:
    with pytest.raises(FrontendError) as info:
        import_keras(model, **options)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_float_dense_refused_with_the_quantized_replacement(tf):
    message = refusal(dense_model(keras.layers.Dense(4, name="fc")),
                      input_format=IntFormat(8))
    assert "layer 'fc' (Dense): float layer" in message and "QDense(" in message


def test_unquantized_qdense_kernel_refused(tf):
    message = refusal(dense_model(QDense(4, name="fc")), input_format=IntFormat(8))
    assert "layer 'fc' (QDense): kernel has no quantizer" in message


def test_unsupported_layer_type_refused(tf):
    message = refusal(dense_model(keras.layers.Conv1D(2, 3, name="c1d"), shape=(8, 2)),
                      input_format=IntFormat(8))
    assert message == "layer 'c1d' (Conv1D): layer type not supported"


def test_unsupported_quantizer_refused(tf):
    model = dense_model(QDense(4, kernel_quantizer=q8(), bias_quantizer=q8(), name="fc"),
                        QActivation("quantized_tanh(8)", name="tanh"))
    message = refusal(model, input_format=IntFormat(8))
    assert message.startswith("layer 'tanh' (QActivation): activation quantizer")
    assert "quantized_tanh" in message


def test_auto_alpha_on_an_activation_refused(tf):
    model = dense_model(QActivation(quantized_bits(8, 2, alpha="auto"), name="qa"))
    message = refusal(model, input_format=IntFormat(8))
    assert "layer 'qa' (QActivation)" in message and "alpha='auto'" in message


def test_leaky_quantized_relu_refused(tf):
    model = dense_model(QActivation(quantized_relu(8, 2, negative_slope=0.25), name="leaky"))
    assert "negative_slope" in refusal(model, input_format=IntFormat(8))


def test_float_activation_refused(tf):
    model = dense_model(keras.layers.Activation("tanh", name="t"))
    message = refusal(model, input_format=IntFormat(8))
    assert "layer 't' (Activation): float activation 'tanh'" in message


def test_softmax_refused_unless_final(tf):
    model = dense_model(keras.layers.Activation("softmax", name="sm"),
                        QDense(3, kernel_quantizer=q8(), bias_quantizer=q8(), name="fc"))
    assert "layer 'sm' (Activation): softmax is only supported as the final" in refusal(
        model, input_format=IntFormat(8))


def test_batchnorm_after_an_activation_refused(tf):
    model = dense_model(QActivation(quantized_relu(8, 2), name="r"),
                        QBatchNormalization(name="bn"))
    assert "layer 'bn' (QBatchNormalization): a batchnorm is folded into" in refusal(
        model, input_format=IntFormat(8))


def test_lambda_refused_by_name(tf):
    model = dense_model(keras.layers.Lambda(lambda v: v * 2, name="double"))
    message = refusal(model, input_format=IntFormat(8))
    assert message.startswith("layer 'double' (Lambda): it runs Python code")


def test_missing_input_format_says_how_to_declare_it(tf):
    model = dense_model(QDense(3, kernel_quantizer=q8(), bias_quantizer=q8(), name="fc"))
    message = refusal(model)
    assert "input 'x'" in message and "input_format" in message and "ap_fixed<16,6>" in message


# --- files ----------------------------------------------------------------------------------


def test_h5_round_trip(tf, tmp_path):
    model, fmt = zoo.dense_activations()
    path = tmp_path / "model.h5"
    model.save(path)
    result = import_keras(str(path), input_format=fmt)
    inputs = make_input_vectors(result.graph, 300, seed=3)
    assert compare_with_keras(result, inputs).count == 0
    np.testing.assert_equal(run(result.graph, inputs)["fc3"],
                            run(import_keras(model, input_format=fmt).graph, inputs)["fc3"])


def test_lambda_in_a_file_refused_before_loading(tf, tmp_path):
    model = dense_model(keras.layers.Lambda(lambda v: v + 1, name="plus_one"))
    for suffix in (".h5", ".keras"):
        path = tmp_path / f"lambda{suffix}"
        model.save(path)
        message = refusal(str(path), input_format=IntFormat(8))
        assert message.startswith("layer 'plus_one' (Lambda): it runs Python code"), suffix


def test_keras_file_read_in_safe_mode(tf, tmp_path):
    path = tmp_path / "float.keras"
    dense_model(keras.layers.Dense(2, name="fc")).save(path)
    assert "layer 'fc' (Dense): float layer" in refusal(str(path), input_format=IntFormat(8))


def test_truncated_and_wrong_files_give_one_line(tf, tmp_path):
    path = tmp_path / "model.h5"
    dense_model(QDense(3, kernel_quantizer=q8(), bias_quantizer=q8())).save(path)
    cut = tmp_path / "cut.h5"
    cut.write_bytes(path.read_bytes()[:2000])
    assert refusal(str(cut)).startswith(f"{cut}: not a readable Keras model file")
    junk = tmp_path / "junk.keras"
    junk.write_bytes(b"not a zip")
    assert refusal(str(junk)).startswith(f"{junk}: not a readable Keras model file")
    assert refusal(str(tmp_path / "absent.h5")).endswith("no such file")
    text = tmp_path / "model.txt"
    text.write_text("x")
    assert "expected .h5 or .keras" in refusal(str(text))
    assert issubclass(FrontendError, NeurogateError)


# --- behaviour: the shipped models ------------------------------------------------------------


def check_exact(result, inputs):
    """Every output element of the graph equals model.predict's."""
    if not isinstance(inputs, dict):
        inputs = {result.graph.inputs[0].name: inputs}
    mismatch = compare_with_keras(result, inputs)
    assert mismatch.total == sum(run(result.graph, inputs)[n].size for n in result.graph.outputs)
    assert mismatch.count == 0, mismatch.describe()


def test_jet_mlp_matches_qkeras_on_10000_inputs(tf):
    result = import_keras(qkeras_jet.PATH, input_format=qkeras_jet.INPUT)
    assert not result.approximations and not result.notes_float32
    assert [n for n in result.notes if "softmax" in n]
    graph = result.graph
    assert graph.inputs[0].out.fmt == IntFormat(16, frac=10)
    assert graph.outputs == ("fc4",)
    inputs = make_input_vectors(graph, 10000, seed=0)
    x = inputs["features"]
    assert x.min() == -32768 and x.max() == 32767          # the corners are covered
    check_exact(result, inputs)


def test_digits_cnn_matches_qkeras_on_10000_inputs_and_the_digits(tf):
    result = import_keras(qkeras_digits_cnn.PATH)
    assert not result.approximations and not result.notes_float32
    assert result.graph.inputs[0].out.fmt == IntFormat(8, frac=6)   # from the QActivation
    check_exact(result, make_input_vectors(result.graph, 10000, seed=0))
    images, labels = qkeras_digits_cnn.held_out_set()
    check_exact(result, images)
    logits = run(result.graph, {"pixels": images})["logits"]
    assert np.mean(logits.argmax(axis=1) == labels) >= 0.95


def test_model_files_build_graphs(tf):
    with pytest.warns(FrontendWarning, match="softmax"):
        graph = qkeras_jet.build_model()
    assert graph.name == "qkeras_jet_mlp"


# --- behaviour: one small model per layer type ---------------------------------------------


@pytest.mark.parametrize("build", [
    "dense_activations", "conv_pool", "depthwise_separable", "merges", "binary_ternary",
    "batchnorm_folded"])
def test_layer_types_match_qkeras(tf, build):
    model, fmt = getattr(zoo, build)()
    result = import_keras(model, input_format=fmt)
    assert not result.approximations
    assert not result.notes_float32, result.notes_float32
    check_exact(result, make_input_vectors(result.graph, 400, seed=1))


def test_average_with_a_divisor_of_9_is_fused_with_its_quantizer(tf):
    model, fmt = zoo.depthwise_separable()
    result = import_keras(model, input_format=fmt)
    kinds = {n.name: type(n).__name__ for n in result.graph.nodes}
    assert kinds["q3"] == "AvgPool2D"               # 3x3 average + quantizer, one rounding
    assert kinds["gap"] == "GlobalAvgPool" and "q4" in kinds


def test_approximated_scales_are_measured_and_reported(tf):
    model, fmt = zoo.approximated_scales()
    result = import_keras(model, input_format=fmt)
    assert len(result.approximations) == 2
    assert "batchnorm 'bn'" in result.approximations[0]
    assert "alpha='auto'" in result.approximations[1]
    assert all("measured: " in line for line in result.approximations)
    again = compare_with_keras(result, make_input_vectors(result.graph, 1000, seed=0))
    assert again == result.calibration
    assert again.describe() in result.approximations[0]
    assert again.rate < 0.02
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_keras(model, input_format=fmt)
    assert sum(issubclass(w.category, FrontendWarning) for w in caught) == 2


def test_float32_rounding_risk_is_noted(tf):
    model = dense_model(QDense(4, kernel_quantizer=q8(), bias_quantizer=q8(), name="wide"),
                        shape=(64,))
    zoo.randomize(model, 0, spread=1.0)
    result = import_keras(model, input_format=IntFormat(24, frac=8))
    assert any("layer 'wide' (QDense): the float32 sum" in n for n in result.notes_float32)
    assert not result.exact
