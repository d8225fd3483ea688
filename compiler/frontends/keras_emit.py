"""Emit IR for the Keras front-end: linear layers, quantizers, averages, with derived formats.

Formats are derived, never guessed:

* an accumulator holds ``sum |w| * max|x| + |bias|`` for its worst output channel (the
  ``bound``), in 32 bits or more if that bound needs more (so it never wraps);
* a quantizer is a ``Requantize`` with ``Rounding.HALF_EVEN`` (``tf.round``) and
  ``Overflow.SATURATE`` (QKeras clips after rounding), plus a ``Clip`` where the range is
  narrower than the format (``symmetric``);
* a power-of-two scale is a shift; any other scale is an integer multiplier and shift
  (``common.multiplier_and_shift``, 31-bit multipliers, half-even), recorded as an
  approximation the loader measures against Keras.

QKeras computes in float32; a sum is exact there when every partial sum has at most 24
significant bits.  Each emitted sum with a larger bound is recorded in ``notes``.
"""

from __future__ import annotations

import math

import numpy as np

from ...numerics.formats import IntFormat, signed_width_for
from ...numerics.rounding import Overflow, Rounding
from ..builder import GraphBuilder
from .common import exact_binary_grid, layer_error, multiplier_and_shift
from .keras_quantizers import ActivationQuantizer, describe_scale, weight_format
from .keras_values import Exact, PendingLinear, PendingMean, Value

FLOAT32_EXACT_BITS = 24          # significand bits of float32
ACC_MIN_WIDTH = 32               # accumulators are at least this wide (the engine's width)
MAX_BIAS_WIDENING = 16           # shift weights left at most this much to hold a fine bias


