"""The scoreboard both verification paths share: the compiled Verilator harness and the
cocotb bench compare the RTL's outputs with the golden model's integers here, so a
mismatch reads the same whichever path found it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Comparison:
    """Outcome of comparing ``(vectors, outputs)`` RTL values and ``last`` flags."""

    vectors: int
    elements: int
    mismatched_elements: int
    mismatched_vectors: int
    first: str | None       # the first mismatch, named by layer, vector and element

    @property
    def ok(self) -> bool:
        return self.first is None


def mismatch_text(layer: str, vector: int, element: int, expected: int, got: int) -> str:
    return f"layer {layer!r}, vector {vector}, element {element}: expected {expected}, got {got}"


def last_flag_text(layer: str, vector: int, element: int, flag: int) -> str:
    return f"layer {layer!r}, vector {vector}, element {element}: last flag is {flag}"


def _outcome(bad: np.ndarray, describe) -> Comparison:
    """Counts of the ``bad`` (vectors, elements) mask; ``describe(v, j)`` names the first."""
    first = None
    if bad.any():
        v, j = (int(i) for i in np.argwhere(bad)[0])
        first = describe(v, j)
    return Comparison(vectors=bad.shape[0], elements=int(bad.size),
                      mismatched_elements=int(bad.sum()),
                      mismatched_vectors=int(bad.any(axis=1).sum()), first=first)


def _check_shapes(expected: np.ndarray, got: np.ndarray) -> None:
    if got.shape != expected.shape:
        raise ValueError(f"the RTL gave outputs of shape {got.shape}, the golden model "
                         f"{expected.shape}")


def compare(layer: str, expected, got, last=None) -> Comparison:
    """Compare every element (and, if given, every ``last`` flag: set on the final output
    of a vector only).  ``expected``, ``got``, ``last``: ``(vectors, outputs)`` arrays."""
    expected, got = np.asarray(expected), np.asarray(got)
    _check_shapes(expected, got)
    wrong = got != expected
    flags_wrong = np.zeros_like(wrong)
    if last is not None:
        want_last = np.zeros(expected.shape, dtype=bool)
        want_last[:, -1] = True
        flags_wrong = np.asarray(last).astype(bool) != want_last

    def describe(v, j):
        if wrong[v, j]:
            return mismatch_text(layer, v, j, int(expected[v, j]), int(got[v, j]))
        return last_flag_text(layer, v, j, int(last[v, j]))

    return _outcome(wrong | flags_wrong, describe)


def compare_ports(ports, expected, got) -> Comparison:
    """``compare`` for several outputs side by side: ``ports`` lists ``(layer, size)`` in
    column order, and the first mismatch is named by its layer and its element there."""
    expected, got = np.asarray(expected), np.asarray(got)
    _check_shapes(expected, got)
    wrong = got != expected

    def describe(v, column):
        element = column
        for layer, size in ports:
            if element < size:
                break
            element -= size
        return mismatch_text(layer, v, element, int(expected[v, column]), int(got[v, column]))

    return _outcome(wrong, describe)
