"""Where a tensor's elements live in the scratchpad, and host packing of its words.

A tensor is stored image by image; an image pixel by pixel (NHWC); a pixel's ``c``
channels in ``ceil(c / N)`` words (*channel groups*), the spare lanes zero.  A tensor
wider than a lane (a 16-bit input on 8-bit lanes) has two *planes*: each pixel's low
bytes in its first groups, its high bytes in the next ones.  Vectors are
one pixel; a ``(T, F)`` sequence is ``T`` pixels of ``F`` channels.  A Reshape that keeps
the storage (Flatten, for one) is a *view*: the same words, a different logical shape;
``element_slots`` maps every logical element to its (word, lane).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ....hw.engine.config import EngineConfig
from ....numerics.formats import IntFormat


@dataclass(frozen=True)
class Layout:
    pixels: tuple[int, int]       # (h, w) of the stored image
    channels: int                 # stored channels per pixel
    lanes: int                    # N
    planes: int = 1               # bytes per value (2: a wide tensor)

    @property
    def groups(self) -> int:
        return -(-self.channels // self.lanes)

    @property
    def pixel_words(self) -> int:
        return self.groups * self.planes

    @property
    def words(self) -> int:
        """Words per image."""
        return self.pixels[0] * self.pixels[1] * self.pixel_words

    @property
    def size(self) -> int:
        return self.pixels[0] * self.pixels[1] * self.channels

    def element_slots(self) -> tuple[np.ndarray, np.ndarray]:
        """(word, lane) of each element in row-major (H, W, C) order."""
        return self.plane_slots(0)

    def plane_slots(self, plane: int) -> tuple[np.ndarray, np.ndarray]:
        """(word, lane) of each element's byte ``plane``."""
        index = np.arange(self.size)
        pixel, channel = index // self.channels, index % self.channels
        return (pixel * self.pixel_words + plane * self.groups + channel // self.lanes,
                channel % self.lanes)

    def word_elements(self) -> np.ndarray:
        """(words, lanes): the element each lane of an image's words holds (every plane),
        ``size`` for a spare lane."""
        out = np.full((self.words, self.lanes), self.size, dtype=np.int64)
        for plane in range(self.planes):
            word, lane = self.plane_slots(plane)
            out[word, lane] = np.arange(self.size)
        return out


def layout_of(shape: tuple[int, ...], lanes: int, planes: int = 1) -> Layout | None:
    """The natural layout of a logical shape (None for ranks it has none for)."""
    if len(shape) == 3:
        return Layout((shape[0], shape[1]), shape[2], lanes, planes)
    if len(shape) == 2:
        return Layout((1, shape[0]), shape[1], lanes, planes)
    if len(shape) == 1:
        return Layout((1, 1), shape[0], lanes, planes)
    return None


def pack_images(x: np.ndarray, layout: Layout, config: EngineConfig) -> list[int]:
    """Scratchpad words (as integers) of a ``(batch, *shape)`` array, image after image."""
    x = np.asarray(x, dtype=np.int64).reshape(len(x), -1)
    lanes = np.zeros((len(x), layout.words, layout.lanes), dtype=np.int64)
    for plane in range(layout.planes):
        word, lane = layout.plane_slots(plane)
        lanes[:, word, lane] = (x >> (plane * config.lane_bits)) & ((1 << config.lane_bits) - 1)
    shifts = np.arange(layout.lanes, dtype=object) * config.lane_bits
    return [int(sum(int(v) << int(s) for v, s in zip(row, shifts)))
            for image in lanes for row in image]


def unpack_images(words: list[int], layout: Layout, fmt: IntFormat, shape: tuple[int, ...],
                  config: EngineConfig) -> np.ndarray:
    """The ``(batch, *shape)`` integers of scratchpad words written by ``pack_images``'s
    inverse (the engine's STORE of a tensor)."""
    bits, mask = config.lane_bits, (1 << config.lane_bits) - 1
    raw = np.array([[(w >> (i * bits)) & mask for i in range(layout.lanes)] for w in words],
                   dtype=np.int64).reshape(-1, layout.words, layout.lanes)
    word, lane = layout.element_slots()
    values = raw[:, word, lane]
    if fmt.signed:
        values = np.where(values >= 1 << (bits - 1), values - (1 << bits), values)
    return values.reshape((len(raw),) + tuple(shape))