class Emitter:
    """Adds IR nodes for Keras layers to ``builder``; collects notes and approximations."""

    def __init__(self, builder: GraphBuilder):
        self.b = builder
        self.notes: list[str] = []
        self.approximations: list[str] = []

    # --- helpers ---------------------------------------------------------------------------
    def fmt(self, value: Exact):
        return self.b.type_of(value.name).fmt

    def float32_check(self, layer: str, kind: str, bound: int, frac: int, what: str):
        """Note a float32 sum that may round: ``bound`` integers of ``2**-frac``."""
        if bound >= 1 << FLOAT32_EXACT_BITS:
            self.notes.append(
                f"layer {layer!r} ({kind}): {what} can reach {bound} units of 2**-{frac} "
                f"({bound.bit_length()} bits); float32 keeps {FLOAT32_EXACT_BITS}, so Keras may "
                "round it for inputs this large and differ from the exact integers")

    @staticmethod
    def format_for(bound: int, frac: int, signed: bool = True) -> IntFormat:
        if signed:
            return IntFormat(max(signed_width_for(-bound, bound), 2), frac=frac)
        return IntFormat(max(bound.bit_length(), 1), signed=False, frac=frac)

    # --- linear layers -----------------------------------------------------------------------
    def linear_bias(self, p: PendingLinear) -> tuple[np.ndarray, int, np.ndarray, int, bool]:
        """``(weights, weight_frac, bias integers, acc frac, exact)`` for ``p``: the bias
        on the accumulator grid, weights shifted left when the bias is finer (at most
        ``MAX_BIAS_WIDENING`` bits), else the bias rounded (half even) and ``exact``
        False."""
        x_frac = self.fmt(p.x).frac
        weights, wfrac = p.weights, p.weight_frac
        scale = np.ones(p.channels) if p.scale is None else p.scale
        if p.scale is None:
            grid = exact_binary_grid(p.bias)
            if grid is not None:
                bias_frac = grid[1] if np.any(p.bias) else x_frac + wfrac
                extra = max(bias_frac - (x_frac + wfrac), 0)
                if extra <= MAX_BIAS_WIDENING:
                    weights = np.asarray(weights, dtype=np.int64) << extra
                    wfrac += extra
                    acc_frac = x_frac + wfrac
                    ints = np.ldexp(p.bias, acc_frac).astype(np.int64)
                    return weights, wfrac, ints, acc_frac, True
            p.reasons.append("its bias is not on a power-of-two grid near the accumulator's "
                             "(no bias quantizer?)")
        acc_frac = x_frac + wfrac
        ints = np.rint(np.ldexp(p.bias / scale, acc_frac))
        return weights, wfrac, ints.astype(np.int64), acc_frac, False

    def emit_linear(self, p: PendingLinear) -> tuple[Exact, int, bool]:
        """Emit ``p``'s Dense / Conv2D; returns the accumulator, its frac and whether it is
        exactly the Keras value (then ``p.scale`` is None and the bias exact)."""
        weights, wfrac, bias, acc_frac, exact = self.linear_bias(p)
        wfmt = weight_format(weights, wfrac, p.weight_bits)
        per_channel = np.abs(weights).reshape(
            (weights.shape[0], -1) if p.op == "dense" else (-1, weights.shape[-1]))
        per_channel = per_channel.sum(axis=1 if p.op == "dense" else 0)
        bound = int(np.max(per_channel.astype(object) * p.x.bound + np.abs(bias).astype(object)))
        width = max(signed_width_for(-bound, bound), ACC_MIN_WIDTH)
        if width > 64:
            raise layer_error(p.layer, p.kind, f"the accumulator needs {width} bits (more than "
                                               "64)")
        if p.op == "dense":
            name = self.b.dense(p.x.name, weights, bias, weight_fmt=wfmt, acc_width=width,
                                name=p.layer)
        else:
            name = self.b.conv2d(p.x.name, weights, bias, weight_fmt=wfmt, acc_width=width,
                                 name=p.layer, **p.conv)
        if exact and p.scale is None:
            self.float32_check(p.layer, p.kind, bound, acc_frac, "the float32 sum")
        return Exact(name, bound), acc_frac, exact and p.scale is None

    # --- quantizers --------------------------------------------------------------------------
    def _clip(self, out: Exact, q: ActivationQuantizer, layer: str) -> Exact:
        fmt = self.fmt(out)
        if q.kind == "fixed" and (q.lo > fmt.min or q.hi < fmt.max):
            return Exact(self.b.clip(out.name, q.lo, q.hi, name=f"{layer}_clip"),
                         max(abs(q.lo), abs(q.hi)))
        return out

    def _requantize_exact(self, x: Exact, frac: int, q: ActivationQuantizer, layer: str,
                          kind: str) -> Exact:
        """Round ``x`` (integers of ``2**-frac``) half to even to ``q.round_frac``,
        saturate into ``q.fmt`` (whose frac also carries alpha)."""
        out_frac = q.round_frac
        if out_frac - frac > 30:
            raise layer_error(layer, kind, f"{q.text}: its grid 2**-{out_frac} is more than "
                                           f"30 bits finer than its input's 2**-{frac}")
        relabel = q.fmt.frac != out_frac
        multiplier = 1 << (out_frac - frac) if out_frac > frac else (1 if relabel else None)
        name = self.b.requantize(x.name, shift=max(frac - out_frac, 0), out_fmt=q.fmt,
                                 rounding=Rounding.HALF_EVEN, overflow=Overflow.SATURATE,
                                 multiplier=multiplier, name=layer)
        return Exact(name, max(abs(q.fmt.min), abs(q.fmt.max)))

    def _ternary(self, x: Exact, frac: int, q: ActivationQuantizer, layer: str) -> Exact:
        """``|x| >= T -> sign(x)``, else 0: ``round_half_away(x * M / 2**S)`` clipped to
        [-1, 1], with ``2**(S-1) / M`` in ``(t - 1, t]`` for the integer threshold ``t``
        (the smallest integer not below ``T * 2**frac``), so the rounding crosses 1/2
        exactly at ``t``."""
        t = max(math.ceil(q.threshold * 2.0 ** frac), 1)
        shift = (t * (t - 1)).bit_length() + 2 if t > 1 else 1
        multiplier = -(-(1 << (shift - 1)) // t) if t > 1 else 1
        name = self.b.requantize(x.name, shift=shift, multiplier=multiplier, out_fmt=q.fmt,
                                 rounding=Rounding.HALF_AWAY, overflow=Overflow.SATURATE,
                                 name=layer)
        return Exact(self.b.clip(name, -1, 1, name=f"{layer}_clip"), 1)

    def quantize(self, value: Value, q: ActivationQuantizer, layer: str, kind: str) -> Exact:
        """The quantizer ``q`` (of Keras layer ``layer``) applied to ``value``."""
        if isinstance(value, PendingMean):
            if q.kind != "fixed":
                raise layer_error(layer, kind, f"{q.text} after the average of {value.layer!r}, "
                                               "whose divisor is not a power of two, is not "
                                               "supported (use quantized_bits/quantized_relu)")
            return self._clip(self.emit_mean(value, q, layer), q, layer)
        scale = None
        if isinstance(value, PendingLinear):
            pending = value
            value, frac, exact = self.emit_linear(pending)
            if not exact:
                scale = np.ones(pending.channels) if pending.scale is None else pending.scale
                reasons = "; ".join(pending.reasons)
                if q.kind != "fixed":
                    raise layer_error(layer, kind, f"{q.text} after {pending.layer!r}, whose "
                                                   f"scale is not exact ({reasons}), is not "
                                                   "supported (use quantized_bits/relu)")
                return self._clip(self._requantize_scaled(value, frac, scale, q, layer, kind,
                                                          pending, reasons), q, layer)
        else:
            frac = self.fmt(value).frac
        if q.kind == "sign":
            return Exact(self.b.sign_binarize(value.name, frac=q.fmt.frac, name=layer), 1)
        if q.kind == "ternary":
            return self._ternary(value, frac, q, layer)
        return self._clip(self._requantize_exact(value, frac, q, layer, kind), q, layer)

    def _requantize_scaled(self, x: Exact, frac: int, scale: np.ndarray,
                           q: ActivationQuantizer, layer: str, kind: str,
                           pending: PendingLinear, reasons: str) -> Exact:
        real = scale * 2.0 ** (q.round_frac - frac)
        multipliers, shift = multiplier_and_shift(real)
        if shift < 0:
            raise layer_error(layer, kind, f"the scale of {pending.layer!r} "
                                           f"({describe_scale(scale)}) is too large for a "
                                           "31-bit multiplier")
        if np.all(multipliers == multipliers.flat[0]):
            multipliers = multipliers.flat[0]
        name = self.b.requantize(x.name, shift=shift, multiplier=multipliers, out_fmt=q.fmt,
                                 rounding=Rounding.HALF_EVEN, overflow=Overflow.SATURATE,
                                 name=layer)
        self.approximations.append(
            f"layer {pending.layer!r} ({pending.kind}): {reasons}; the bias is rounded to the "
            f"accumulator grid 2**-{frac} and {layer!r} requantizes with 31-bit multipliers "
            f"and shift {shift} (scale {describe_scale(scale)}), rounding half_even")
        return Exact(name, max(abs(q.fmt.min), abs(q.fmt.max)))

    # --- averages ----------------------------------------------------------------------------
    def emit_mean(self, m: PendingMean, q: ActivationQuantizer, layer: str) -> Exact:
        """The average of ``m`` rounded once, half to even, to ``q.round_frac`` and
        saturated into ``q.fmt`` (relabelled by a Requantize when alpha moves the point)."""
        fmt = q.fmt
        relabel = q.round_frac != fmt.frac
        pool_name = f"{layer}_mean" if relabel else layer
        out_fmt = IntFormat(fmt.width, fmt.signed, q.round_frac)
        if m.pool is None:
            name = self.b.global_avg_pool(m.x.name, out_fmt=out_fmt, rounding=Rounding.HALF_EVEN,
                                          name=pool_name)
        else:
            name = self.b.avg_pool2d(m.x.name, m.pool, stride=m.stride, padding=m.padding,
                                     out_fmt=out_fmt, rounding=Rounding.HALF_EVEN,
                                     name=pool_name)
        if relabel:
            name = self.b.requantize(name, shift=0, multiplier=1, out_fmt=fmt, name=layer)
        return Exact(name, max(abs(fmt.min), abs(fmt.max)))

    def materialize(self, value: Value, layer: str, kind: str) -> Exact:
        """``value`` as an exact IR value, for a consumer that is not a quantizer."""
        if isinstance(value, Exact):
            return value
        if isinstance(value, PendingMean):
            raise layer_error(value.layer, value.kind, "an average whose divisor is not a power "
                                                       "of two must be followed by a quantizer "
                                                       f"(it is read by {layer!r} ({kind}))")
        out, _, exact = self.emit_linear(value)
        if not exact:
            raise layer_error(value.layer, value.kind,
                              f"{'; '.join(value.reasons)}: only a following quantized_bits / "
                              f"quantized_relu can absorb that, not {layer!r} ({kind})")
        return out
