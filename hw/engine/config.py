"""The parameters of one programmable engine: everything its bitstream depends on.

A program is compiled for one ``EngineConfig`` and carries its ``signature``; the engine
refuses a program whose signature is not its own (docs/isa.md, "Host protocol").
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass

from ...numerics.checks import check_int

#: Bumped whenever an instruction's fields or meaning change.
ISA_VERSION = 1
#: Bits of one host-stream word (at least; wider arrays widen it to one scratchpad word).
MIN_HOST_BITS = 64
#: Cycles the scratchpad's port signals (read address; write enable, address and data)
#: are registered before its memories (``top.Engine``): each bank of block RAMs gets its
#: own copy, next to it.
SPAD_PORT_DELAY = 1
#: Data bits of the block RAM a scratchpad slice is sized for (``spad_slice_bits``).
SLICE_BLOCK_BITS = 16384
#: Cycles a scratchpad bank's read data is registered next to its block RAMs before it
#: crosses the die to the exec unit or the store unit (``top.Engine``).
SPAD_READ_DELAY = 1


def _power_of_two(name: str, value: int, low: int, high: int) -> int:
    check_int(name, value, low=low, high=high)
    if value & (value - 1):
        raise ValueError(f"{name} must be a power of two, not {value}")
    return value


@dataclass(frozen=True)
class EngineConfig:
    """An ``array x array`` engine (square: one output tile is one scratchpad word).

    lane_bits    bits of one activation lane in the scratchpad (a tensor's format must
                 fit: signed or unsigned, up to this width)
    weight_bits  bits of one weight
    acc_bits     accumulator width (sums wrap modulo 2**acc_bits)
    spad_words   scratchpad depth, words of ``array`` lanes
    wbuf_words   weight-buffer depth, words per column (one weight tile = one word of
                 every column)
    bias_words   bias-memory depth, one word of ``array`` biases each
    prog_words   program-memory depth, instructions
    """

    array: int = 8
    lane_bits: int = 8
    weight_bits: int = 8
    acc_bits: int = 32
    spad_words: int = 8192
    wbuf_words: int = 2048
    bias_words: int = 256
    prog_words: int = 512

    def __post_init__(self):
        check_int("array", self.array, low=2, high=64)
        check_int("lane_bits", self.lane_bits, low=2, high=16)
        check_int("weight_bits", self.weight_bits, low=2, high=16)
        check_int("acc_bits", self.acc_bits, low=16, high=48)
        _power_of_two("spad_words", self.spad_words, 16, 1 << 20)
        _power_of_two("wbuf_words", self.wbuf_words, 16, 1 << 16)
        _power_of_two("bias_words", self.bias_words, 2, 1 << 12)
        _power_of_two("prog_words", self.prog_words, 16, 1 << 16)

    @property
    def host_bits(self) -> int:
        return max(MIN_HOST_BITS, self.array * self.lane_bits)

    @property
    def spad_bits(self) -> int:
        return self.array * self.lane_bits

    @property
    def spad_slice_bits(self) -> int:
        """Bits of a lane in one scratchpad memory: a lane is split into slices that one
        16-Kbit block RAM holds at the scratchpad's depth (an ECP5 DP16KD is 8,192 x 2,
        2,048 x 9, ...), so each block RAM has its own port registers next to it."""
        return max(1, min(self.lane_bits, SLICE_BLOCK_BITS // self.spad_words))

    @property
    def wbuf_bits(self) -> int:
        """One column's word: the weights of every row."""
        return self.array * self.weight_bits

    @property
    def bias_bits(self) -> int:
        return self.array * self.acc_bits

    def host_words(self, bits: int) -> int:
        """Host-stream words that carry one ``bits``-bit memory word."""
        return -(-bits // self.host_bits)

    @property
    def signature(self) -> int:
        """32-bit digest of the ISA version and every parameter (the program header)."""
        text = ",".join(f"{k}={v}" for k, v in sorted(asdict(self).items()))
        return zlib.crc32(f"isa{ISA_VERSION}:{text}".encode())

    def describe(self) -> str:
        return (f"{self.array}x{self.array} engine, {self.lane_bits}-bit lanes, "
                f"{self.weight_bits}-bit weights, {self.acc_bits}-bit accumulators, "
                f"scratchpad {self.spad_words} words, weight buffer {self.wbuf_words} words, "
                f"bias {self.bias_words} words, program {self.prog_words} instructions")
