"""Build an IR graph from NumPy arrays.

Example::

    from neurogate.compiler.builder import GraphBuilder
    from neurogate.numerics import IntFormat

    b = GraphBuilder("mlp")
    x = b.input("x", 64, IntFormat(8))
    h = b.dense(x, w1, b1, weight_fmt=IntFormat(8), name="fc1")   # int32 accumulator
    h = b.requantize(h, shift=7, out_fmt=IntFormat(8))             # back to int8
    h = b.relu(h)
    graph = b.build(outputs=[h])

Each method returns the name of the value it added; pass it on to the next one.  Every
method checks its arguments at once (and the node against the IR invariants), raising
``IRError`` with a message that names the layer and the field.  Shapes exclude the batch
axis: ``(H, W, C)`` for images, ``(tokens, features)`` for sequences.
"""

from __future__ import annotations

import math

from ..numerics.checks import check_int, is_integer
from ..numerics.floats import EXACT, ApproxNorm, FloatFormat
from ..numerics.formats import BinaryFormat, IntFormat, signed_width_for
from ..numerics.nonlinear import ActivationConfig, IGeluConfig, NormConfig, SoftmaxConfig
from ..numerics.rounding import Overflow, Rounding
from .ir import (
    INTEGER_FORMATS,
    Activation,
    Add,
    AvgPool2D,
    Clip,
    Concat,
    Conv2D,
    Dense,
    FloatConvert,
    FloatDense,
    GlobalAvgPool,
    Graph,
    IGelu,
    Input,
    IRError,
    MatMul,
    MaxPool2D,
    Mul,
    Norm,
    NumberFormat,
    Relu,
    Requantize,
    Reshape,
    SignBinarize,
    Slice,
    Softmax,
    TensorType,
    Transpose,
    ZeroPad2D,
    frozen_array,
)
from .verifier import check_node, unit_out_fmt, verify


def _int(name: str, field: str, value, *, low: int, high: int | None = None) -> int:
    try:
        return check_int(f"{name}: {field}", value, low=low, high=high)
    except ValueError as error:
        raise IRError(str(error)) from None


def _ints(name: str, field: str, value, count: int, *, low: int) -> tuple[int, ...]:
    """An int (repeated) or ``count`` ints, each at least ``low``."""
    values = (value,) * count if is_integer(value) else value
    if not isinstance(values, (tuple, list)) or len(values) != count:
        raise IRError(f"{name}: {field} must be an integer or {count} integers, not {value!r}")
    return tuple(_int(name, f"{field}[{i}]", v, low=low) for i, v in enumerate(values))


def _choice(cls, name: str, field: str, value):
    try:
        return cls.coerce(value, field=f"{name}: {field}")
    except ValueError as error:
        raise IRError(str(error)) from None


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow ``SAME``: output ``ceil(size / stride)``; the total padding
    ``max((ceil(size/stride) - 1) * stride + (kernel-1) * dilation + 1 - size, 0)`` is
    split with the smaller half first (top / left)."""
    total = max((math.ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _padding(name: str, padding, hw, kernel, stride, dilation=(1, 1)) -> tuple[int, ...]:
    """``"valid"``, ``"same"`` (TensorFlow), an int, (vertical, horizontal) or
    (top, bottom, left, right)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            return same_padding(hw[0], kernel[0], stride[0], dilation[0]) + \
                same_padding(hw[1], kernel[1], stride[1], dilation[1])
        raise IRError(f"{name}: padding must be 'valid', 'same' or integers, not {padding!r}")
    if is_integer(padding):
        padding = (padding,) * 4
    if isinstance(padding, (tuple, list)) and len(padding) == 2:
        padding = (padding[0], padding[0], padding[1], padding[1])
    return _ints(name, "padding", padding, 4, low=0)


