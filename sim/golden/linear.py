"""Golden models of the multiply-accumulate ops: Dense, Conv2D, MatMul, the fused DenseLayer.

Every op takes a batch: ``x`` is ``(batch, *shape)``.  Products and sums are exact
(Python integers when int64 could overflow); only the final accumulator is wrapped to
its width, two's complement, as a hardware accumulator register does.  Binary
({-1, +1}) and ternary ({-1, 0, +1}) weights or activations are plain integers here:
their arithmetic is the integer arithmetic.
"""

from __future__ import annotations

import numpy as np

from ...numerics.formats import IntFormat
from ...numerics.rounding import Rounding
from . import arith
from .arith import as_exact, bits, product_bits, round_shift, saturate, to_int64, wrap


def dense(x, weights, bias, *, acc_width: int) -> np.ndarray:
    """Dense over the last axis, any leading axes.

    ``y[..., n] = wrap(sum_k x[..., k] * weights[n, k] + bias[n], acc_width)``: exact
    sum, then the low ``acc_width`` bits read as two's complement.  ``weights`` is
    ``(out, in)``; ``bias`` is in the accumulator's scale (input frac + weight frac).
    No rounding, no saturation.
    """
    return to_int64(arith.dense(x, weights, bias, acc_width))


def dense_layer(x, weights, bias, *, acc_width: int, shift: int, rounding: Rounding,
                relu: bool, out_fmt: IntFormat) -> np.ndarray:
    """``DenseLayer``: ``dense``, then ``round_shift(acc, shift, rounding)``, then
    saturation to ``[max(out.min, 0) if relu else out.min, out.max]`` (ReLU and
    saturation in one clamp, as the matrix engine's requantizer does)."""
    acc = dense(x, weights, bias, acc_width=acc_width)
    lo = max(out_fmt.min, 0) if relu else out_fmt.min
    return to_int64(saturate(round_shift(acc, shift, rounding), lo, out_fmt.max))


def conv_output_size(size: int, kernel: int, stride: int, dilation: int, pad_lo: int,
                     pad_hi: int) -> int:
    """Output length along one axis: ``(size + pads - ((kernel-1)*dilation + 1)) // stride
    + 1`` (may be < 1 when the kernel does not fit)."""
    return (size + pad_lo + pad_hi - (kernel - 1) * dilation - 1) // stride + 1


def pad2d(x: np.ndarray, padding, fill) -> np.ndarray:
    """``x`` (batch, H, W, C) with ``padding = (top, bottom, left, right)`` rows/columns
    of ``fill`` around H and W."""
    top, bottom, left, right = padding
    n, h, w, c = x.shape
    out = np.full((n, h + top + bottom, w + left + right, c), fill, dtype=x.dtype)
    out[:, top:top + h, left:left + w, :] = x
    return out


def taps(x: np.ndarray, kernel, stride, dilation, out_hw):
    """Yield ``(i, j, view)`` for every kernel tap: ``view[:, oh, ow, :]`` is the input
    cell that tap ``(i, j)`` of output ``(oh, ow)`` reads (``x`` already padded)."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    for i in range(kh):
        for j in range(kw):
            yield i, j, x[:, i * dh:i * dh + (ho - 1) * sh + 1:sh,
                          j * dw:j * dw + (wo - 1) * sw + 1:sw, :]


def conv2d(x, weights, bias, *, stride, padding, dilation, groups: int,
           acc_width: int) -> np.ndarray:
    """2-D convolution (cross-correlation, as Keras and PyTorch compute it), NHWC.

    ``x`` is ``(batch, H, W, C)``; ``weights`` ``(kh, kw, C // groups, O)`` (Keras
    order); ``bias`` ``(O,)`` in the accumulator's scale; ``stride = (sh, sw)``,
    ``dilation = (dh, dw)``; ``padding = (top, bottom, left, right)`` cells of zeros
    added around H and W (a padded cell contributes 0 to the sum).  Output channel ``o``
    belongs to group ``g = o // (O // groups)`` and reads input channels
    ``g * C//groups ... (g+1) * C//groups - 1`` (``groups == C``: depthwise).

    ``y[b, p, q, o] = wrap(bias[o] + sum_{i, j, c} xp[b, p*sh + i*dh, q*sw + j*dw,
    g*C//groups + c] * weights[i, j, c, o], acc_width)`` with ``xp`` the padded input:
    exact sum, then wrapped to ``acc_width`` bits (two's complement).  Output size per
    axis: ``conv_output_size``.
    """
    x, weights = np.asarray(x), np.asarray(weights)
    kh, kw, cg, out_ch = weights.shape
    n, h, w, _ = x.shape
    top, bottom, left, right = padding
    ho = conv_output_size(h, kh, stride[0], dilation[0], top, bottom)
    wo = conv_output_size(w, kw, stride[1], dilation[1], left, right)
    width = max(product_bits(x, weights, kh * kw * cg), bits(bias)) + 1
    xp = pad2d(as_exact(x, width), padding, 0)
    og = out_ch // groups
    # (kh, kw, cg, groups, og) -> (kh, kw, groups, cg, og): one matrix per group
    w_groups = as_exact(weights, width).reshape(kh, kw, cg, groups, og).transpose(0, 1, 3, 2, 4)
    acc = np.zeros((n, ho, wo, groups, 1, og), dtype=xp.dtype)
    for i, j, view in taps(xp, (kh, kw), stride, dilation, (ho, wo)):
        acc = acc + view.reshape(n, ho, wo, groups, 1, cg) @ w_groups[i, j]
    acc = acc.reshape(n, ho, wo, out_ch) + as_exact(bias, width)
    return to_int64(wrap(acc, acc_width))


def matmul(a, b, *, transpose_b: bool, acc_width: int) -> np.ndarray:
    """Product of two activations over their last two axes, any equal leading axes.

    ``a`` is ``(batch, ..., M, K)``; ``b`` is ``(batch, ..., K, N)``, or ``(batch, ...,
    N, K)`` with ``transpose_b`` (attention's ``Q x K^T``).  ``y[..., m, n] =
    wrap(sum_k a[..., m, k] * b'[..., k, n], acc_width)``: exact sum, then wrapped to
    ``acc_width`` bits (two's complement).  No rounding, no saturation.
    """
    a, b = np.asarray(a), np.asarray(b)
    if transpose_b:
        b = np.swapaxes(b, -1, -2)
    width = product_bits(a, b, a.shape[-1])
    return to_int64(wrap(as_exact(a, width) @ as_exact(b, width), acc_width))
