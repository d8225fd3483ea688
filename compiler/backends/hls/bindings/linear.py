"""Bindings of the multiply-accumulate ops (Dense, Conv2D, MatMul) to the kernels of
``ng_dense.h``, ``ng_conv2d.h`` and ``ng_matmul.h``.

Each kernel accumulates in ``acc_t = ap_int<out.fmt.width>``: the products are exact
(ap_int widens them) and the accumulator wraps modulo ``2**width`` at every addition,
which is the golden "exact sum, then wrap" (``sim/golden/linear.py``) in any order.
The header comments of the kernels list their config fields; the struct bodies are
written here.

Choices made from ``HlsOptions``:

* ``io="stream"``: Dense and Conv2D use their stream kernels (one element per read,
  NHWC order, ``ng_stream.h``); MatMul has none and stays an array call.
* ``strategy="latency"``: Dense fully unrolled; Conv2D and MatMul pipeline one output
  pixel / row per cycle.  ``strategy="resource"``: Dense splits each row into ``reuse``
  pipelined iterations (``reuse`` clamped to ``in * out``); Conv2D and MatMul pipeline
  their pixel / row loop at II = ``reuse``.
"""

from __future__ import annotations

import math

import numpy as np

from ....ir import Conv2D, Dense, MatMul, TensorType
from ..binding import Array, HlsOptions, KernelCall, ctype, scale_comment
from .common import c_bool, c_name, element_type, ints, kernel_call


def _weights(node, fmt, values: np.ndarray) -> Array:
    return Array(f"{c_name(node.name)}_w", ctype(fmt), np.asarray(values).reshape(-1))


def _bias(node) -> Array:
    return Array(f"{c_name(node.name)}_b", ctype(node.out.fmt), np.asarray(node.bias).reshape(-1))


def _mac_types(node, x: TensorType, what: str) -> list[str]:
    """The comment and the element types of a Dense / Conv2D (``what``: its formula)."""
    return [f"// {node.name}: {type(node).__name__}, x {scale_comment(x)}",
            f"// y = wrap({what} + b) {scale_comment(node.out)}",
            f"typedef {element_type(x, f'{node.name}: the input')} in_t;",
            f"typedef {ctype(node.weight_fmt)} w_t;  // {node.weight_fmt.describe()}",
            f"typedef {ctype(node.out.fmt)} acc_t;",
            "typedef acc_t out_t;"]


def _mac_call(node, header: str, kernel: str, config: list[str],
              options: HlsOptions) -> KernelCall:
    """The call of a Dense / Conv2D kernel (its stream kernel in io_stream) with its
    weights and biases."""
    stream = options.io == "stream"
    arrays = (_weights(node, node.weight_fmt, node.weights), _bias(node))
    return kernel_call(header, f"{kernel}_stream" if stream else kernel, config,
                       arrays=arrays, stream=stream)


def bind_dense(node: Dense, in_types: list[TensorType], options: HlsOptions) -> KernelCall:
    (x,) = in_types
    n_out, n_in = node.weights.shape
    resource = options.strategy == "resource"
    reuse = min(options.reuse, n_in * n_out) if resource else 1
    config = [*_mac_types(node, x, "x @ w^T"),
              f"static const unsigned n_rows = {x.size // n_in};",
              f"static const unsigned n_in = {n_in};",
              f"static const unsigned n_out = {n_out};",
              f"static const bool resource = {c_bool(resource)};",
              f"static const unsigned reuse = {reuse};",
              f"static const unsigned n_mult = {math.ceil(n_in * n_out / reuse)};"]
    return _mac_call(node, "ng_dense.h", "dense", config, options)


def bind_conv2d(node: Conv2D, in_types: list[TensorType], options: HlsOptions) -> KernelCall:
    (x,) = in_types
    h, w_, c = x.shape
    kh, kw, cg, o = node.weights.shape
    top, bottom, left, right = node.padding
    reuse = options.reuse if options.strategy == "resource" else 1
    config = [*_mac_types(node, x, "conv(x, w)"),
              *ints(in_h=h, in_w=w_, n_chan=c, out_h=node.out.shape[0],
                    out_w=node.out.shape[1], n_filt=o, kern_h=kh, kern_w=kw,
                    stride_h=node.stride[0], stride_w=node.stride[1],
                    dil_h=node.dilation[0], dil_w=node.dilation[1], pad_top=top,
                    pad_bottom=bottom, pad_left=left, pad_right=right, groups=node.groups,
                    chan_per_group=cg, filt_per_group=o // node.groups),
              f"static const unsigned reuse = {reuse};"]
    return _mac_call(node, "ng_conv2d.h", "conv2d", config, options)


def bind_matmul(node: MatMul, in_types: list[TensorType], options: HlsOptions) -> KernelCall:
    a, b = in_types
    a_t = element_type(a, f"{node.name}: a")
    b_t = element_type(b, f"{node.name}: b")
    m, k = a.shape[-2:]
    n = node.out.shape[-1]
    reuse = options.reuse if options.strategy == "resource" else 1
    config = [f"// {node.name}: MatMul, a {scale_comment(a)}",
              f"// b {scale_comment(b)}{' (transposed)' if node.transpose_b else ''}",
              f"// y = wrap(a @ b{'^T' if node.transpose_b else ''}) {scale_comment(node.out)}",
              f"typedef {a_t} a_t;",
              f"typedef {b_t} b_t;",
              f"typedef {ctype(node.out.fmt)} acc_t;",
              "typedef acc_t out_t;",
              f"static const unsigned n_batch = {a.size // (m * k)};",
              f"static const unsigned n_m = {m};",
              f"static const unsigned n_k = {k};",
              f"static const unsigned n_n = {n};",
              f"static const bool transpose_b = {c_bool(node.transpose_b)};",
              f"static const unsigned reuse = {reuse};"]
    return kernel_call("ng_matmul.h", "matmul", config, n_in=2)


BINDINGS = {Dense: bind_dense, Conv2D: bind_conv2d, MatMul: bind_matmul}