class GraphBuilder:
    def __init__(self, name: str):
        self.name = name
        self._nodes: list = []
        self._types: dict[str, TensorType] = {}
        self._count = 0

    # --- plumbing -----------------------------------------------------------------------------
    def _fresh(self, kind: str, name: str | None) -> str:
        self._count += 1
        if name is None:
            name = f"{kind}{self._count}"
            while name in self._types:
                self._count += 1
                name = f"{kind}{self._count}"
        if not isinstance(name, str):
            raise IRError(f"{self.name}: a layer name must be a string, not {name!r}")
        if name in self._types:
            raise IRError(f"two nodes are named {name!r}")
        return name

    def type_of(self, value: str) -> TensorType:
        """The type (shape without the batch axis, format) of a value added so far."""
        return self._type(value)

    def _type(self, value: str, layer: str | None = None) -> TensorType:
        try:
            return self._types[value]
        except (KeyError, TypeError):
            where = f"{layer}: " if layer else f"{self.name}: "
            raise IRError(f"{where}no node named {value!r} to read from") from None

    def _int_type(self, value: str, op: str, layer: str) -> TensorType:
        t = self._type(value, layer)
        if not isinstance(t.fmt, INTEGER_FORMATS):
            raise IRError(f"{layer}: {op} takes integers, not {t.fmt.describe()} "
                          "(use float_dense / float_convert)")
        return t

    def _add(self, node) -> str:
        check_node(node, tuple(self._type(v, node.name) for v in node.inputs))
        self._nodes.append(node)
        self._types[node.name] = node.out
        return node.name

    def _axis(self, name: str, axis, rank: int) -> int:
        axis = _int(name, "axis", axis, low=-rank, high=rank - 1)
        return axis % rank

    @staticmethod
    def _shape(name: str, shape) -> tuple[int, ...]:
        if is_integer(shape):
            shape = (shape,)
        if not isinstance(shape, (tuple, list)) or not shape:
            raise IRError(f"{name}: shape must be a positive integer or a tuple of them, "
                          f"not {shape!r}")
        return _ints(name, "shape", shape, len(shape), low=1)

    @staticmethod
    def _fmt(name: str, field: str, fmt, kinds=(IntFormat,)):
        if not isinstance(fmt, kinds):
            names = [k.__name__ for k in kinds]
            allowed = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
            raise IRError(f"{name}: {field} must be an {allowed}, not {fmt!r}")
        return fmt

    # --- sources and linear ops ---------------------------------------------------------------
    def input(self, name: str, shape, fmt: NumberFormat) -> str:
        """A graph input of ``shape`` (an int for a vector, or a tuple)."""
        name = self._fresh("input", name)
        shape = self._shape(name, shape)
        return self._add(Input(name=name, out=TensorType(shape, fmt)))

    def dense(self, x: str, weights, bias=None, *, weight_fmt, acc_width: int = 32,
              name: str | None = None) -> str:
        """``acc = x @ weights.T + bias`` over the last axis, wrapped to ``acc_width`` bits.

        ``weights`` is ``(out, in)`` in ``weight_fmt`` (``IntFormat``, ``BinaryFormat`` or
        ``TernaryFormat``); ``bias`` is in the accumulator scale (input frac + weight frac);
        zeros if omitted.
        """
        name = self._fresh("dense", name)
        xt = self._int_type(x, "Dense", name)
        self._fmt(name, "weight_fmt", weight_fmt, INTEGER_FORMATS)
        weights = frozen_array(weights, f"{name}: weights")
        if weights.ndim != 2:
            raise IRError(f"{name}: weights must be a 2-D (out, in) array, not of shape "
                          f"{weights.shape}")
        bias = frozen_array([0] * weights.shape[0] if bias is None else bias, f"{name}: bias")
        acc = IntFormat(_int(name, "acc_width", acc_width, low=2, high=64), True,
                        xt.fmt.frac + weight_fmt.frac)
        return self._add(Dense(name=name, input=x, weights=weights, bias=bias,
                               weight_fmt=weight_fmt,
                               out=TensorType(xt.shape[:-1] + (weights.shape[0],), acc)))

    def conv2d(self, x: str, weights, bias=None, *, weight_fmt, stride=1, padding="valid",
               dilation=1, groups: int = 1, acc_width: int = 32, name: str | None = None) -> str:
        """NHWC convolution; ``weights`` ``(kh, kw, in_channels // groups, out_channels)``
        (Keras order); ``padding`` ``"valid"``, ``"same"`` (TensorFlow SAME), an int,
        (vertical, horizontal) or (top, bottom, left, right), stored explicitly;
        ``groups = in_channels`` is a depthwise convolution.  Accumulates like ``dense``."""
        name = self._fresh("conv", name)
        xt = self._int_type(x, "Conv2D", name)
        if len(xt.shape) != 3:
            raise IRError(f"{name}: Conv2D takes an (H, W, C) image, not shape {xt.shape}")
        self._fmt(name, "weight_fmt", weight_fmt, INTEGER_FORMATS)
        weights = frozen_array(weights, f"{name}: weights")
        if weights.ndim != 4:
            raise IRError(f"{name}: weights must be a 4-D (kh, kw, in_channels // groups, "
                          f"out_channels) array, not of shape {weights.shape}")
        stride = _ints(name, "stride", stride, 2, low=1)
        dilation = _ints(name, "dilation", dilation, 2, low=1)
        padding = _padding(name, padding, xt.shape[:2], weights.shape[:2], stride, dilation)
        bias = frozen_array([0] * weights.shape[3] if bias is None else bias, f"{name}: bias")
        acc = IntFormat(_int(name, "acc_width", acc_width, low=2, high=64), True,
                        xt.fmt.frac + weight_fmt.frac)
        ho, wo = ((n + lo + hi - (k - 1) * d - 1) // s + 1 for n, k, s, d, lo, hi in zip(
            xt.shape[:2], weights.shape[:2], stride, dilation, padding[::2], padding[1::2]))
        out = TensorType((max(ho, 1), max(wo, 1), weights.shape[3]), acc)
        return self._add(Conv2D(name=name, input=x, weights=weights, bias=bias,
                                weight_fmt=weight_fmt, stride=stride, padding=padding,
                                dilation=dilation, groups=_int(name, "groups", groups, low=1),
                                out=out))

    def matmul(self, a: str, b: str, *, transpose_b: bool = False, acc_width: int = 32,
               name: str | None = None) -> str:
        """``a @ b`` (``a @ b^T`` with ``transpose_b``) over the last two axes, exact,
        wrapped to ``acc_width`` bits; frac = a.frac + b.frac."""
        name = self._fresh("matmul", name)
        at, bt = self._int_type(a, "MatMul", name), self._int_type(b, "MatMul", name)
        if not isinstance(transpose_b, bool):
            raise IRError(f"{name}: transpose_b must be True or False, not {transpose_b!r}")
        n = bt.shape[-2] if transpose_b and len(bt.shape) >= 2 else bt.shape[-1]
        acc = IntFormat(_int(name, "acc_width", acc_width, low=2, high=64), True,
                        at.fmt.frac + bt.fmt.frac)
        return self._add(MatMul(name=name, a=a, b=b, transpose_b=transpose_b,
                                out=TensorType(at.shape[:-1] + (n,), acc)))

    # --- pooling and padding --------------------------------------------------------------
    def zero_pad2d(self, x: str, padding, *, name: str | None = None) -> str:
        """Zero rows/columns around H and W: an int, (vertical, horizontal) or
        (top, bottom, left, right)."""
        name = self._fresh("zero_pad", name)
        xt = self._type(x, name)
        if isinstance(padding, str):
            raise IRError(f"{name}: padding must be integers, not {padding!r}")
        padding = _padding(name, padding, None, None, None)
        if len(xt.shape) != 3:
            raise IRError(f"{name}: ZeroPad2D takes an (H, W, C) image, not shape {xt.shape}")
        h, w, c = xt.shape
        shape = (h + padding[0] + padding[1], w + padding[2] + padding[3], c)
        return self._add(ZeroPad2D(name=name, input=x, padding=padding,
                                   out=TensorType(shape, xt.fmt)))

    def _pool_args(self, name, xt, pool, stride, padding):
        if len(xt.shape) != 3:
            raise IRError(f"{name}: pooling takes an (H, W, C) image, not shape {xt.shape}")
        pool = _ints(name, "pool", pool, 2, low=1)
        stride = pool if stride is None else _ints(name, "stride", stride, 2, low=1)
        padding = _padding(name, padding, xt.shape[:2], pool, stride)
        ho, wo = ((n + lo + hi - k) // s + 1 for n, k, s, lo, hi in zip(
            xt.shape[:2], pool, stride, padding[::2], padding[1::2]))
        return pool, stride, padding, (max(ho, 1), max(wo, 1), xt.shape[2])

    def max_pool2d(self, x: str, pool, *, stride=None, padding="valid",
                   name: str | None = None) -> str:
        """Maximum over each window (stride defaults to the window); padded cells never
        count (``"same"`` as in Keras)."""
        name = self._fresh("max_pool", name)
        xt = self._int_type(x, "MaxPool2D", name)
        pool, stride, padding, shape = self._pool_args(name, xt, pool, stride, padding)
        return self._add(MaxPool2D(name=name, input=x, pool=pool, stride=stride,
                                   padding=padding, out=TensorType(shape, xt.fmt)))

    def avg_pool2d(self, x: str, pool, *, stride=None, padding="valid", out_fmt=None,
                   rounding: Rounding | str = Rounding.HALF_UP,
                   name: str | None = None) -> str:
        """Average of the real cells of each window (padded cells not counted, as Keras
        ``"same"``), rounded once with ``rounding`` into ``out_fmt`` (default: the input
        format) and saturated."""
        name = self._fresh("avg_pool", name)
        xt = self._int_type(x, "AvgPool2D", name)
        pool, stride, padding, shape = self._pool_args(name, xt, pool, stride, padding)
        out_fmt = self._fmt(name, "out_fmt", xt.fmt if out_fmt is None else out_fmt)
        return self._add(AvgPool2D(name=name, input=x, pool=pool, stride=stride,
                                   padding=padding,
                                   rounding=_choice(Rounding, name, "rounding", rounding),
                                   out=TensorType(shape, out_fmt)))

    def global_avg_pool(self, x: str, *, out_fmt=None,
                        rounding: Rounding | str = Rounding.HALF_UP,
                        name: str | None = None) -> str:
        """Average over every axis but the last ((H, W, C) -> (C,)), rounded once with
        ``rounding`` into ``out_fmt`` (default: the input format) and saturated."""
        name = self._fresh("global_avg_pool", name)
        xt = self._int_type(x, "GlobalAvgPool", name)
        out_fmt = self._fmt(name, "out_fmt", xt.fmt if out_fmt is None else out_fmt)
        return self._add(GlobalAvgPool(name=name, input=x,
                                       rounding=_choice(Rounding, name, "rounding", rounding),
                                       out=TensorType(xt.shape[-1:], out_fmt)))

    # --- elementwise ----------------------------------------------------------------------
    def requantize(self, x: str, *, shift: int, out_fmt: IntFormat,
                   rounding: Rounding | str = Rounding.HALF_UP,
                   overflow: Overflow | str = Overflow.SATURATE, multiplier=None,
                   name: str | None = None) -> str:
        """``y = overflow(round((x * multiplier) / 2**shift))`` into ``out_fmt``.

        Without ``multiplier``, ``out_fmt.frac`` is derived (input frac - shift); only its
        width and sign are used.  With one (an integer, or one per channel of the last
        axis, each a signed 32-bit integer) the scale change is not a power of two and
        ``out_fmt`` is taken as given.
        """
        name = self._fresh("requant", name)
        xt = self._int_type(x, "Requantize", name)
        shift = _int(name, "shift", shift, low=0)
        self._fmt(name, "out_fmt", out_fmt)
        if multiplier is not None:
            multiplier = frozen_array(multiplier, f"{name}: multiplier")
        else:
            out_fmt = IntFormat(out_fmt.width, out_fmt.signed, xt.fmt.frac - shift)
        return self._add(Requantize(
            name=name, input=x, shift=shift, rounding=_choice(Rounding, name, "rounding", rounding),
            overflow=_choice(Overflow, name, "overflow", overflow), multiplier=multiplier,
            out=TensorType(xt.shape, out_fmt)))

    def relu(self, x: str, *, name: str | None = None) -> str:
        name = self._fresh("relu", name)
        self._int_type(x, "Relu", name)
        return self._add(Relu(name=name, input=x, out=self._type(x, name)))

    def clip(self, x: str, lo: int, hi: int, *, name: str | None = None) -> str:
        """``min(max(x, lo), hi)``; ``lo``, ``hi`` are integers of the input format."""
        name = self._fresh("clip", name)
        xt = self._int_type(x, "Clip", name)
        return self._add(Clip(name=name, input=x, lo=_int(name, "lo", lo, low=xt.fmt.min),
                              hi=_int(name, "hi", hi, low=xt.fmt.min), out=xt))

    def sign_binarize(self, x: str, *, frac: int = 0, name: str | None = None) -> str:
        """``x >= 0 -> +1``, ``x < 0 -> -1``, in ``BinaryFormat(frac)``."""
        name = self._fresh("sign", name)
        xt = self._int_type(x, "SignBinarize", name)
        fmt = BinaryFormat(_int(name, "frac", frac, low=-64, high=64))
        return self._add(SignBinarize(name=name, input=x, out=TensorType(xt.shape, fmt)))

    def _binary(self, cls, kind, a, b, out_fmt, rounding, overflow, name):
        name = self._fresh(kind, name)
        at = self._int_type(a, cls.__name__, name)
        self._int_type(b, cls.__name__, name)
        self._fmt(name, "out_fmt", out_fmt)
        return self._add(cls(name=name, a=a, b=b,
                             rounding=_choice(Rounding, name, "rounding", rounding),
                             overflow=_choice(Overflow, name, "overflow", overflow),
                             out=TensorType(at.shape, out_fmt)))

    def add(self, a: str, b: str, *, out_fmt: IntFormat,
            rounding: Rounding | str = Rounding.HALF_UP,
            overflow: Overflow | str = Overflow.SATURATE, name: str | None = None) -> str:
        """Elementwise ``a + b``: both aligned to the larger frac by shifts, added exactly,
        rounded to ``out_fmt.frac`` and fitted with ``overflow``."""
        return self._binary(Add, "add", a, b, out_fmt, rounding, overflow, name)

    def mul(self, a: str, b: str, *, out_fmt: IntFormat,
            rounding: Rounding | str = Rounding.HALF_UP,
            overflow: Overflow | str = Overflow.SATURATE, name: str | None = None) -> str:
        """Elementwise ``a * b``, exact, rounded to ``out_fmt.frac`` and fitted."""
        return self._binary(Mul, "mul", a, b, out_fmt, rounding, overflow, name)

    # --- data movement --------------------------------------------------------------------
    def concat(self, sources, *, axis: int = -1, name: str | None = None) -> str:
        name = self._fresh("concat", name)
        if isinstance(sources, str) or not sources:
            raise IRError(f"{name}: sources must be a non-empty list of values, not {sources!r}")
        sources = tuple(sources)
        types = [self._type(s, name) for s in sources]
        axis = self._axis(name, axis, len(types[0].shape))
        shape = list(types[0].shape)
        shape[axis] = sum(t.shape[axis] if len(t.shape) > axis else 0 for t in types)
        return self._add(Concat(name=name, sources=sources, axis=axis,
                                out=TensorType(tuple(shape), types[0].fmt)))

    def reshape(self, x: str, shape, *, name: str | None = None) -> str:
        """Row-major reshape (the batch axis excluded)."""
        name = self._fresh("reshape", name)
        xt = self._type(x, name)
        shape = self._shape(name, shape)
        return self._add(Reshape(name=name, input=x, out=TensorType(shape, xt.fmt)))

    def flatten(self, x: str, *, name: str | None = None) -> str:
        """A ``Reshape`` to one axis."""
        name = self._fresh("flatten", name)
        return self.reshape(x, (self._type(x, name).size,), name=name)

    def transpose(self, x: str, perm, *, name: str | None = None) -> str:
        """Output axis ``i`` is input axis ``perm[i]`` (batch axis excluded)."""
        name = self._fresh("transpose", name)
        xt = self._type(x, name)
        perm = _ints(name, "perm", perm, len(xt.shape), low=0)
        if sorted(perm) != list(range(len(xt.shape))):
            raise IRError(f"{name}: perm must be a permutation of 0 to {len(xt.shape) - 1}, "
                          f"not {perm}")
        return self._add(Transpose(name=name, input=x, perm=perm,
                                   out=TensorType(tuple(xt.shape[p] for p in perm), xt.fmt)))

    def slice(self, x: str, *, axis: int, start: int, stop: int,
              name: str | None = None) -> str:
        """Elements ``start ... stop - 1`` along ``axis``."""
        name = self._fresh("slice", name)
        xt = self._type(x, name)
        axis = self._axis(name, axis, len(xt.shape))
        start = _int(name, "start", start, low=0, high=xt.shape[axis] - 1)
        stop = _int(name, "stop", stop, low=start + 1, high=xt.shape[axis])
        shape = xt.shape[:axis] + (stop - start,) + xt.shape[axis + 1:]
        return self._add(Slice(name=name, input=x, axis=axis, start=start, stop=stop,
                               out=TensorType(shape, xt.fmt)))

    def split(self, x: str, sizes, *, axis: int = -1, name: str | None = None) -> list[str]:
        """Cut ``x`` along ``axis`` into pieces of ``sizes`` (summing to the axis length).
        A node produces one value, so this adds one ``Slice`` per piece, named
        ``{name}_0``, ``{name}_1``, ..., and returns their names."""
        name = self._fresh("split", name)
        xt = self._type(x, name)
        axis = self._axis(name, axis, len(xt.shape))
        if not isinstance(sizes, (list, tuple)) or not sizes:
            raise IRError(f"{name}: sizes must be a list of positive integers, not {sizes!r}")
        sizes = _ints(name, "sizes", sizes, len(sizes), low=1)
        if sum(sizes) != xt.shape[axis]:
            raise IRError(f"{name}: sizes {list(sizes)} must sum to the length of axis {axis} "
                          f"({xt.shape[axis]})")
        starts = [sum(sizes[:i]) for i in range(len(sizes))]
        return [self.slice(x, axis=axis, start=s, stop=s + n, name=f"{name}_{i}")
                for i, (s, n) in enumerate(zip(starts, sizes))]

    # --- non-linear units (rows are the last axis) ------------------------------------------
    def _unit(self, cls, kind, x, config, config_cls, name):
        name = self._fresh(kind, name)
        xt = self._int_type(x, cls.__name__, name)
        if not isinstance(config, config_cls):
            raise IRError(f"{name}: config must be a {config_cls.__name__}, not a "
                          f"{type(config).__name__}")
        return self._add(cls(name=name, input=x, config=config,
                             out=TensorType(xt.shape, unit_out_fmt(config))))

    def softmax(self, x: str, config: SoftmaxConfig | None = None, *,
                name: str | None = None) -> str:
        """Integer softmax of each row (i-exp or Shiftmax, optional BiViT binarization);
        the default config fits the input (its width, frac and row length)."""
        if config is None:
            xt = self._type(x, name)
            try:
                config = SoftmaxConfig(in_bits=max(signed_width_for(xt.fmt.min, xt.fmt.max), 2),
                                       in_frac=xt.fmt.frac, max_len=xt.shape[-1])
            except ValueError as error:
                raise IRError(f"{name or 'softmax'}: no softmax config fits the input "
                              f"{xt.fmt.describe()}: {error}") from None
        return self._unit(Softmax, "softmax", x, config, SoftmaxConfig, name)

    def norm(self, x: str, config: NormConfig, *, name: str | None = None) -> str:
        """LayerNorm or RMSNorm (``config.kind``) of each row."""
        return self._unit(Norm, "norm", x, config, NormConfig, name)

    def activation(self, x: str, config: ActivationConfig, *, name: str | None = None) -> str:
        """Sigmoid, SiLU or ShiftGELU (``config.function``), elementwise."""
        return self._unit(Activation, "act", x, config, ActivationConfig, name)

    def igelu(self, x: str, config: IGeluConfig, *, name: str | None = None) -> str:
        """I-BERT i-GELU, elementwise."""
        return self._unit(IGelu, "igelu", x, config, IGeluConfig, name)

    # --- floating point -------------------------------------------------------------------
    def float_dense(self, x: str, weights, bias=None, *, acc_fmt: FloatFormat,
                    norm: ApproxNorm = EXACT, name: str | None = None) -> str:
        """Float dense layer: ``weights`` (out, in) and ``bias`` (out,) are *codes* (bit
        patterns; ``sim.golden.fp.from_float`` makes them), weights in the input's format,
        bias in ``acc_fmt`` (+0 if omitted).  Each output chains one multiply-add per input
        element, in order, with normalization ``norm``."""
        name = self._fresh("float_dense", name)
        weights = frozen_array(weights, f"{name}: weights")
        bias = frozen_array([0] * weights.shape[0] if bias is None else bias, f"{name}: bias")
        return self._add(FloatDense(name=name, input=x, weights=weights, bias=bias, norm=norm,
                                    out=TensorType((weights.shape[0],), acc_fmt)))

    def float_convert(self, x: str, fmt: FloatFormat, *, name: str | None = None) -> str:
        """Round to ``fmt`` (nearest, ties to even)."""
        name = self._fresh("convert", name)
        return self._add(FloatConvert(name=name, input=x,
                                      out=TensorType(self._type(x, name).shape, fmt)))

    def build(self, outputs: list[str]) -> Graph:
        return verify(Graph(name=self.name, nodes=tuple(self._nodes), outputs=tuple(outputs)))
