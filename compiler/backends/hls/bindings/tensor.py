"""Bindings of the data-movement ops (Concat, Reshape, Transpose, Slice) to the kernels of
``ng_tensor.h``.  The integers are moved unchanged (the sources share one format), so
every kernel works on one element type, ``value_t``."""

from __future__ import annotations

import math

from ....ir import Concat, Reshape, Slice, TensorType, Transpose
from ..binding import HlsOptions, KernelCall, Unsupported
from .common import element_type, kernel_call

TRANSPOSE_RANK = 6   # the loop nest of ng::transpose


def _split(shape: tuple[int, ...], axis: int) -> tuple[int, int]:
    """``(outer, inner)``: the sizes of the axes before and after ``axis``."""
    return math.prod(shape[:axis]), math.prod(shape[axis + 1:])


def bind_concat(node: Concat, in_types: list[TensorType], options: HlsOptions) -> KernelCall:
    outer, inner = _split(node.out.shape, node.axis)
    lengths = ", ".join(str(t.shape[node.axis]) for t in in_types)
    config = (f"// {node.name}: {len(in_types)} sources joined along axis {node.axis}",
              f"typedef {element_type(node.out, node.name)} value_t;",
              f"static const unsigned outer = {outer};",
              f"static const unsigned inner = {inner};",
              f"static const unsigned out_len = {node.out.shape[node.axis]};",
              f"typedef ng::lengths<{lengths}> lengths;")
    return kernel_call("ng_tensor.h", "concat", config, n_in=len(in_types))


def bind_reshape(node: Reshape, in_types: list[TensorType], options: HlsOptions) -> KernelCall:
    config = (f"// {node.name}: {in_types[0].shape} -> {node.out.shape}, row-major",
              f"typedef {element_type(node.out, node.name)} value_t;",
              f"static const unsigned n = {node.out.size};")
    return kernel_call("ng_tensor.h", "reshape", config)


def transpose_loops(shape: tuple[int, ...], perm: tuple[int, ...]) -> list[tuple[int, int]]:
    """``(dim, input stride)`` of each output axis, size-1 axes dropped and neighbours that
    stay neighbours in the input merged (so most permutations need few loops)."""
    strides = [math.prod(shape[i + 1:]) for i in range(len(shape))]
    loops: list[tuple[int, int]] = []
    for axis in perm:
        dim, stride = shape[axis], strides[axis]
        if dim == 1:
            continue
        if loops and loops[-1][1] == stride * dim:
            loops[-1] = (loops[-1][0] * dim, stride)
        else:
            loops.append((dim, stride))
    return loops


def bind_transpose(node: Transpose, in_types: list[TensorType],
                   options: HlsOptions) -> KernelCall:
    (x,) = in_types
    loops = transpose_loops(x.shape, node.perm)
    if len(loops) > TRANSPOSE_RANK:
        raise Unsupported(f"{node.name}: transpose {node.perm} of {x.shape} needs "
                          f"{len(loops)} loops after merging axes; the kernel has "
                          f"{TRANSPOSE_RANK}")
    loops = [(1, 0)] * (TRANSPOSE_RANK - len(loops)) + loops
    config = [f"// {node.name}: perm {node.perm} of {x.shape}",
              f"typedef {element_type(node.out, node.name)} value_t;",
              f"static const unsigned n = {x.size};"]
    config += [f"static const unsigned d{k} = {d}, s{k} = {s};" for k, (d, s) in enumerate(loops)]
    return kernel_call("ng_tensor.h", "transpose", config)


def bind_slice(node: Slice, in_types: list[TensorType], options: HlsOptions) -> KernelCall:
    (x,) = in_types
    outer, inner = _split(x.shape, node.axis)
    config = (f"// {node.name}: {node.start} ... {node.stop - 1} of axis {node.axis} of {x.shape}",
              f"typedef {element_type(node.out, node.name)} value_t;",
              f"static const unsigned n_in = {x.size}, n_out = {node.out.size};",
              f"static const unsigned outer = {outer}, inner = {inner};",
              f"static const unsigned in_len = {x.shape[node.axis]};",
              f"static const unsigned start = {node.start};",
              f"static const unsigned out_len = {node.stop - node.start};")
    return kernel_call("ng_tensor.h", "slice", config)


BINDINGS = {
    Concat: bind_concat,
    Reshape: bind_reshape,
    Transpose: bind_transpose,
    Slice: bind_slice,
}
