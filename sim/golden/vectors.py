"""Test vectors for one input of a given shape and integer format: the corner cases first,
then seeded random inputs.  (``neurogate.compiler.interpreter.make_vectors`` makes them
for a graph's input.)"""

from __future__ import annotations

import numpy as np

from ...numerics.formats import BinaryFormat


def corner_vectors(size: int, lo: int, hi: int) -> np.ndarray:
    """All-max, all-min, zeros, alternating extremes both ways, and a single max."""
    alternating = np.where(np.arange(size) % 2 == 0, hi, lo)
    one_hot = np.zeros(size, dtype=np.int64)
    one_hot[size // 2] = hi
    rows = [np.full(size, hi), np.full(size, lo), np.zeros(size, dtype=np.int64),
            alternating, np.where(alternating == hi, lo, hi), one_hot]
    return np.array(rows, dtype=np.int64)


def make_vectors(shape, fmt, count: int, *, seed: int = 0) -> np.ndarray:
    """``count`` inputs of ``shape`` (an int or a tuple, the batch axis excluded) in the
    integer format ``fmt`` (``IntFormat``, ``BinaryFormat`` or ``TernaryFormat``), as a
    ``(count, *shape)`` int64 array: corners (flattened row-major), then random.

    Half of the random vectors are uniform over the format; the other half use only its
    extreme values, which drives accumulators and requantizers into saturation.  A
    binary format has no zero: its corner rows without zeros are kept, and its uniform
    vectors draw from {-1, +1}.
    """
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    size = int(np.prod(shape, dtype=np.int64))
    corners = corner_vectors(size, fmt.min, fmt.max)
    corners = corners[[fmt.contains(row) for row in corners]]
    rng = np.random.default_rng(seed)
    extra = max(0, count - len(corners))
    if isinstance(fmt, BinaryFormat):
        uniform = rng.choice(np.array([-1, 1]), size=(extra - extra // 2, size))
    else:
        uniform = rng.integers(fmt.min, fmt.max + 1, size=(extra - extra // 2, size))
    extremes = rng.choice(np.array([fmt.min, fmt.max]), size=(extra // 2, size))
    vectors = np.concatenate([corners, uniform, extremes]).astype(np.int64)[:count]
    return vectors.reshape((len(vectors),) + shape)
