"""Small hand-built QONNX models (onnx.helper) for the QONNX front-end tests.

Imported by ``test_qonnx.py`` only after it has checked that onnx and qonnx are installed.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

QONNX_DOMAIN = "qonnx.custom_op.general"


class QonnxGraph:
    """Collects nodes and initializers; ``model()`` makes the ``ModelProto``."""

    def __init__(self, input_shape, *, qonnx_opset: int = 2):
        self.input_shape = tuple(input_shape)
        self.nodes, self.inits, self.extra_inputs = [], [], []
        self.count = 0
        self.qonnx_opset = qonnx_opset

    def const(self, values, name: str | None = None, dtype=np.float32) -> str:
        self.count += 1
        name = name or f"c{self.count}"
        self.inits.append(numpy_helper.from_array(np.asarray(values, dtype=dtype), name))
        return name

    def node(self, op, inputs, domain: str = "", **attrs) -> str:
        self.count += 1
        out = f"t{self.count}"
        self.nodes.append(helper.make_node(op, list(inputs), [out], name=f"{op}_{self.count}",
                                           domain=domain, **attrs))
        return out

    def quant(self, x, scale, bits, *, signed=1, narrow=0, zero=0.0, mode="ROUND") -> str:
        return self.node("Quant", [x, self.const(scale), self.const(zero), self.const(bits)],
                         QONNX_DOMAIN, signed=signed, narrow=narrow, rounding_mode=mode)

    def bipolar(self, x, scale) -> str:
        return self.node("BipolarQuant", [x, self.const(scale)], QONNX_DOMAIN)

    def weights(self, shape, *, bits=4, scale=0.125, seed=0, narrow=1) -> str:
        rng = np.random.default_rng(seed)
        real = rng.normal(0, 1.0, shape) * (2 ** (bits - 2)) * np.asarray(scale)
        return self.quant(self.const(real), scale, bits, narrow=narrow)

    def model(self, output: str, output_shape) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes, "hand_built",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, (1,) + self.input_shape)]
            + self.extra_inputs,
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, (1,) + tuple(output_shape))],
            self.inits)
        model = helper.make_model(graph, opset_imports=[
            helper.make_opsetid("", 13), helper.make_opsetid(QONNX_DOMAIN, self.qonnx_opset)])
        model.ir_version = 8
        return model


def requant_model(mode: str, *, in_scale=2.0 ** -4, out_scale=0.5, bits=4, signed=1,
                  narrow=0, zero=0.0, in_bits=8, in_signed=1):
    """x -> Quant (the input integers) -> Quant(out_scale, bits, mode)."""
    g = QonnxGraph((16,))
    x = g.quant("x", in_scale, in_bits, signed=in_signed)
    y = g.quant(x, out_scale, bits, signed=signed, narrow=narrow, zero=zero, mode=mode)
    return g.model(y, (16,))


def cnn_model(*, weight_scale=0.125, per_channel=False, bias=True, stride=1,
              pads=(1, 1, 1, 1), dilation=1, groups=1, channels=4):
    """Quant -> Conv (+ bias) -> Relu -> Quant -> MaxPool(pads) -> Flatten -> Gemm."""
    g = QonnxGraph((channels, 7, 7))
    x = g.quant("x", 2.0 ** -5, 8)
    scale = np.array(weight_scale, dtype=np.float64)
    if per_channel:
        scale = (weight_scale * 2.0 ** -np.arange(6)).reshape(6, 1, 1, 1)
    w = g.weights((6, channels // groups, 3, 3), scale=scale, seed=1)
    inputs = [x, w]
    if bias:
        acc_scale = 2.0 ** -5 * np.broadcast_to(scale.reshape(-1), (6,))
        b = g.quant(g.const(np.random.default_rng(2).normal(0, 4, 6) * acc_scale),
                    acc_scale, 16)
        inputs.append(b)
    h = g.node("Conv", inputs, kernel_shape=[3, 3], pads=list(pads), strides=[stride] * 2,
               dilations=[dilation] * 2, group=groups)
    h = g.quant(g.node("Relu", [h]), 2.0 ** -3, 8, signed=0)
    h = g.node("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 1, 1])
    flat = g.node("Flatten", [h], axis=1)
    ho, wo = ((7 + lo + hi - 2 * dilation - 1) // stride + 1
              for lo, hi in ((pads[0], pads[2]), (pads[1], pads[3])))
    size = 6 * ((ho - 1) // 2 + 1) * ((wo - 1) // 2 + 1)     # max pool 2x2, pad bottom/right
    fc = g.weights((5, size), scale=0.25, seed=3)
    out = g.node("Gemm", [flat, fc, g.const(np.arange(5) * 0.125)], transB=1)
    return g.model(out, (5,))
