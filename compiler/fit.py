"""Refuse, before synthesis, a design that provably cannot fit its device.

I/O pins are counted exactly, and so are DSP blocks: yosys maps every multiplier it can
onto DSP blocks whether or not the device has that many (``Family.dsp_blocks`` repeats
its slicing rule), so a design needing more blocks than the device has cannot place.
Memory bits and LUTs are lower bounds (the cheapest implementation the device has), so
a design that passes may still fail to place: synthesis then reports it as not fitting,
naming the over-used resources.
"""

from __future__ import annotations

from ..hw.config import AcceleratorConfig
from ..hw.program import descriptor_layout
from ..numerics.errors import NeurogateError
from .targets import TARGETS, Target


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


def dsp_blocks(config: AcceleratorConfig, target: Target) -> int:
    """DSP blocks the PE multipliers (signed act x weight) are mapped onto on ``target``."""
    w = config.widths
    return config.array.pes * target.arch.dsp_blocks(w.act_bits, w.weight_bits)


def lut_lower_bound(config: AcceleratorConfig, target: Target) -> int:
    """Multiplier slices left off the DSP blocks need at least a*b/2 LUT4s; every PE's
    accumulator adder at least acc_bits/2."""
    w, pes = config.widths, config.array.pes
    soft = target.arch.soft_multiplier_bits(w.act_bits, w.weight_bits)
    return pes * (soft // 2 + w.acc_bits // 2)


def _dsp_advice(config: AcceleratorConfig, target: Target) -> str:
    """``try --array 5x5 or --target ecp5-45k``: the largest square array that fits the
    blocks, and the smallest device with blocks enough for this one."""
    w = config.widths
    per = target.arch.dsp_blocks(w.act_bits, w.weight_bits)
    side = 0
    while (side + 1) ** 2 * per <= target.dsps:
        side += 1
    larger = sorted((t for t in TARGETS.values() if t.ios >= io_pins(config)
                     and dsp_blocks(config, t) <= t.dsps), key=lambda t: t.dsps)
    options = ([f"--array {side}x{side}"] if side else []) + [f"--target {t.name}"
                                                              for t in larger[:1]]
    return "try " + " or ".join(options) if options else "no listed device has enough"


def check_fits(config: AcceleratorConfig, target: Target) -> None:
    if target.is_asic:
        return
    pins = io_pins(config)
    if pins > target.ios:
        raise NeurogateError(f"array {config.array} does not fit {target.name}: the design needs "
                             f"{pins} I/O pins, the {target.package} package has {target.ios}")
    bits = memory_bits(config)
    ram_limit = target.bram_bits + target.luts * 16   # every LUT as 16-bit RAM: an upper bound
    if bits > ram_limit:
        raise NeurogateError(f"model does not fit {target.name}: {bits} bits of on-chip memory "
                             f"needed, at most {ram_limit} available")
    w, pes = config.widths, config.array.pes
    blocks = dsp_blocks(config, target)
    if blocks > target.dsps:
        per = blocks // pes
        each = (f" of {w.act_bits}x{w.weight_bits} bits ({per} blocks each)" if per > 1 else "")
        raise NeurogateError(
            f"array {config.array} does not fit {target.name}: {pes} multipliers{each} need "
            f"{blocks} {target.arch.dsp_cell} DSP blocks, the device has {target.dsps} "
            f"({_dsp_advice(config, target)})")
    luts = lut_lower_bound(config, target)
    if luts > target.luts:
        raise NeurogateError(
            f"array {config.array} does not fit {target.name}: {pes} PEs need at least {luts} "
            f"LUTs, the device has {target.luts}")
