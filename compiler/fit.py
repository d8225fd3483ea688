"""Refuse, before synthesis, an engine that provably cannot fit its device.

I/O pins are counted exactly, and so are DSP blocks: yosys maps every multiplier it can
onto DSP blocks whether or not the device has that many (``Family.dsp_blocks`` repeats
its slicing rule), so an engine needing more blocks than the device has cannot place.
Block RAMs are counted as yosys packs each memory (the best of the block's width x depth
shapes): 115 DP16KD for the default 8x8 engine and 67 with a 512-word weight buffer, as
nextpnr placed them, and 307 with an 8,192-word weight buffer (over the ECP5-85k's 208).
Logic is not estimated: synthesis reports a misfit naming the over-used resources.
"""

from __future__ import annotations

from ..hw.engine import isa
from ..hw.engine.config import EngineConfig
from ..numerics.errors import NeurogateError
from .targets import TARGETS, Target


def io_pins(config: EngineConfig) -> int:
    """Host stream (payload, valid, ready), output stream (data, last, valid, ready),
    busy, error, error_pc, clk and rst."""
    return (config.host_bits + 2) + (config.spad_bits + 1 + 2) + 1 + 4 + 16 + 2


def memory_bits(config: EngineConfig) -> int:
    return sum(copies * depth * width for copies, depth, width in memories(config))


#: Block RAM shapes (depth, width) per family: ECP5 DP16KD (and its 512 x 36 pseudo
#: dual-port form), iCE40 SB_RAM40_4K.
RAM_SHAPES = {"ecp5": ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36)),
              "ice40": ((2048, 2), (1024, 4), (512, 8), (256, 16))}
RAM_BLOCK_BITS = {"ecp5": 18432, "ice40": 4096}


def memories(config: EngineConfig) -> list[tuple[int, int, int]]:
    """(copies, depth, width) of every memory the engine instantiates (the scratchpad is
    one bank per lane, each in slices of ``spad_slice_bits``)."""
    n, lane, part = config.array, config.lane_bits, config.spad_slice_bits
    spad = [(n * (lane // part), config.spad_words, part)]
    if lane % part:
        spad.append((n, config.spad_words, lane % part))
    return [*spad, (n, config.wbuf_words, config.wbuf_bits),
            (1, config.bias_words, config.bias_bits), (1, config.prog_words, isa.INSTR_BITS)]


def ram_blocks(config: EngineConfig, family: str) -> int:
    shapes = RAM_SHAPES[family]
    return sum(copies * min(-(-width // w) * -(-depth // d) for d, w in shapes)
               for copies, depth, width in memories(config))


def act_operand_bits(config: EngineConfig) -> int:
    """The array's activation operand: a lane, or the high byte of a two-byte value."""
    return 2 * config.lane_bits + 1


def dsp_blocks(config: EngineConfig, target: Target) -> int:
    return config.array ** 2 * target.arch.dsp_blocks(act_operand_bits(config),
                                                      config.weight_bits)


def _dsp_advice(config: EngineConfig, target: Target) -> str:
    """``try --array 5x5 or --target ecp5-45k``: the largest square array that fits the
    blocks, and the smallest device with blocks enough for this one."""
    per = target.arch.dsp_blocks(act_operand_bits(config), config.weight_bits)
    side = 0
    while (side + 1) ** 2 * per <= target.dsps:
        side += 1
    larger = sorted((t for t in TARGETS.values() if not t.is_asic
                     and t.ios >= io_pins(config) and dsp_blocks(config, t) <= t.dsps),
                    key=lambda t: t.dsps)
    options = ([f"--array {side}x{side}"] if side >= 2 else []) + [f"--target {t.name}"
                                                                   for t in larger[:1]]
    return "try " + " or ".join(options) if options else "no listed device has enough"


def check_fits(config: EngineConfig, target: Target) -> None:
    if target.is_asic:
        return
    n = config.array
    pins = io_pins(config)
    if pins > target.ios:
        raise NeurogateError(f"the {n}x{n} engine does not fit {target.name}: it needs {pins} "
                             f"I/O pins, the {target.package} package has {target.ios}")
    blocks = dsp_blocks(config, target)
    if blocks > target.dsps:
        raise NeurogateError(
            f"the {n}x{n} engine does not fit {target.name}: {n * n} multipliers need "
            f"{blocks} {target.arch.dsp_cell} DSP blocks, the device has {target.dsps} "
            f"({_dsp_advice(config, target)})")
    blocks = ram_blocks(config, target.family)
    have = target.bram_bits // RAM_BLOCK_BITS[target.family]
    if blocks > have:
        raise NeurogateError(f"the {n}x{n} engine does not fit {target.name}: its memories "
                             f"need {blocks} block RAMs, the device has {have} "
                             f"({config.describe()})")
