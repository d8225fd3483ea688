"""One converter per supported Keras / QKeras layer type: a layer and its input values in,
its output value out (``keras_values``), or a ``FrontendError`` naming the layer.

Weights are what the layer's ``call`` uses at inference: the layer's own quantizer is run
(TensorFlow, float32) on the stored kernel and bias -- for ``QConv2DBatchnorm`` on the
folded kernel and bias of ``get_folded_weights()``, the same float32 operations -- and
the result is turned into integers (``keras_quantizers.integer_weights``).
"""

from __future__ import annotations

import math

import numpy as np

from ...numerics.rounding import Overflow, Rounding
from ..builder import same_padding
from .common import layer_error
from .keras_emit import Emitter
from .keras_quantizers import (
    activation_quantizer,
    describe_scale,
    integer_weights,
    weight_levels,
)
from .keras_values import Exact, PendingLinear, PendingMean, Value

QUANTIZE_HINT = {
    "Dense": "QDense(units, kernel_quantizer=quantized_bits(8, 0, alpha=1), "
             "bias_quantizer=quantized_bits(8, 0, alpha=1))",
    "Conv2D": "QConv2D(filters, kernel_size, kernel_quantizer=quantized_bits(8, 0, alpha=1), "
              "bias_quantizer=quantized_bits(8, 0, alpha=1))",
    "DepthwiseConv2D": "QDepthwiseConv2D(kernel_size, depthwise_quantizer=quantized_bits(8, 0, "
                       "alpha=1), bias_quantizer=quantized_bits(8, 0, alpha=1))",
    "SeparableConv2D": "QSeparableConv2D(filters, kernel_size, depthwise_quantizer=quantized_bits("
                       "8, 0, alpha=1), pointwise_quantizer=quantized_bits(8, 0, alpha=1), "
                       "bias_quantizer=quantized_bits(8, 0, alpha=1))",
}


def _pair(value) -> tuple[int, int]:
    return (int(value), int(value)) if np.ndim(value) == 0 else tuple(int(v) for v in value)


