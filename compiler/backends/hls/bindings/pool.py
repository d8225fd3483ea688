"""Bindings of pooling and padding (MaxPool2D, AvgPool2D, GlobalAvgPool, ZeroPad2D) to the
kernels of ``ng_pool.h`` and ``ng_pad.h``.

The averages are ``saturate(round(sum * 2**(out.frac - in.frac) / count))`` computed
exactly (``sim/golden/pool.py``): the types of the sum, of the scaled numerator and of
the scaled count are sized here so that nothing wraps, and when every window holds the
same power-of-two count the kernel rounds by a shift instead of dividing.  Every op has
an io_stream kernel (one element per read, NHWC order, ``ng_stream.h``).
"""

from __future__ import annotations

import math

from ....ir import AvgPool2D, GlobalAvgPool, MaxPool2D, TensorType, ZeroPad2D
from ..binding import NG_ROUNDING, HlsOptions, KernelCall, scale_comment
from .common import ints, io_types, kernel_call, signed_bits, sint


def _axis_counts(size: int, pool: int, stride: int, pad_lo: int, out: int) -> list[int]:
    """The number of real cells of each window along one axis."""
    return [sum(0 <= p * stride - pad_lo + i < size for i in range(pool)) for p in range(out)]


def _average(node, in_fmt, counts: set[int]) -> list[str]:
    """The config lines of an average over windows holding ``counts`` real cells."""
    out_fmt = node.out.fmt
    d = out_fmt.frac - in_fmt.frac
    up, down = max(d, 0), max(-d, 0)
    most = max(counts)
    sum_bits = signed_bits(in_fmt.min * most, in_fmt.max * most)
    lines = [f"typedef {sint(sum_bits, node.name + ': the sum')} sum_t;",
             f"typedef {sint(sum_bits + up, node.name + ': the scaled sum')} num_t;",
             f"typedef {sint(signed_bits(0, most << down), node.name + ': the count')} den_t;",
             f"static const int rounding = {NG_ROUNDING[node.rounding]};",
             *ints(up_shift=up, down_shift=down)]
    (count,) = counts if len(counts) == 1 else (0,)
    pow2 = count > 0 and count & (count - 1) == 0
    shift = count.bit_length() - 1 + down - up if pow2 else 0
    return lines + ints(pow2=pow2, pow2_shift=shift)


def _window(node, x: TensorType, kind: str) -> list[str]:
    h, w, c = x.shape
    top, bottom, left, right = node.padding
    return [f"// {node.name}: {kind}, x {scale_comment(x)}",
            f"// y {scale_comment(node.out)}",
            *ints(in_h=h, in_w=w, n_chan=c, out_h=node.out.shape[0], out_w=node.out.shape[1],
                  kern_h=node.pool[0], kern_w=node.pool[1], stride_h=node.stride[0],
                  stride_w=node.stride[1], dil_h=1, dil_w=1, pad_top=top, pad_bottom=bottom,
                  pad_left=left, pad_right=right)]


def _call(header: str, kernel: str, config: list[str], options: HlsOptions) -> KernelCall:
    stream = options.io == "stream"
    return kernel_call(header, f"{kernel}_stream" if stream else kernel, config, stream=stream)


def bind_max_pool2d(node: MaxPool2D, in_types: list[TensorType],
                    options: HlsOptions) -> KernelCall:
    (x,) = in_types
    config = [*_window(node, x, "MaxPool2D (padding never wins)"), *io_types(node, x, "in_t")]
    return _call("ng_pool.h", "max_pool2d", config, options)


def bind_avg_pool2d(node: AvgPool2D, in_types: list[TensorType],
                    options: HlsOptions) -> KernelCall:
    (x,) = in_types
    top, bottom, left, right = node.padding
    rows = _axis_counts(x.shape[0], node.pool[0], node.stride[0], top, node.out.shape[0])
    cols = _axis_counts(x.shape[1], node.pool[1], node.stride[1], left, node.out.shape[1])
    counts = {r * c for r in rows for c in cols}
    config = [*_window(node, x, f"AvgPool2D ({node.rounding.value}, padding not counted)"),
              *io_types(node, x), *_average(node, x.fmt, counts)]
    return _call("ng_pool.h", "avg_pool2d", config, options)


def bind_global_avg_pool(node: GlobalAvgPool, in_types: list[TensorType],
                         options: HlsOptions) -> KernelCall:
    (x,) = in_types
    cells = math.prod(x.shape[:-1])
    config = [f"// {node.name}: GlobalAvgPool ({node.rounding.value}), x {scale_comment(x)}",
              f"// y {scale_comment(node.out)}", *io_types(node, x),
              *ints(n_cells=cells, n_chan=x.shape[-1]),
              *_average(node, x.fmt, {cells})]
    return _call("ng_pool.h", "global_avg_pool", config, options)


def bind_zero_pad2d(node: ZeroPad2D, in_types: list[TensorType],
                    options: HlsOptions) -> KernelCall:
    (x,) = in_types
    h, w, c = x.shape
    config = [f"// {node.name}: ZeroPad2D {tuple(node.padding)}, x {scale_comment(x)}",
              *io_types(node, x, "in_t"),
              *ints(in_h=h, in_w=w, n_chan=c, out_h=node.out.shape[0], out_w=node.out.shape[1],
                    pad_top=node.padding[0], pad_left=node.padding[2])]
    return _call("ng_pad.h", "zero_pad2d", config, options)


BINDINGS = {MaxPool2D: bind_max_pool2d, AvgPool2D: bind_avg_pool2d,
            GlobalAvgPool: bind_global_avg_pool, ZeroPad2D: bind_zero_pad2d}
