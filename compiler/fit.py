"""Refuse, before synthesis, a design that provably cannot fit its device.

The checks are lower bounds (I/O pins exactly; multipliers and memory bits with the
cheapest implementation the device has), so a design that passes may still fail to
place: synthesis then reports it as not fitting, with the numbers.
"""

from __future__ import annotations

from ..hw.config import AcceleratorConfig
from ..hw.program import descriptor_layout
from .errors import NeurogateError
from .targets import Target


def io_pins(config: AcceleratorConfig) -> int:
    w = config.widths
    stream_in = config.array.cols * w.act_bits + 2    # payload, valid, ready
    stream_out = w.out_bits + 1 + 2                   # data, last, valid, ready
    return stream_in + stream_out + 1 + 2             # busy, clk, rst


def memory_bits(config: AcceleratorConfig) -> int:
    m, w, a = config.memory, config.widths, config.array
    chunks = 1 << max(1, (m.act_chunks - 1).bit_length())
    return (a.cols * m.weight_words * a.rows * w.weight_bits
            + m.bias_words * a.rows * w.acc_bits
            + a.cols * 2 * chunks * w.act_bits
            + m.layers * descriptor_layout(config).size)


def lut_lower_bound(config: AcceleratorConfig, target: Target) -> int:
    """Multipliers beyond the DSP blocks need at least a*w/2 LUT4s each; every PE's
    accumulator adder at least acc_bits/2."""
    w, pes = config.widths, config.array.pes
    soft = max(0, pes - target.dsps)
    return soft * (w.act_bits * w.weight_bits) // 2 + pes * w.acc_bits // 2


def check_fits(config: AcceleratorConfig, target: Target) -> None:
    pins = io_pins(config)
    if pins > target.ios:
        raise NeurogateError(f"array {config.array} does not fit {target.name}: the design needs "
                             f"{pins} I/O pins, the {target.package} package has {target.ios}")
    bits = memory_bits(config)
    ram_limit = target.bram_bits + target.luts * 16   # every LUT as 16-bit RAM: an upper bound
    if bits > ram_limit:
        raise NeurogateError(f"model does not fit {target.name}: {bits} bits of on-chip memory "
                             f"needed, at most {ram_limit} available")
    luts = lut_lower_bound(config, target)
    if luts > target.luts:
        raise NeurogateError(
            f"array {config.array} does not fit {target.name}: {config.array.pes} multipliers "
            f"({target.dsps} DSP blocks) need at least {luts} LUTs, the device has {target.luts}")
