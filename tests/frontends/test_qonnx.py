"""The QONNX front-end against QONNX's own execution (``execute_onnx``), element by element.

Construction (the shipped Brevitas CNN, hand-built graphs per op and rounding mode), then
the refusals (one line naming the node, its op and the reason), then approximations.
"""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("qonnx")

from neurogate.compiler import ir  # noqa: E402
from neurogate.compiler.frontends.common import FrontendError  # noqa: E402
from neurogate.compiler.frontends.qonnx import (  # noqa: E402
    compare_with_qonnx,
    convert_qonnx,
    load_qonnx,
    run_qonnx,
)
from neurogate.compiler.interpreter import make_input_vectors, run  # noqa: E402
from neurogate.models import brevitas_cnn  # noqa: E402
from neurogate.numerics.formats import BinaryFormat  # noqa: E402

from frontends.qonnx_graphs import QonnxGraph, cnn_model, requant_model  # noqa: E402

ROUNDING_MODES = ["ROUND", "HALF_EVEN", "FLOOR", "CEIL", "DOWN", "UP", "HALF_UP", "HALF_DOWN"]


def assert_exact(conversion, inputs) -> dict:
    """Every output element of the golden model times its scale equals QONNX's float."""
    qonnx_out = run_qonnx(conversion, inputs)
    golden = run(conversion.graph, inputs)
    for onnx_name, ir_name in conversion.output_names.items():
        ints = golden[ir_name]
        scale = conversion.output_scales[onnx_name]
        if np.ndim(scale):
            scale = scale.reshape((1, -1) + (1,) * (ints.ndim - 2))
        expected = ints * scale
        got = qonnx_out[onnx_name].astype(np.float64)
        assert got.shape == expected.shape
        bad = np.flatnonzero(got != expected)
        assert bad.size == 0, (f"{bad.size} of {got.size} elements differ, first "
                               f"{got.flat[bad[0]]} vs {expected.flat[bad[0]]}")
    return golden


def check_model(model, count: int = 600, **kwargs):
    conversion = convert_qonnx(model, **kwargs)
    assert conversion.exact and conversion.mismatch is None
    golden = assert_exact(conversion, make_input_vectors(conversion.graph, count))
    for values in golden.values():      # the graph really computes something
        assert len(np.unique(values)) > 4
    return conversion


# --- the shipped Brevitas CNN --------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    return convert_qonnx(brevitas_cnn.MODEL)


def test_shipped_cnn_is_exact_on_10000_inputs_and_the_digits(shipped):
    graph = shipped.graph
    (inp,) = graph.inputs
    assert inp.out.shape == (1, 8, 8)                      # NCHW, like the ONNX model
    assert isinstance(graph.nodes[1], ir.Transpose)        # one transpose to NHWC
    assert sum(isinstance(n, ir.Transpose) for n in graph.nodes) == 1
    random = make_input_vectors(graph, 10_000, seed=7)[inp.name]
    assert random.min() == inp.out.fmt.min and random.max() == inp.out.fmt.max
    digits, _ = brevitas_cnn.held_out_inputs()
    assert_exact(shipped, {inp.name: np.concatenate([random, digits])})


def test_shipped_cnn_accuracy_through_the_golden_model(shipped):
    assert brevitas_cnn.accuracy(shipped.graph) >= 0.95


def test_shipped_cnn_formats_are_derived(shipped):
    convs = [n for n in shipped.graph.nodes if isinstance(n, (ir.Conv2D, ir.Dense))]
    assert len(convs) == 3
    for node in convs:     # the accumulator holds every sum: no wrap, not a fixed 32 bits
        assert node.out.fmt.width < 32


# --- hand-built graphs ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", ROUNDING_MODES)
def test_quant_rounding_mode(mode):
    check_model(requant_model(mode), count=300)


def test_rounding_modes_differ_on_ties():
    outs = {}
    for mode in ROUNDING_MODES:
        graph = convert_qonnx(requant_model(mode)).graph
        x = {graph.inputs[0].name: np.arange(-128, 128).reshape(16, 16)}
        outs[mode] = run(graph, x)[graph.outputs[0]].tobytes()
    assert len(set(outs.values())) == 7            # ROUND and HALF_EVEN are one mode


@pytest.mark.parametrize("signed, narrow, zero, mode", [
    (1, 1, 0.0, "ROUND"), (0, 0, 0.0, "ROUND"), (0, 1, 0.0, "HALF_UP"),
    (1, 0, 3.0, "FLOOR"), (0, 0, 2.0, "ROUND"), (1, 0, -5.0, "CEIL")])
