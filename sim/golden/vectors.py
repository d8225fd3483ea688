"""Test vectors for a graph: the corner cases first, then seeded random inputs."""

from __future__ import annotations

import numpy as np

from ...compiler.ir import Graph


def corner_vectors(size: int, lo: int, hi: int) -> np.ndarray:
    """All-max, all-min, zeros, alternating extremes both ways, and a single max."""
    alternating = np.where(np.arange(size) % 2 == 0, hi, lo)
    one_hot = np.zeros(size, dtype=np.int64)
    one_hot[size // 2] = hi
    rows = [np.full(size, hi), np.full(size, lo), np.zeros(size, dtype=np.int64),
            alternating, np.where(alternating == hi, lo, hi), one_hot]
    return np.array(rows, dtype=np.int64)


def make_vectors(graph: Graph, count: int, *, seed: int = 0) -> np.ndarray:
    """``count`` input vectors for the graph's single input: corners, then random.

    Half of the random vectors are uniform over the input format; the other half use
    only the extreme values, which drives accumulators and requantizers into saturation.
    """
    (inp,) = graph.inputs
    fmt, size = inp.out.fmt, inp.out.size
    corners = corner_vectors(size, fmt.min, fmt.max)
    rng = np.random.default_rng(seed)
    extra = max(0, count - len(corners))
    uniform = rng.integers(fmt.min, fmt.max + 1, size=(extra - extra // 2, size))
    extremes = rng.choice(np.array([fmt.min, fmt.max]), size=(extra // 2, size))
    return np.concatenate([corners, uniform, extremes]).astype(np.int64)[:count]
