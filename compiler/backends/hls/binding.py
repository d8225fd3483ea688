"""How one IR node becomes one kernel call in the generated C++ (the contract between
the kernel headers in ``kernels/`` and the project emitter).

Conventions every kernel follows:

* A tensor is a flat C array in row-major order (NHWC for images) of the IR's integer
  representation: ``ap_int<W>`` for a signed ``IntFormat`` of width ``W``, ``ap_uint<W>``
  for an unsigned one, ``ap_int<2>`` for binary {-1,+1} and ternary {-1,0,+1} values.
  The scale ``2**-frac`` is not in the C++ type; it is in the config's comments and in
  the arithmetic the kernel does (e.g. the shift of a requantize).
* A kernel is a function template in namespace ``ng`` taking its configuration struct
  as the first template parameter, e.g. ``ng::dense<fc1_config>(x, y, fc1_w, fc1_b)``:
  inputs first (``const`` arrays), then the output array, then parameter arrays.
* The config struct, emitted once per node as ``struct <node>_config { ... };``, holds
  ``typedef``s of the element types and ``static const`` integers (sizes, shifts,
  rounding mode, ...); a binding returns its body lines.
* Parameter arrays are emitted as ``static const <ctype> <name>[<n>] = {...};`` in
  ``weights/<node>.h``.
* Integer arithmetic is exactly the golden model's (``sim/golden``): the kernels' C-sim
  is compared with it element for element.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ....numerics.formats import BinaryFormat, IntFormat, TernaryFormat
from ....numerics.rounding import Overflow, Rounding
from ...ir import TensorType

IO_MODES = ("parallel", "stream")
STRATEGIES = ("latency", "resource")

# The ng::rounding_mode (ng_common.h) of each IR rounding: the same names and order.  The
# kernels map it to an ap_fixed quantization mode where one exists (ng_requant.h).
NG_ROUNDING = {r: f"ng::RND_{r.name}" for r in Rounding}
AP_OVERFLOW = {Overflow.SATURATE: "AP_SAT", Overflow.WRAP: "AP_WRAP"}


@dataclass(frozen=True)
class HlsOptions:
    """What the user chose for the project (``--io``, ``--reuse``, ``--strategy``)."""

    io: str = "parallel"
    reuse: int = 1
    strategy: str = "latency"

    def __post_init__(self):
        if self.io not in IO_MODES:
            raise ValueError(f"--io must be one of {', '.join(IO_MODES)}, not {self.io!r}")
        if isinstance(self.reuse, bool) or not isinstance(self.reuse, int) or self.reuse < 1:
            raise ValueError(f"--reuse must be a positive integer, not {self.reuse!r}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"--strategy must be one of {', '.join(STRATEGIES)}, "
                             f"not {self.strategy!r}")


def ctype(fmt) -> str:
    """The C++ element type holding a value of ``fmt`` (its integer representation)."""
    if isinstance(fmt, (BinaryFormat, TernaryFormat)):
        return "ap_int<2>"
    if isinstance(fmt, IntFormat):
        return f"ap_int<{fmt.width}>" if fmt.signed else f"ap_uint<{fmt.width}>"
    raise TypeError(f"no HLS element type for {fmt.describe()}")


def scale_comment(t: TensorType) -> str:
    frac = getattr(t.fmt, "frac", 0)
    return f"{t.fmt.describe()}, shape {tuple(t.shape)}, value = integer * 2^-{frac}"


@dataclass(frozen=True, eq=False)
class Array:
    """A parameter array of a kernel call (weights, biases, multipliers, ROM tables)."""

    name: str
    ctype: str
    values: np.ndarray      # flat integers, emitted in this order


@dataclass(frozen=True, eq=False)
class KernelCall:
    """What the emitter writes for one node.

    ``config``: body lines of ``struct <node>_config``; ``call``: one C++ statement with
    the placeholders ``{in0}``, ``{in1}``, ... (the input arrays, in ``node.inputs``
    order), ``{out}`` (the output array) and ``{config}`` (the struct's name).
    """

    header: str                      # the kernel header, e.g. "ng_dense.h"
    config: tuple[str, ...]
    call: str
    arrays: tuple[Array, ...] = field(default_factory=tuple)
    stream: bool = False             # True when the call reads/writes hls::stream (io_stream)


class Unsupported(Exception):
    """A binding cannot map this node (attribute, format); the message says why."""