def test_quant_narrow_unsigned_and_zero_point(signed, narrow, zero, mode):
    check_model(requant_model(mode, signed=signed, narrow=narrow, zero=zero), count=300)


def test_non_power_of_two_scales_with_a_dyadic_ratio_are_exact():
    conversion = check_model(requant_model("ROUND", in_scale=3 * 2.0 ** -6,
                                           out_scale=3 * 2.0 ** -4), count=300)
    assert conversion.output_scales["global_out"] == pytest.approx(3 * 2.0 ** -4)


@pytest.mark.parametrize("kwargs", [
    {}, {"per_channel": True}, {"stride": 2, "pads": (0, 1, 1, 0), "dilation": 2},
    {"groups": 2, "bias": False}, {"groups": 6, "channels": 6}])
def test_conv_pool_flatten_gemm(kwargs):
    conversion = check_model(cnn_model(**kwargs))
    assert sum(isinstance(n, ir.Transpose) for n in conversion.graph.nodes) == 1


def test_bipolar_activations_and_binary_weights():
    g = QonnxGraph((12,))
    x = g.bipolar(g.quant("x", 2.0 ** -4, 8), 1.0)
    w = g.bipolar(g.const(np.random.default_rng(0).normal(size=(7, 12))), 0.5)
    out = g.node("MatMul", [x, g.node("Transpose", [w], perm=[1, 0])])
    conversion = check_model(g.model(out, (7,)), count=200)
    dense = next(n for n in conversion.graph.nodes if isinstance(n, ir.Dense))
    assert isinstance(dense.weight_fmt, BinaryFormat)
    assert any(isinstance(n, ir.SignBinarize) for n in conversion.graph.nodes)


@pytest.mark.parametrize("version, mode", [(2, "FLOOR"), (2, "ROUND"), (1, "FLOOR")])
def test_trunc(version, mode):
    g = QonnxGraph((3, 4, 4), qonnx_opset=version)
    x = g.quant("x", 2.0 ** -4, 8, signed=0)
    pooled = g.node("AveragePool", [x], kernel_shape=[2, 2], strides=[2, 2])
    summed = g.node("Mul", [pooled, g.const(4.0)])
    common = [g.const(2.0 ** -4), g.const(0.0), g.const(10.0)]
    if version == 2:
        tail = [g.const(2.0 ** -2), g.const(8.0)]
        y = g.node("Trunc", [summed, *common, *tail], "qonnx.custom_op.general",
                   rounding_mode=mode, signed=0)
    else:
        y = g.node("Trunc", [summed, *common, g.const(8.0)], "qonnx.custom_op.general",
                   rounding_mode=mode)
    check_model(g.model(y, (3, 2, 2)), count=300)


def test_residual_add_transpose_reshape_and_global_pool():
    g = QonnxGraph((4, 4, 4))
    x = g.quant("x", 2.0 ** -5, 8)
    w = g.weights((4, 4, 3, 3), scale=0.25, seed=4)
    h = g.quant(g.node("Conv", [x, w], kernel_shape=[3, 3], pads=[1, 1, 1, 1]), 2.0 ** -3, 8)
    s = g.node("Add", [h, x])                                    # scales 2**-3 and 2**-5
    t = g.node("Transpose", [s], perm=[0, 2, 3, 1])              # NHWC in ONNX
    r = g.node("Reshape", [t, g.const([1, 16, 4], dtype=np.int64)])
    p = g.node("GlobalAveragePool", [g.node("Reshape", [r, g.const([1, 4, 4, 4], dtype=np.int64)])])
    out = g.node("Flatten", [p], axis=1)
    check_model(g.model(out, (4,)))


# --- refusals: one line, naming the node, its op and the reason -----------------------------


