"""What the matrix engine runs: a layer-descriptor table and its memory images.

The compiler backend produces a ``Program``; ``hw.accelerator.Accelerator`` puts it in
its memories (descriptor ROM, column weight memories, bias memory).  Memory words are
packed little-end first: lane ``i`` occupies bits ``[i*w, (i+1)*w)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from amaranth.hdl import signed, unsigned
from amaranth.lib import data

from ..numerics.rounding import Rounding
from .arith import RoundingCode
from .config import AcceleratorConfig


@dataclass(frozen=True)
class LayerDescriptor:
    """One dense layer as the sequencer sees it."""

    k_tiles: int    # input chunks of `cols` elements
    n_tiles: int    # output tiles of `rows` elements
    n_out: int      # output elements
    w_base: int     # first weight word (tiles stored n-tile major, k-tile minor)
    b_base: int     # first bias word (one per n-tile)
    shift: int      # requantize: arithmetic right shift
    rounding: Rounding  # requantize: rounding of the shift (any member)
    lo: int         # requantize: saturation bounds (lo >= 0 for ReLU)
    hi: int
    last: bool      # outputs go to the output stream, not the activation buffer


def bits_for(count: int) -> int:
    """Bits of an unsigned field holding values ``0 .. count``."""
    return max(1, int(count).bit_length())


def descriptor_layout(config: AcceleratorConfig) -> data.StructLayout:
    mem, widths = config.memory, config.widths
    return data.StructLayout({
        "k_tiles": unsigned(bits_for(mem.act_chunks)),
        "n_tiles": unsigned(bits_for(mem.bias_words)),
        "n_out": unsigned(bits_for(mem.bias_words * config.array.rows)),
        "w_base": unsigned(bits_for(mem.weight_words)),
        "b_base": unsigned(bits_for(mem.bias_words)),
        "shift": unsigned(bits_for(widths.acc_bits - 1)),
        "rounding": RoundingCode,
        "lo": signed(widths.out_bits),
        "hi": signed(widths.out_bits),
        "last": unsigned(1),
    })


def pack_lanes(lanes, width: int) -> int:
    """Pack signed lane values into one unsigned word, lane 0 in the low bits."""
    word, mask = 0, (1 << width) - 1
    for i, value in enumerate(lanes):
        word |= (int(value) & mask) << (i * width)
    return word


def unpack_lanes(word: int, width: int, count: int) -> list[int]:
    half, mask = 1 << (width - 1), (1 << width) - 1
    return [(((word >> (i * width)) & mask) ^ half) - half for i in range(count)]


@dataclass(frozen=True, eq=False)
class Program:
    """Descriptors and memory images for one ``AcceleratorConfig``.

    ``weights[c, word, r]`` is the weight PE ``(r, c)`` uses when ``word`` is read;
    ``biases[word, r]`` the bias of row ``r`` of the n-tile stored at ``word``.
    """

    config: AcceleratorConfig
    layers: tuple[LayerDescriptor, ...]
    weights: np.ndarray
    biases: np.ndarray

    def __post_init__(self):
        cfg = self.config
        rows, cols = cfg.array.rows, cfg.array.cols
        if not self.layers:
            raise ValueError("a program needs at least one layer")
        if len(self.layers) > cfg.memory.layers:
            raise ValueError(f"{len(self.layers)} layers do not fit a descriptor table of "
                             f"{cfg.memory.layers}")
        if self.weights.shape != (cols, cfg.memory.weight_words, rows):
            raise ValueError(f"weight image has shape {self.weights.shape}, expected "
                             f"{(cols, cfg.memory.weight_words, rows)}")
        if self.biases.shape != (cfg.memory.bias_words, rows):
            raise ValueError(f"bias image has shape {self.biases.shape}, expected "
                             f"{(cfg.memory.bias_words, rows)}")
        if not self.layers[-1].last or any(d.last for d in self.layers[:-1]):
            raise ValueError("exactly the final layer must be marked last")

    @property
    def input_size(self) -> int:
        return self.layers[0].k_tiles * self.config.array.cols

    @property
    def output_size(self) -> int:
        return self.layers[-1].n_out

    def weight_words(self, col: int) -> list[int]:
        return [pack_lanes(w, self.config.widths.weight_bits) for w in self.weights[col]]

    def bias_words(self) -> list[int]:
        return [pack_lanes(b, self.config.widths.acc_bits) for b in self.biases]

    def descriptor_fields(self) -> list[dict[str, int]]:
        """Each descriptor as integers (the rounding as its ``RoundingCode``)."""
        return [{name: RoundingCode.of(value).value if isinstance(value, Rounding)
                 else int(value) for name, value in vars(d).items()} for d in self.layers]

    def descriptor_words(self) -> list[int]:
        layout = descriptor_layout(self.config)
        mask = (1 << layout.size) - 1
        return [layout.const(f).as_value().value & mask for f in self.descriptor_fields()]