class LayerConverter:
    """Converts layers in topological order; ``tf`` is the TensorFlow module."""

    def __init__(self, emitter: Emitter, tf):
        self.e = emitter
        self.tf = tf

    # --- dispatch ----------------------------------------------------------------------------
    def convert(self, layer, inputs: list[Value], *, final: bool) -> Value:
        kind = type(layer).__name__
        method = getattr(self, f"_layer_{kind}", None)
        if method is None:
            if kind in QUANTIZE_HINT:
                raise layer_error(layer.name, kind, "float layer (no quantizers): replace it by "
                                                    f"qkeras.{QUANTIZE_HINT[kind]} and retrain")
            raise layer_error(layer.name, kind, "layer type not supported")
        return method(layer, kind, inputs, final)

    def _one(self, layer, kind, inputs) -> Value:
        if len(inputs) != 1:
            raise layer_error(layer.name, kind, f"takes one input, not {len(inputs)}")
        return inputs[0]

    def _exact(self, layer, kind, inputs) -> Exact:
        return self.e.materialize(self._one(layer, kind, inputs), layer.name, kind)

    # --- activations -------------------------------------------------------------------------
    def apply_activation(self, layer, kind, value: Value, activation, final: bool,
                         name: str | None = None) -> Value:
        """``activation`` (a QKeras quantizer or a Keras activation function) on ``value``."""
        name = name or layer.name
        fname = getattr(activation, "__name__", None) if not hasattr(
            activation, "get_config") else None
        if activation is None or fname == "linear":
            return value
        if fname == "relu":
            x = self.e.materialize(value, layer.name, kind)
            return Exact(self.e.b.relu(x.name, name=name), x.bound)
        if fname == "softmax":
            raise layer_error(layer.name, kind, "softmax is only supported as a separate, final "
                                                "Activation('softmax') layer (kept outside the "
                                                "hardware; the graph outputs the logits)")
        q = activation_quantizer(layer.name, kind, activation)
        return self.e.quantize(value, q, name, kind)

    def _layer_QActivation(self, layer, kind, inputs, final):
        return self.apply_activation(layer, kind, self._one(layer, kind, inputs),
                                     layer.quantizer, final)

    def _layer_Activation(self, layer, kind, inputs, final):
        fname = getattr(layer.activation, "__name__", repr(layer.activation))
        if fname not in ("relu", "linear", "softmax"):
            raise layer_error(layer.name, kind, f"float activation {fname!r} is not supported; "
                                                "use QActivation(quantized_relu(bits, integer)) "
                                                "or QActivation(quantized_bits(bits, integer, "
                                                "alpha=1))")
        return self.apply_activation(layer, kind, self._one(layer, kind, inputs),
                                     layer.activation, final)

    def _layer_ReLU(self, layer, kind, inputs, final):
        config = layer.get_config()
        if config.get("max_value") is not None or float(config.get("negative_slope", 0)) != 0 \
                or float(config.get("threshold", 0)) != 0:
            raise layer_error(layer.name, kind, "only max_value=None, negative_slope=0 and "
                                                "threshold=0 are supported; use "
                                                "QActivation(quantized_relu(bits, integer))")
        x = self._exact(layer, kind, inputs)
        return Exact(self.e.b.relu(x.name, name=layer.name), x.bound)

    # --- linear layers -----------------------------------------------------------------------
    def _quantized(self, layer, kind, variable, quantizer, what: str):
        weight_levels(layer.name, kind, quantizer, what)
        values = np.asarray(quantizer(self.tf.convert_to_tensor(variable)), dtype=np.float32)
        return integer_weights(layer.name, kind, quantizer, values, what)

    def _bias(self, layer, kind, bias, channels: int) -> np.ndarray:
        if bias is None:
            return np.zeros(channels)
        quantizer = getattr(layer, "bias_quantizer_internal", None)
        if quantizer is None:
            return np.asarray(bias, dtype=np.float32).astype(np.float64)
        weight_levels(layer.name, kind, quantizer, "bias")
        values = np.asarray(quantizer(self.tf.convert_to_tensor(bias)), dtype=np.float32)
        return values.astype(np.float64)

    def _conv_args(self, layer, kind) -> dict:
        """Stride, padding and dilation of a convolution or pooling layer, checked."""
        if getattr(layer, "data_format", "channels_last") != "channels_last":
            raise layer_error(layer.name, kind, "only data_format='channels_last' is supported")
        if layer.padding not in ("valid", "same"):
            raise layer_error(layer.name, kind, f"padding {layer.padding!r} is not supported")
        return {"stride": _pair(layer.strides), "padding": layer.padding,
                "dilation": _pair(getattr(layer, "dilation_rate", 1))}

    def _linear(self, layer, kind, x: Exact, op, weights, bias, conv=None) -> PendingLinear:
        reasons = []
        scale = weights.scale
        if scale is not None:
            reasons.append(f"its per-channel kernel scale {describe_scale(scale)} "
                           "(alpha='auto') is not a power of two")
        return PendingLinear(layer=layer.name, kind=kind, op=op, x=x, weights=weights.integers
                             if op == "conv" else np.asarray(weights.integers).T,
                             weight_frac=weights.frac,
                             weight_bits=weights.fmt.width if weights.fmt.width > 2 else None,
                             bias=bias, scale=scale, conv=conv or {}, reasons=reasons)

    def _finish(self, layer, kind, pending: PendingLinear, final) -> Value:
        return self.apply_activation(layer, kind, pending, layer.activation, final,
                                     name=f"{layer.name}_act")

    def _layer_QDense(self, layer, kind, inputs, final):
        x = self._exact(layer, kind, inputs)
        if len(self.e.b.type_of(x.name).shape) != 1:
            raise layer_error(layer.name, kind, "only a vector input (batch, features) is "
                                                "supported; add a Flatten")
        w = self._quantized(layer, kind, layer.kernel, layer.kernel_quantizer_internal, "kernel")
        bias = self._bias(layer, kind, layer.bias if layer.use_bias else None, layer.units)
        return self._finish(layer, kind, self._linear(layer, kind, x, "dense", w, bias), final)

    def _layer_QConv2D(self, layer, kind, inputs, final, kernel=None, bias=None):
        x = self._exact(layer, kind, inputs)
        conv = self._conv_args(layer, kind)
        conv["groups"] = int(getattr(layer, "groups", 1))
        w = self._quantized(layer, kind, layer.kernel if kernel is None else kernel,
                            layer.kernel_quantizer_internal, "kernel")
        if bias is None:
            bias = layer.bias if layer.use_bias else None
        bias = self._bias(layer, kind, bias, layer.filters)
        return self._finish(layer, kind, self._linear(layer, kind, x, "conv", w, bias, conv),
                            final)

    def _layer_QConv2DBatchnorm(self, layer, kind, inputs, final):
        kernel, bias = layer.get_folded_weights()
        return self._layer_QConv2D(layer, kind, inputs, final, kernel=kernel, bias=bias)

    def _depthwise(self, layer, kind, kernel) -> tuple:
        """Depthwise weights ``(kh, kw, C, M)`` as a grouped Conv2D ``(kh, kw, 1, C*M)``."""
        w = self._quantized(layer, kind, kernel, layer.depthwise_quantizer_internal,
                            "depthwise kernel")
        kh, kw, channels, mult = w.integers.shape
        ints = np.asarray(w.integers).reshape(kh, kw, 1, channels * mult)
        scale = None if w.scale is None else np.tile(w.scale, channels)
        return type(w)(ints, w.frac, scale, w.fmt), channels

    def _layer_QDepthwiseConv2D(self, layer, kind, inputs, final, kernel=None, bias=None):
        x = self._exact(layer, kind, inputs)
        w, channels = self._depthwise(layer, kind, layer.depthwise_kernel
                                      if kernel is None else kernel)
        conv = {**self._conv_args(layer, kind), "groups": channels}
        if bias is None:
            bias = layer.bias if layer.use_bias else None
        bias = self._bias(layer, kind, bias, w.integers.shape[-1])
        return self._finish(layer, kind, self._linear(layer, kind, x, "conv", w, bias, conv),
                            final)

    def _layer_QDepthwiseConv2DBatchnorm(self, layer, kind, inputs, final):
        kernel, bias = layer.get_folded_weights()
        return self._layer_QDepthwiseConv2D(layer, kind, inputs, final, kernel=kernel, bias=bias)

    def _layer_QSeparableConv2D(self, layer, kind, inputs, final):
        x = self._exact(layer, kind, inputs)
        w, channels = self._depthwise(layer, kind, layer.depthwise_kernel)
        if w.scale is not None:
            raise layer_error(layer.name, kind, "depthwise_quantizer with alpha='auto' is not "
                                                "supported (its scale is not a power of two)")
        depthwise = self._linear(layer, kind, x, "conv", w, np.zeros(w.integers.shape[-1]),
                                 {**self._conv_args(layer, kind), "groups": channels})
        depthwise.layer = f"{layer.name}_depthwise"
        mid, _, _ = self.e.emit_linear(depthwise)
        p = self._quantized(layer, kind, layer.pointwise_kernel,
                            layer.pointwise_quantizer_internal, "pointwise kernel")
        bias = self._bias(layer, kind, layer.bias if layer.use_bias else None, layer.filters)
        pointwise = self._linear(layer, kind, mid, "conv", p, bias,
                                 {"stride": (1, 1), "padding": "valid", "dilation": (1, 1),
                                  "groups": 1})
        return self._finish(layer, kind, pointwise, final)

    def _batchnorm_params(self, layer, kind) -> tuple[np.ndarray, np.ndarray]:
        def value(attr, quantizer_attr):
            variable = getattr(layer, attr, None)
            if variable is None:
                return None
            quantizer = getattr(layer, quantizer_attr, None)
            tensor = self.tf.convert_to_tensor(variable)
            if quantizer is not None:
                tensor = quantizer(tensor)
            return np.asarray(tensor, dtype=np.float32).astype(np.float64)

        gamma = value("gamma", "gamma_quantizer_internal")
        beta = value("beta", "beta_quantizer_internal")
        mean = value("moving_mean", "mean_quantizer_internal")
        variance = value("moving_variance", "variance_quantizer_internal")
        inv = 1.0 / np.sqrt(variance + float(layer.epsilon))
        if gamma is not None:
            inv = inv * gamma
        offset = -mean * inv + (beta if beta is not None else 0.0)
        return inv, offset

    def _layer_QBatchNormalization(self, layer, kind, inputs, final):
        value = self._one(layer, kind, inputs)
        axis = list(np.atleast_1d(layer.axis))
        rank = len(layer.input_shape) if hasattr(layer, "input_shape") else None
        if len(axis) != 1 or axis[0] not in (-1, (rank or 0) - 1):
            raise layer_error(layer.name, kind, f"only axis=-1 (channels last) is supported, "
                                                f"not {layer.axis}")
        if not isinstance(value, PendingLinear):
            raise layer_error(layer.name, kind, "a batchnorm is folded into the QDense / QConv2D "
                                                "just before it; here it follows "
                                                "something else (use QConv2DBatchnorm, or put it "
                                                "right after the linear layer)")
        inv, offset = self._batchnorm_params(layer, kind)
        scale = np.ones(value.channels) if value.scale is None else value.scale
        value.bias = value.bias * inv + offset
        value.scale = scale * inv
        value.reasons.append(f"batchnorm {layer.name!r} ({kind}) is folded in: per-channel "
                             f"scale {describe_scale(inv)}, not a power of two")
        return value

    _layer_BatchNormalization = _layer_QBatchNormalization

    # --- pooling, padding, shapes ----------------------------------------------------------
    def _layer_MaxPooling2D(self, layer, kind, inputs, final):
        x = self._exact(layer, kind, inputs)
        self._conv_args(layer, kind)
        name = self.e.b.max_pool2d(x.name, _pair(layer.pool_size), stride=_pair(layer.strides),
                                   padding=layer.padding, name=layer.name)
        return Exact(name, x.bound)

    @staticmethod
    def _window_counts(shape, pool, stride, padding) -> set[int]:
        """How many real (unpadded) cells each pooling window holds, as Keras counts them."""
        top, bottom = same_padding(shape[0], pool[0], stride[0]) if padding == "same" else (0, 0)
        left, right = same_padding(shape[1], pool[1], stride[1]) if padding == "same" else (0, 0)
        counts = set()
        for p in range(0, shape[0] + top + bottom - pool[0] + 1, stride[0]):
            rows = min(p + pool[0], shape[0] + top) - max(p, top)
            for q in range(0, shape[1] + left + right - pool[1] + 1, stride[1]):
                counts.add(rows * (min(q + pool[1], shape[1] + left) - max(q, left)))
        return counts

    def _average(self, layer, kind, x: Exact, counts: set[int], pool=None, stride=None,
                 padding="valid") -> Value:
        fmt = self.e.fmt(x)
        exponents = [c.bit_length() - 1 for c in counts if c & (c - 1) == 0]
        if len(exponents) != len(counts):
            return PendingMean(layer.name, kind, x, pool, stride, padding)
        k = max(exponents)
        bound = x.bound << k
        out_fmt = Emitter.format_for(bound, fmt.frac + k, signed=fmt.min < 0)
        self.e.float32_check(layer.name, kind, x.bound * max(counts), fmt.frac, "the window sum")
        if pool is None:
            name = self.e.b.global_avg_pool(x.name, out_fmt=out_fmt, rounding=Rounding.HALF_EVEN,
                                            name=layer.name)
        else:
            name = self.e.b.avg_pool2d(x.name, pool, stride=stride, padding=padding,
                                       out_fmt=out_fmt, rounding=Rounding.HALF_EVEN,
                                       name=layer.name)
        return Exact(name, bound)

    def _layer_AveragePooling2D(self, layer, kind, inputs, final):
        x = self._exact(layer, kind, inputs)
        self._conv_args(layer, kind)
        shape = self.e.b.type_of(x.name).shape
        pool, stride = _pair(layer.pool_size), _pair(layer.strides)
        counts = self._window_counts(shape, pool, stride, layer.padding)
        return self._average(layer, kind, x, counts, pool, stride, layer.padding)

    def _layer_GlobalAveragePooling2D(self, layer, kind, inputs, final):
        x = self._exact(layer, kind, inputs)
        if getattr(layer, "keepdims", False):
            raise layer_error(layer.name, kind, "keepdims=True is not supported")
        if getattr(layer, "data_format", "channels_last") != "channels_last":
            raise layer_error(layer.name, kind, "only data_format='channels_last' is supported")
        shape = self.e.b.type_of(x.name).shape
        return self._average(layer, kind, x, {math.prod(shape[:-1])})

    def _layer_ZeroPadding2D(self, layer, kind, inputs, final):
        x = self._exact(layer, kind, inputs)
        (top, bottom), (left, right) = layer.padding
        name = self.e.b.zero_pad2d(x.name, (top, bottom, left, right), name=layer.name)
        return Exact(name, x.bound)

    def _layer_Flatten(self, layer, kind, inputs, final):
        x = self._exact(layer, kind, inputs)
        return Exact(self.e.b.flatten(x.name, name=layer.name), x.bound)

    def _layer_Reshape(self, layer, kind, inputs, final):
        x = self._exact(layer, kind, inputs)
        size = self.e.b.type_of(x.name).size
        target = list(layer.target_shape)
        if -1 in target:
            known = math.prod(d for d in target if d != -1)
            target[target.index(-1)] = size // known
        return Exact(self.e.b.reshape(x.name, tuple(target), name=layer.name), x.bound)

    def _layer_Dropout(self, layer, kind, inputs, final):
        return self._one(layer, kind, inputs)

    # --- merges ------------------------------------------------------------------------------
    def _layer_Add(self, layer, kind, inputs, final):
        values = [self.e.materialize(v, layer.name, kind) for v in inputs]
        total = values[0]
        for i, other in enumerate(values[1:]):
            a, b = self.e.fmt(total), self.e.fmt(other)
            frac = max(a.frac, b.frac)
            bound = (total.bound << (frac - a.frac)) + (other.bound << (frac - b.frac))
            out_fmt = Emitter.format_for(bound, frac, signed=a.min < 0 or b.min < 0)
            self.e.float32_check(layer.name, kind, bound, frac, "the float32 sum")
            name = layer.name if i == len(values) - 2 else f"{layer.name}_{i}"
            total = Exact(self.e.b.add(total.name, other.name, out_fmt=out_fmt,
                                       rounding=Rounding.HALF_EVEN, overflow=Overflow.SATURATE,
                                       name=name), bound)
        return total

    def _layer_Concatenate(self, layer, kind, inputs, final):
        values = [self.e.materialize(v, layer.name, kind) for v in inputs]
        fmts = [self.e.fmt(v) for v in values]
        rank = len(self.e.b.type_of(values[0].name).shape)
        axis = int(layer.axis)
        axis = axis - 1 if axis > 0 else axis + rank + 1 - 1
        if len(set(fmts)) > 1:
            frac = max(f.frac for f in fmts)
            bound = max(v.bound << (frac - f.frac) for v, f in zip(values, fmts))
            common = Emitter.format_for(bound, frac, signed=any(f.min < 0 for f in fmts))
            aligned = []
            for i, (v, f) in enumerate(zip(values, fmts)):
                if f != common:
                    v = Exact(self.e.b.requantize(
                        v.name, shift=0, multiplier=1 << (frac - f.frac), out_fmt=common,
                        rounding=Rounding.HALF_EVEN, name=f"{layer.name}_align{i}"), v.bound)
                aligned.append(v)
            values = aligned
        name = self.e.b.concat([v.name for v in values], axis=axis, name=layer.name)
        return Exact(name, max(v.bound for v in values))
