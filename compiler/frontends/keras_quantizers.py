"""QKeras quantizers as integer operations: what each one does to a value, in IR terms.

Read from QKeras 0.9 ``quantizers.py`` (inference path, ``qnoise_factor = 1``):

* ``quantized_bits(bits, integer, symmetric, keep_negative, alpha)``: with ``u = bits -
  keep_negative`` and ``m = 2**u``, ``xq = 2**integer * clip(round(x * m / 2**integer),
  -m + symmetric (0 if not keep_negative), m - 1) / m``, times ``alpha``; ``round`` is
  ``tf.round`` (half to even), the clip comes after the rounding.  As integers: round half
  to even to ``frac = u - integer - log2(alpha)``, then saturate (and clip ``-m + 1`` when
  symmetric).  ``bits - keep_negative == 0`` is a sign: ``x >= 0 -> +1`` else ``-1``.
* ``quantized_relu(bits, integer)``: ``clip(round(x * 2**(bits - integer)), 0, 2**bits -
  1) * 2**(integer - bits)``: round half to even, then saturate into ``bits`` unsigned
  bits (the ReLU is the lower bound).
* ``binary(alpha)``: ``x >= 0 -> +alpha``, else ``-alpha`` (``tanh`` only shapes the
  gradient).  ``ternary(alpha, threshold)``: ``|x| >= threshold -> sign(x) * alpha``, else
  0, the comparison in float32.
* ``alpha`` as ``None``, 1 or a power of two only moves the binary point; ``"auto"`` and
  ``"auto_po2"`` compute one scale per output channel from the tensor itself: fine for
  weights (the scale is fixed once trained), refused on activations (it would change
  with every batch).

Every QKeras quantizer returns ``x + stop_gradient(xq - x)`` in float32; the front-end
checks that these sums are exact for the value ranges it derives (``keras`` module).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...numerics.formats import BinaryFormat, IntFormat, TernaryFormat, signed_width_for
from .common import FrontendError, exact_binary_grid, layer_error, power_of_two_exponent

MAX_WEIGHT_BITS = 32


@dataclass(frozen=True)
class ActivationQuantizer:
    """An activation quantizer as integers of its output format ``fmt``.

    ``kind``: ``"fixed"`` (round half to even to ``fmt.frac``, saturate, then clip to
    ``[lo, hi]``), ``"sign"`` (``x >= 0 -> +1`` else ``-1`` in a ``BinaryFormat``) or
    ``"ternary"`` (``|x| >= threshold -> sign(x)`` else 0, in ``IntFormat(2)``; the
    threshold is the float32 one QKeras compares with).  ``round_frac`` is where the
    rounding happens; ``fmt.frac`` differs from it by ``-log2(alpha)`` (alpha scales the
    rounded value, so it only relabels the binary point).
    """

    kind: str
    fmt: IntFormat | BinaryFormat
    lo: int
    hi: int
    threshold: float | None = None
    text: str = ""
    round_frac: int | None = None

    def __post_init__(self):
        if self.round_frac is None:
            object.__setattr__(self, "round_frac", self.fmt.frac)


def _name(quantizer) -> str:
    return type(quantizer).__name__ if not callable(quantizer) or hasattr(
        quantizer, "get_config") else getattr(quantizer, "__name__", repr(quantizer))


def _alpha_exponent(layer, kind, quantizer, alpha, what: str) -> int:
    """``log2(alpha)`` for ``alpha`` None, 1 or a power of two; refuse anything else."""
    if alpha is None:
        return 0
    if isinstance(alpha, str):
        raise layer_error(layer, kind, f"{what} {quantizer}: alpha={alpha!r} computes its scale "
                                       "from each batch; use alpha=1 (or a power of two)")
    values = np.asarray(alpha, dtype=np.float64)
    if values.size != 1:
        raise layer_error(layer, kind, f"{what} {quantizer}: a per-channel alpha on an "
                                       "activation is not supported; use alpha=1")
    exponent = power_of_two_exponent(float(values.flat[0]))
    if exponent is None:
        raise layer_error(layer, kind, f"{what} {quantizer}: alpha={float(values.flat[0])} is "
                                       "not a power of two, so it is not a shift; use alpha=1")
    return exponent


def _plain(value):
    """A QKeras attribute that may be a tf.Variable (``use_variables``) as a number."""
    return np.asarray(value).item() if hasattr(value, "numpy") or isinstance(
        value, np.ndarray) else value


def _common_checks(layer, kind, quantizer, what):
    if getattr(quantizer, "use_stochastic_rounding", False):
        raise layer_error(layer, kind, f"{what} {quantizer}: use_stochastic_rounding is not "
                                       "supported (set it to False)")
    noise = _plain(getattr(quantizer, "qnoise_factor", 1.0))
    if noise != 1.0:
        raise layer_error(layer, kind, f"{what} {quantizer}: qnoise_factor={noise} mixes the "
                                       "float input into the output; it must be 1.0")


def activation_quantizer(layer: str, kind: str, quantizer,
                         what: str = "activation") -> ActivationQuantizer:
    """The integer meaning of a QKeras activation quantizer, or a ``FrontendError``
    naming the layer, its type, the quantizer and the reason."""
    qname = type(quantizer).__name__
    text = str(quantizer)
    if qname == "quantized_bits":
        _common_checks(layer, kind, quantizer, what)
        bits, integer = int(_plain(quantizer.bits)), int(_plain(quantizer.integer))
        keep_negative = bool(quantizer.keep_negative)
        shift = _alpha_exponent(layer, kind, text, quantizer.alpha, what)
        unsigned_bits = bits - keep_negative
        if unsigned_bits <= 0:
            return ActivationQuantizer("sign", BinaryFormat(-shift), -1, 1, text=text)
        fmt = IntFormat(bits, signed=keep_negative, frac=unsigned_bits - integer - shift)
        lo = fmt.min + (1 if keep_negative and quantizer.symmetric else 0)
        return ActivationQuantizer("fixed", fmt, lo, fmt.max, text=text,
                                   round_frac=unsigned_bits - integer)
    if qname == "quantized_relu":
        _common_checks(layer, kind, quantizer, what)
        if quantizer.use_sigmoid:
            raise layer_error(layer, kind, f"{what} {text}: use_sigmoid is not supported")
        if quantizer.negative_slope:
            raise layer_error(layer, kind, f"{what} {text}: negative_slope (leaky ReLU) is not "
                                           "supported")
        if quantizer.relu_upper_bound is not None and not quantizer.is_quantized_clip:
            raise layer_error(layer, kind, f"{what} {text}: relu_upper_bound without "
                                           "is_quantized_clip is not supported")
        bits, integer = int(_plain(quantizer.bits)), int(_plain(quantizer.integer))
        fmt = IntFormat(bits, signed=False, frac=bits - integer)
        return ActivationQuantizer("fixed", fmt, 0, fmt.max, text=text)
    if qname == "binary":
        _common_checks(layer, kind, quantizer, what)
        if quantizer.use_01:
            raise layer_error(layer, kind, f"{what} {text}: use_01 is not supported")
        shift = _alpha_exponent(layer, kind, text, quantizer.alpha, what)
        return ActivationQuantizer("sign", BinaryFormat(-shift), -1, 1, text=text)
    if qname == "ternary":
        _common_checks(layer, kind, quantizer, what)
        shift = _alpha_exponent(layer, kind, text, quantizer.alpha, what)
        threshold = quantizer.threshold
        if threshold is None:
            threshold = quantizer.default_threshold
        if isinstance(threshold, str) or float(threshold) <= 0:
            raise layer_error(layer, kind, f"{what} {text}: threshold must be a positive "
                                           f"number, not {threshold!r}")
        return ActivationQuantizer("ternary", IntFormat(2, frac=-shift), -1, 1,
                                   threshold=float(np.float32(threshold)), text=text)
    if callable(quantizer) and not hasattr(quantizer, "get_config"):
        raise layer_error(layer, kind, f"{what} {_name(quantizer)!r} is a float function; use "
                                       "quantized_relu(bits, integer) or quantized_bits(bits, "
                                       "integer, alpha=1)")
    raise layer_error(layer, kind, f"{what} quantizer {text} ({qname}) is not supported "
                                   "(supported: quantized_bits, quantized_relu, binary, ternary)")


def weight_levels(layer: str, kind: str, quantizer, what: str):
    """Refuse weight quantizers the front-end cannot read; return the quantizer name."""
    qname = type(quantizer).__name__
    if quantizer is None:
        raise layer_error(layer, kind, f"{what} has no quantizer: float weights are not "
                                       f"supported; set {what}_quantizer=quantized_bits(8, 0, "
                                       "alpha=1) (or binary / ternary) and retrain")
    if qname not in ("quantized_bits", "binary", "ternary"):
        raise layer_error(layer, kind, f"{what} quantizer {quantizer} ({qname}) is not "
                                       "supported (supported: quantized_bits, binary, ternary)")
    _common_checks(layer, kind, quantizer, what)
    return qname


@dataclass(frozen=True)
class QuantizedWeights:
    """Quantized weights as ``integers * 2**-frac * scale[channel]``.

    ``scale`` is None when the float32 values QKeras computes are exactly ``integers *
    2**-frac`` (every power-of-two case); otherwise it holds one float scale per output
    channel (last axis), the ``alpha="auto"`` case, and the integers are the quantizer's
    levels.
    """

    integers: np.ndarray
    frac: int
    scale: np.ndarray | None
    fmt: IntFormat | BinaryFormat | TernaryFormat


def weight_format(integers: np.ndarray, frac: int, declared_bits: int | None):
    """``BinaryFormat`` / ``TernaryFormat`` for weights in {-1, +1} / {-1, 0, +1} (at
    ``frac``), else the narrowest signed ``IntFormat`` holding them (at least
    ``declared_bits``)."""
    values = np.asarray(integers)
    if values.size and np.all(np.abs(values) == 1):
        return BinaryFormat(frac)
    if values.size and np.all(np.abs(values) <= 1):
        return TernaryFormat(frac)
    lo, hi = (int(values.min()), int(values.max())) if values.size else (0, 0)
    width = max(signed_width_for(lo, hi), declared_bits or 2, 2)
    return IntFormat(width, frac=frac)


def integer_weights(layer: str, kind: str, quantizer, quantized: np.ndarray,
                    what: str) -> QuantizedWeights:
    """Integers for the float32 ``quantized`` values QKeras's ``quantizer`` produced.

    Exact when they lie on a power-of-two grid of at most ``MAX_WEIGHT_BITS`` bits;
    else, for ``alpha="auto"`` quantizers, the quantizer's integer levels with its
    per-channel ``scale`` (read back after the call); anything else is refused.
    """
    qname = type(quantizer).__name__
    declared = int(_plain(quantizer.bits)) if qname == "quantized_bits" else None
    grid = None if quantizer.alpha == "auto" else exact_binary_grid(quantized)
    if grid is not None:
        ints, frac = grid
        peak = int(np.max(np.abs(ints))) if ints.size else 0
        if peak.bit_length() + 1 <= MAX_WEIGHT_BITS:
            if qname == "quantized_bits" and declared is not None:
                natural = int(_plain(quantizer.bits)) - bool(quantizer.keep_negative) \
                    - int(_plain(quantizer.integer))
                if natural > frac and peak.bit_length() + natural - frac < MAX_WEIGHT_BITS:
                    ints, frac = ints * (1 << (natural - frac)), natural
            return QuantizedWeights(ints, frac, None, weight_format(ints, frac, declared))
    scale = getattr(quantizer, "scale", None)
    if scale is None or not isinstance(quantizer.alpha, str):
        raise layer_error(layer, kind, f"{what} quantized by {quantizer} are not on a "
                                       "power-of-two grid")
    scale = np.asarray(scale, dtype=np.float64).reshape(-1)
    if qname == "quantized_bits":
        step = scale * 2.0 ** (int(_plain(quantizer.integer))
                               - (declared - bool(quantizer.keep_negative)))
        scale = scale * 2.0 ** int(_plain(quantizer.integer))
        frac = declared - bool(quantizer.keep_negative)
    else:
        step, frac = scale, 0
    flat = np.asarray(quantized, dtype=np.float64).reshape(-1, quantized.shape[-1])
    step = np.broadcast_to(step, (flat.shape[1],))
    if np.any(step == 0):
        raise layer_error(layer, kind, f"{what} quantized by {quantizer}: a channel has scale 0")
    levels = np.rint(flat / step)
    if np.max(np.abs(flat / step - levels), initial=0.0) > 1e-3:
        raise layer_error(layer, kind, f"{what} quantized by {quantizer} are not integer "
                                       "multiples of its per-channel scale")
    ints = levels.astype(np.int64).reshape(quantized.shape)
    channel_scale = np.broadcast_to(scale if qname == "quantized_bits" else step,
                                    (flat.shape[1],))
    return QuantizedWeights(ints, frac, np.array(channel_scale, dtype=np.float64),
                            weight_format(ints, frac, declared))


def describe_scale(scale: np.ndarray) -> str:
    lo, hi = float(np.min(scale)), float(np.max(scale))
    return f"{lo:.6g}" if math.isclose(lo, hi) else f"{lo:.6g} to {hi:.6g}"


__all__ = ["ActivationQuantizer", "FrontendError", "QuantizedWeights", "activation_quantizer",
           "describe_scale", "integer_weights", "weight_format", "weight_levels"]
