"""Walk a cleaned QONNX graph and build the neurogate IR graph, node by node.

The conversion keeps, for every ONNX tensor, either a ``Constant`` or a ``Value`` (IR
integers ``q`` with ``onnx == q * scale``, ``qonnx_values``).  Layout: the IR graph takes
its input in the ONNX (NCHW) order; an image is moved to NHWC by one IR ``Transpose`` when
an op first needs channels last (Conv, pooling, per-channel scales), ONNX ``Transpose``
nodes only relabel axes, a ``Flatten`` of a channels-last image keeps the NHWC order and
the ``Gemm`` after it permutes its weight columns instead (no transpose inside), and graph
outputs are moved back to the ONNX order.

Each step is exact (the IR integers times the scale equal QONNX's float32 values) or it is
recorded in ``approximations`` with its reason; the caller refuses or measures those.
Refusals are ``FrontendError``s of one line naming the node, its op type and the reason.
"""

from __future__ import annotations

import re

import numpy as np

from ...numerics.formats import BinaryFormat
from ..builder import GraphBuilder
from ..ir import Graph, IRError
from .common import FrontendError, layer_error
from .qonnx_layers import LayerOps
from .qonnx_quant import QuantOps
from .qonnx_values import Constant, Value, as_scale, frac_of, int_format


