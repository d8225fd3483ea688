"""Golden models of pooling and padding on NHWC images: ZeroPad2D, MaxPool2D, AvgPool2D,
GlobalAvgPool.

``x`` is ``(batch, H, W, C)`` (``GlobalAvgPool``: ``(batch, ..., C)``).  Window ``(p, q)``
covers rows ``p*sh - top ... p*sh - top + ph - 1`` and columns ``q*sw - left ... q*sw -
left + pw - 1``; cells outside the input are *padding*.  Pools never count padding:
the maximum is over the real cells, the average divides by the number of real cells
(Keras ``padding="same"``).  Every pad is smaller than the window (the IR checks it), so
each window holds at least one real cell.
"""

from __future__ import annotations

import numpy as np

from ...numerics.formats import IntFormat
from ...numerics.rounding import Rounding
from .arith import as_exact, bits, round_div, saturate, to_int64
from .linear import conv_output_size, pad2d, taps


def zero_pad2d(x, *, padding) -> np.ndarray:
    """``padding = (top, bottom, left, right)`` rows and columns of zeros around H and W
    (the channels are untouched).  Exact; same format as the input."""
    return pad2d(np.asarray(x, dtype=np.int64), padding, 0)


def _out_hw(x, pool, stride, padding) -> tuple[int, int]:
    top, bottom, left, right = padding
    return (conv_output_size(x.shape[1], pool[0], stride[0], 1, top, bottom),
            conv_output_size(x.shape[2], pool[1], stride[1], 1, left, right))


def max_pool2d(x, *, pool, stride, padding) -> np.ndarray:
    """``y[b, p, q, c]`` = the largest real cell of window ``(p, q)`` of channel ``c``
    (module docstring).  Exact; same format as the input; padding never wins."""
    x = np.asarray(x, dtype=np.int64)
    out_hw = _out_hw(x, pool, stride, padding)
    # Padding with the smallest value present cannot beat a real cell of any window.
    fill = int(x.min()) if x.size else 0
    xp = pad2d(x, padding, fill)
    result = None
    for _, _, view in taps(xp, pool, stride, (1, 1), out_hw):
        result = view if result is None else np.maximum(result, view)
    return np.ascontiguousarray(result)


def _divide(total, count, *, rounding: Rounding, in_fmt, out_fmt: IntFormat) -> np.ndarray:
    """``saturate(round(total * 2**(out.frac - in.frac) / count))``, exact rational."""
    d = out_fmt.frac - in_fmt.frac
    width = bits(total) + max(d, 0) + 1
    num = as_exact(total, width) * (1 << max(d, 0))
    den = as_exact(count, bits(count) + max(-d, 0) + 1) * (1 << max(-d, 0))
    return to_int64(saturate(round_div(num, den, rounding), out_fmt.min, out_fmt.max))


def avg_pool2d(x, *, pool, stride, padding, rounding: Rounding, in_fmt,
               out_fmt: IntFormat) -> np.ndarray:
    """Average of the real cells of each window, in the output's scale.

    ``sum`` = exact sum of the real cells of window ``(p, q)``, ``count`` = their number
    (``ph * pw`` inside, fewer at a padded border).  ``y = saturate(round(sum *
    2**(out.frac - in.frac) / count))``: one exact rational rounding with ``rounding``
    (``arith.round_div``, any ``Rounding``), then clamped to
    ``[out.min, out.max]``.  When ``count * 2**(in.frac - out.frac)`` is a power of two
    (e.g. a full 2x2 window) the division is exactly ``arith.round_shift``.
    """
    x = np.asarray(x, dtype=np.int64)
    out_hw = _out_hw(x, pool, stride, padding)
    width = bits(x) + (pool[0] * pool[1]).bit_length() + 1
    xp = pad2d(as_exact(x, width), padding, 0)
    mask = pad2d(np.ones((1,) + x.shape[1:3] + (1,), dtype=np.int64), padding, 0)
    total, count = 0, 0
    for _, _, view in taps(xp, pool, stride, (1, 1), out_hw):
        total = total + view
    for _, _, view in taps(mask, pool, stride, (1, 1), out_hw):
        count = count + view
    return _divide(total, count, rounding=rounding, in_fmt=in_fmt, out_fmt=out_fmt)


def global_avg_pool(x, *, rounding: Rounding, in_fmt, out_fmt: IntFormat) -> np.ndarray:
    """Average over every axis but the batch and the last (channel) axis: ``(batch, H, W,
    C) -> (batch, C)``, ``(batch, T, F) -> (batch, F)``.

    ``y = saturate(round(sum * 2**(out.frac - in.frac) / count))`` with ``count`` the
    number of cells averaged (``H * W``), the exact sum, one rational rounding with
    ``rounding`` (``arith.round_div``) and a clamp to ``[out.min, out.max]``.  A
    power-of-two ``count * 2**(in.frac - out.frac)`` makes the division a rounding
    shift.
    """
    x = np.asarray(x, dtype=np.int64)
    axes = tuple(range(1, x.ndim - 1))
    count = int(np.prod(x.shape[1:-1], dtype=np.int64))
    total = as_exact(x, bits(x) + count.bit_length() + 1).sum(axis=axes)
    return _divide(total, count, rounding=rounding, in_fmt=in_fmt, out_fmt=out_fmt)
