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


def compare(layer: str, expected, got, last=None) -> Comparison:
    """Compare every element (and, if given, every ``last`` flag: set on the final output
    of a vector only).  ``expected``, ``got``, ``last``: ``(vectors, outputs)`` arrays."""
    expected, got = np.asarray(expected), np.asarray(got)
    if got.shape != expected.shape:
        raise ValueError(f"the RTL gave outputs of shape {got.shape}, the golden model "
                         f"{expected.shape}")
    wrong = got != expected
    flags_wrong = np.zeros_like(wrong)
    if last is not None:
        want_last = np.zeros(expected.shape, dtype=bool)
        want_last[:, -1] = True
        flags_wrong = np.asarray(last).astype(bool) != want_last
    bad = wrong | flags_wrong
    first = None
    if bad.any():
        v, j = (int(i) for i in np.argwhere(bad)[0])
        first = (mismatch_text(layer, v, j, int(expected[v, j]), int(got[v, j])) if wrong[v, j]
                 else last_flag_text(layer, v, j, int(last[v, j])))
    return Comparison(vectors=expected.shape[0], elements=int(expected.size),
                      mismatched_elements=int(bad.sum()),
                      mismatched_vectors=int(bad.any(axis=1).sum()), first=first)