def refusal(model, *words, **kwargs) -> str:
    with pytest.raises(FrontendError) as error:
        load_qonnx(model, **kwargs)
    message = str(error.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message
    return message


def simple(op, *, attrs=None, extra_inputs=()):
    g = QonnxGraph((2, 4, 4))
    x = g.quant("x", 2.0 ** -4, 8)
    y = g.node(op, [x, *extra_inputs], **(attrs or {}))
    return g, y


def test_refuses_an_unsupported_op():
    g, y = simple("Sigmoid")
    refusal(g.model(y, (2, 4, 4)), "Sigmoid_", "(Sigmoid)", "not supported")


def test_refuses_batch_normalization():
    g = QonnxGraph((2, 4, 4))
    x = g.quant("x", 2.0 ** -4, 8)
    y = g.node("BatchNormalization", [x] + [g.const(np.ones(2))] * 4)
    refusal(g.model(y, (2, 4, 4)), "(BatchNormalization)", "fold BatchNormalization")


def test_refuses_an_unsupported_attribute():
    g = QonnxGraph((2, 4, 4))
    x = g.quant("x", 2.0 ** -4, 8)
    y = g.node("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)
    refusal(g.model(y, (2, 2, 2)), "MaxPool_", "(MaxPool)", "ceil_mode=1")


def test_refuses_a_run_time_weight():
    g = QonnxGraph((2, 4, 4))
    g.extra_inputs.append(onnx.helper.make_tensor_value_info("w", onnx.TensorProto.FLOAT,
                                                             (3, 2, 1, 1)))
    x = g.quant("x", 2.0 ** -4, 8)
    w = g.quant("w", 2.0 ** -3, 4)
    y = g.node("Conv", [x, w], kernel_shape=[1, 1])
    refusal(g.model(y, (3, 4, 4)), "Conv_", "(Conv)", "not a constant")


def test_refuses_a_rounding_mode_qonnx_cannot_run():
    refusal(requant_model("ROUND_TO_ZERO"), "(Quant)", "ROUND_TO_ZERO")


def test_refuses_an_odd_zero_point_with_round():
    refusal(requant_model("ROUND", zero=1.0), "(Quant)", "zero point 1")


def test_refuses_a_foreign_domain():
    g, y = simple("Relu")
    g.nodes[-1].domain = "os"
    model = g.model(y, (2, 4, 4))
    model.opset_import.append(onnx.helper.make_opsetid("os", 1))
    refusal(model, "(Relu)", "domain 'os'")


def test_refuses_a_float_graph_input():
    g = QonnxGraph((4,))
    y = g.node("Relu", ["x"])
    refusal(g.model(y, (4,)), "graph input 'x'", "Quant")


def test_refuses_corrupt_truncated_and_missing_files(tmp_path):
    data = brevitas_cnn.MODEL.read_bytes()
    (tmp_path / "cut.onnx").write_bytes(data[: len(data) // 2])
    (tmp_path / "junk.onnx").write_bytes(b"\x00\xff" * 100)
    refusal(tmp_path / "cut.onnx", "cut.onnx", "ONNX")
    refusal(tmp_path / "junk.onnx", "junk.onnx")
    refusal(tmp_path / "none.onnx", "none.onnx", "no such file")


def test_refuses_external_data_outside_the_folder(tmp_path):
    model = onnx.load(str(brevitas_cnn.MODEL))
    tensor = model.graph.initializer[1]
    tensor.data_location = onnx.TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", "../secret.bin"
    tensor.ClearField("raw_data")
    (tmp_path / "m").mkdir()
    onnx.save(model, str(tmp_path / "m" / "ext.onnx"))
    refusal(tmp_path / "m" / "ext.onnx", "outside the model's folder")


# --- approximations: refused unless asked for, then measured ---------------------------------


def test_non_dyadic_scale_is_refused_then_measured():
    model = requant_model("ROUND", out_scale=0.1)
    refusal(model, "Quant_", "(Quant)", "allow_approximation")
    conversion = convert_qonnx(model, allow_approximation=True)
    assert "multiplier" in conversion.approximations[0]
    again = compare_with_qonnx(conversion, make_input_vectors(conversion.graph, 1000))
    assert conversion.mismatch == again
    assert conversion.mismatch.elements == 16_000
    assert conversion.mismatch.max_lsb <= 1 and conversion.mismatch.rate < 0.05
    with pytest.warns(UserWarning, match="output elements differ"):
        load_qonnx(model, allow_approximation=True)


def test_sums_too_wide_for_float32_are_refused_then_measured():
    g = QonnxGraph((64,))
    x = g.quant("x", 2.0 ** -4, 12)
    w = g.weights((6, 64), bits=12, scale=2.0 ** -6, seed=5)
    model = g.model(g.node("MatMul", [x, g.node("Transpose", [w], perm=[1, 0])]), (6,))
    refusal(model, "(MatMul)", "float32 sums")
    conversion = convert_qonnx(model, allow_approximation=True)
    assert conversion.mismatch.elements == 6_000