class Converter(QuantOps, LayerOps):
    """One conversion: ``Converter(wrapper, name).run()`` returns the IR ``Graph``.

    After ``run``: ``input_scales`` / ``output_scales`` map ONNX tensor names to their
    scale (``onnx == integer * scale``), ``approximations`` lists every inexact step.
    """

    def __init__(self, wrapper, name: str, original_inputs: list[str] | None = None):
        self.model = wrapper
        self.original_inputs = list(original_inputs or [])
        self.builder = GraphBuilder(name)
        self.values: dict[str, Value] = {}
        self.constants: dict[str, Constant] = {}
        self.absorbed: set[str] = set()
        self.approximations: list[str] = []
        self.input_scales: dict[str, np.ndarray] = {}
        self.output_scales: dict[str, np.ndarray] = {}
        self.input_names: dict[str, str] = {}
        self.output_names: dict[str, str] = {}
        self._used_names: set[str] = set()
        self.opsets = wrapper.get_opset_imports()

    # --- plumbing ---------------------------------------------------------------------------
    def refuse(self, node, reason: str) -> FrontendError:
        return layer_error(node.name or node.output[0], node.op_type, reason)

    def approximate(self, node, reason: str) -> None:
        self.approximations.append(f"layer {node.name!r} ({node.op_type}): {reason}")

    def ir_name(self, base: str) -> str:
        name = re.sub(r"\W", "_", base) or "node"
        if not re.match(r"[A-Za-z_]", name):
            name = f"n_{name}"
        candidate, count = name, 1
        while candidate in self._used_names:
            count += 1
            candidate = f"{name}_{count}"
        self._used_names.add(candidate)
        return candidate

    def onnx_shape(self, tensor: str) -> tuple[int, ...]:
        """The non-batch shape of an ONNX tensor (axis 0 is the batch)."""
        shape = self.model.get_tensor_shape(tensor)
        if shape is None or len(shape) < 2 or any(
                not isinstance(d, (int, np.integer)) or d < 1 for d in shape[1:]):
            raise FrontendError(f"tensor {tensor!r}: shape {shape} is not (batch, known "
                                "sizes...)")
        return tuple(int(d) for d in shape[1:])

    def constant(self, node, index: int, what: str) -> Constant:
        if index >= len(node.input) or not node.input[index]:
            raise self.refuse(node, f"{what} (input {index}) is missing")
        name = node.input[index]
        if name not in self.constants:
            raise self.refuse(node, f"{what} {name!r} is not a constant (only constant "
                                    f"{what}s are supported)")
        return self.constants[name]

    def value(self, node, index: int = 0) -> Value:
        name = node.input[index]
        if name not in self.values:
            raise self.refuse(node, f"input {name!r} is a constant, not a run-time tensor")
        return self.values[name]

    def attribute(self, node, name: str, default=None):
        from onnx import helper

        for attr in node.attribute:
            if attr.name == name:
                value = helper.get_attribute_value(attr)
                return value.decode() if isinstance(value, bytes) else value
        return default

    def only_attributes(self, node, allowed: dict) -> None:
        """Refuse attributes outside ``allowed`` (name -> accepted values, or None for any)."""
        for attr in node.attribute:
            if attr.name not in allowed:
                raise self.refuse(node, f"attribute {attr.name!r} is not supported")
            accepted = allowed[attr.name]
            value = self.attribute(node, attr.name)
            if accepted is not None and value not in accepted:
                raise self.refuse(node, f"attribute {attr.name}={value!r} is not supported "
                                        f"(only {', '.join(map(repr, accepted))})")

    def emit(self, method: str, *args, **kwargs) -> str:
        """Call a ``GraphBuilder`` method; an ``IRError`` becomes a ``FrontendError``."""
        try:
            return getattr(self.builder, method)(*args, **kwargs)
        except IRError as error:
            raise FrontendError(f"building the IR: {error}") from None

    def fmt(self, ir: str):
        return self.builder.type_of(ir).fmt

    # --- layouts ----------------------------------------------------------------------------
    def relayout(self, v: Value, perm: tuple[int, ...], base: str) -> Value:
        """``v`` with IR axis ``i`` holding ONNX non-batch axis ``perm[i]`` (an IR Transpose
        when needed; a flattened channels-last vector is unflattened first)."""
        if v.flat_of is not None:
            shape, src = v.flat_of
            ir = self.emit("reshape", v.ir, tuple(shape[p] for p in src),
                           name=self.ir_name(f"{base}_unflatten"))
            t = tuple(src.index(j) for j in range(len(src)))
            ir = self.emit("transpose", ir, t, name=self.ir_name(f"{base}_nchw"))
            ir = self.emit("flatten", ir, name=self.ir_name(f"{base}_flatten"))
            v = Value(ir, v.lo, v.hi, v.scale, (0,))
        if v.perm == tuple(perm):
            return v
        t = tuple(v.perm.index(j) for j in perm)
        suffix = "nhwc" if perm == (1, 2, 0) else "relayout"
        ir = self.emit("transpose", v.ir, t, name=self.ir_name(f"{base}_{suffix}"))
        return Value(ir, v.lo, v.hi, v.scale, tuple(perm))

    def plain(self, v: Value, base: str) -> Value:
        return self.relayout(v, tuple(range(len(v.perm))), base)

    def channels_last(self, v: Value, base: str) -> Value:
        """``v`` with the ONNX channel axis (axis 1) last in the IR."""
        rank = len(v.perm)
        if rank == 1:
            return v
        return self.relayout(v, tuple(range(1, rank)) + (0,), base)

    # --- the walk ---------------------------------------------------------------------------
    def run(self) -> Graph:
        graph = self.model.graph
        for init in graph.initializer:
            real = self.model.get_initializer(init.name)
            self.constants[init.name] = Constant(real=np.asarray(real).astype(np.float64))
        initializers = set(self.constants)
        inputs = [inp.name for inp in graph.input if inp.name not in initializers]
        originals = self.original_inputs if len(self.original_inputs) == len(inputs) else inputs
        for inp, original in zip(inputs, originals):
            self.graph_input(inp, original)
        for node in graph.node:
            if node.name in self.absorbed:
                continue
            handler = getattr(self, f"op_{node.op_type}", None)
            if handler is None:
                raise self.refuse(node, self.unsupported_reason(node.op_type))
            handler(node)
        outputs = []
        for out in graph.output:
            if out.name not in self.values:
                raise FrontendError(f"graph output {out.name!r} is a constant; nothing to "
                                    "compute")
            v = self.plain(self.values[out.name], self.ir_name(out.name))
            outputs.append(v.ir)
            self.output_names[out.name] = v.ir
            self.output_scales[out.name] = v.scale
        try:
            return self.builder.build(outputs=outputs)
        except IRError as error:
            raise FrontendError(f"building the IR: {error}") from None

    @staticmethod
    def unsupported_reason(op_type: str) -> str:
        if op_type == "BatchNormalization":
            return ("op not supported: fold BatchNormalization into the preceding layer "
                    "before export (its float32 affine is not exact)")
        return "op not supported by the QONNX front-end"

    # --- graph inputs -----------------------------------------------------------------------
    def graph_input(self, name: str, original: str) -> None:
        """An IR input in the ONNX order (NCHW for images).  Its integers are those of the
        one ``Quant``/``BipolarQuant`` reading it (QONNX gets ``integer * scale``), or of the
        tensor's QONNX integer datatype annotation (scale 1)."""
        shape = self.onnx_shape(name)
        perm = tuple(range(len(shape)))
        datatype = self.model.get_tensor_datatype(name)
        if datatype is not None and datatype.is_integer() and datatype.name != "FLOAT32":
            fmt = BinaryFormat() if datatype.name == "BIPOLAR" else \
                int_format(int(datatype.min()), int(datatype.max()), 0)
            scale = as_scale(1.0)
        else:
            consumers = self.model.find_consumers(name)
            if len(consumers) != 1 or consumers[0].op_type not in ("Quant", "BipolarQuant"):
                raise FrontendError(
                    f"graph input {original!r} is float32: it must feed exactly one Quant or "
                    "BipolarQuant (whose integers become the IR input), or carry a QONNX "
                    "integer datatype annotation")
            scale, fmt = self.input_quant_format(consumers[0])
        # the full format range: the quantizer's own clamp (narrow range) is emitted after it
        lo, hi = fmt.min, fmt.max
        ir = self.emit("input", self.ir_name(name), shape, fmt)
        self.input_names[name] = ir
        self.input_scales[name] = scale
        self.values[name] = Value(ir, lo, hi, scale, perm)

    def input_quant_format(self, node):
        """``(scale, fmt)`` of the integers ``node`` (the input's quantizer) makes."""
        scale = self.quant_scale(node)
        if node.op_type == "BipolarQuant":
            return scale, BinaryFormat(frac_of(scale))
        bits, signed, narrow, zero = self.quant_params(node)
        if bits == 1 and signed:
            return scale, BinaryFormat(frac_of(scale))
        lo, hi = self.quant_bounds(bits, signed, narrow, zero)
        return scale, int_format(lo, hi, frac_of(scale))
