"""Helpers shared by the bindings: C names and literals, element types, the widths of
intermediate ``ap_int``/``ap_uint`` types, config lines and the kernel call."""

from __future__ import annotations

from ....ir import INTEGER_FORMATS, TensorType
from ...base import c_identifier
from ..binding import Array, KernelCall, Unsupported, ctype

# ap_int's default AP_INT_MAX_W: no intermediate may be wider.
c_name = c_identifier   # array and config names follow the backend's identifier rule

MAX_WIDTH = 1024


def int_literal(value: int) -> str:
    """A C++ literal of a 64-bit integer (``long long``, or ``unsigned long long`` above it)."""
    value = int(value)
    if value == -(1 << 63):
        return "(-9223372036854775807LL - 1)"
    if -(1 << 63) < value < (1 << 63):
        return f"{value}LL"
    if 0 <= value < (1 << 64):
        return f"{value}ULL"
    raise Unsupported(f"constant {value} does not fit in 64 bits")


def literal_type(value: int) -> str:
    return "unsigned long long" if int(value) >= (1 << 63) else "long long"


def c_bool(value: bool) -> str:
    return "true" if value else "false"


def element_type(t: TensorType, what: str) -> str:
    """The C++ element type of an integer tensor (``binding.ctype``), or ``Unsupported``."""
    if not isinstance(t.fmt, INTEGER_FORMATS):
        raise Unsupported(f"{what} is {t.fmt.describe()}: the HLS kernels take integer "
                          "formats")
    return ctype(t.fmt)


def io_types(node, x: TensorType, out_t: str | None = None) -> list[str]:
    """``typedef <x> in_t;`` and ``typedef <out> out_t;`` (``out_t``: a given C++ type)."""
    in_t = element_type(x, f"{node.name}: the input")
    out_t = out_t or element_type(node.out, f"{node.name}: the output")
    return [f"typedef {in_t} in_t;", f"typedef {out_t} out_t;"]


def signed_bits(lo: int, hi: int) -> int:
    """Two's-complement width holding every integer of ``[lo, hi]`` (at least 2)."""
    lo, hi = min(int(lo), 0), max(int(hi), 0)
    return max(2, max(hi.bit_length(), (-lo - 1).bit_length()) + 1)


def unsigned_bits(hi: int) -> int:
    """Width of an unsigned type holding ``[0, hi]`` (at least 1)."""
    return max(1, int(hi).bit_length())


def sint(width: int, what: str) -> str:
    """``ap_int<width>``, or ``Unsupported`` beyond ap_int's widest type."""
    if width > MAX_WIDTH:
        raise Unsupported(f"{what} needs {width} bits, more than ap_int's {MAX_WIDTH}")
    return f"ap_int<{width}>"


def uint(width: int, what: str) -> str:
    """``ap_uint<width>``, or ``Unsupported`` beyond ap_uint's widest type."""
    if width > MAX_WIDTH:
        raise Unsupported(f"{what} needs {width} bits, more than ap_uint's {MAX_WIDTH}")
    return f"ap_uint<{width}>"


def ints(**values) -> list[str]:
    """``static const int <name> = <value>;`` lines (``bool`` values as ``bool``)."""
    return [f"static const bool {name} = {c_bool(value)};" if isinstance(value, bool)
            else f"static const int {name} = {int(value)};" for name, value in values.items()]


def kernel_call(header: str, kernel: str, config, n_in: int = 1,
                arrays: tuple[Array, ...] = (), stream: bool = False) -> KernelCall:
    """``ng::<kernel><{config}>({in0}, ..., {out}, <arrays>);`` of ``header``."""
    args = [*(f"{{in{i}}}" for i in range(n_in)), "{out}", *(a.name for a in arrays)]
    return KernelCall(header=header, config=tuple(config),
                      call=f"ng::{kernel}<{{config}}>({', '.join(args)});", arrays=arrays,
                      stream=stream)
