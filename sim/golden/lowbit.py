"""Bit-exact NumPy models of the ternary and binary matrix units and their output scaling.

Mirrors ``neurogate.hw.lowbit``.  Conventions shared with the hardware:

* Ternary weights travel packed 2 bits each, as 2-bit two's complement: ``00`` = 0,
  ``01`` = +1, ``11`` = -1; ``10`` (-2) is reserved and refused by ``pack_ternary``
  (the hardware treats it as 0 because only bit 0 enables an add).  Row ``r`` of a
  column word sits at bits ``[2r, 2r+1]``.
* Binary values travel as bits: bit 1 is +1 and bit 0 is -1 (``xnor`` mode), or, for
  the activation of the ``and`` mode (BiViT's binarized attention), bit 1 is 1 and
  bit 0 is 0.  Element ``i`` of a vector sits at bit ``i``.
* Array orientation is that of ``hw/systolic.py``: ``result[r] = sum_c act[c] * w[c][r]``.
"""

from __future__ import annotations

import numpy as np

from ...numerics.rounding import Rounding
from .arith import round_shift, saturate, wrap

TERNARY_CODES = {0: 0b00, 1: 0b01, -1: 0b11}


def pack_ternary(weights) -> np.ndarray:
    """Pack ``weights[..., rows]`` in {-1, 0, +1} into one integer word per leading index."""
    weights = np.asarray(weights, dtype=np.int64)
    if weights.size and (weights.min() < -1 or weights.max() > 1):
        bad = weights[(weights < -1) | (weights > 1)].flat[0]
        raise ValueError(f"ternary weights must be -1, 0 or +1, not {bad}")
    codes = weights & 0b11
    words = np.zeros(weights.shape[:-1], dtype=object)
    for r in range(weights.shape[-1]):
        words = words + (codes[..., r].astype(object) << (2 * r))
    return words


def unpack_ternary(words, rows: int) -> np.ndarray:
    """Inverse of ``pack_ternary``; refuses the reserved code ``10``."""
    words = np.asarray(words, dtype=object)
    out = np.zeros(words.shape + (rows,), dtype=np.int64)
    for r in range(rows):
        code = np.vectorize(lambda w, r=r: (int(w) >> (2 * r)) & 0b11, otypes=[np.int64])(words)
        if (code == 0b10).any():
            raise ValueError(f"ternary code 0b10 is reserved (row {r})")
        out[..., r] = np.where(code == 0b11, -1, code)
    return out


def ternary_matmul(act, weights, acc_bits: int) -> np.ndarray:
    """``wrap(act @ weights, acc_bits)``: ``act[..., cols]``, ``weights[cols, rows]``."""
    act, weights = np.asarray(act, dtype=np.int64), np.asarray(weights, dtype=np.int64)
    if weights.size and (weights.min() < -1 or weights.max() > 1):
        raise ValueError("ternary weights must be -1, 0 or +1")
    return wrap(act @ weights, acc_bits)


def pack_bits(bits) -> np.ndarray:
    """Pack ``bits[..., width]`` (0/1) into integers, element ``i`` at bit ``i``."""
    bits = np.asarray(bits, dtype=np.int64)
    words = np.zeros(bits.shape[:-1], dtype=object)
    for i in range(bits.shape[-1]):
        words = words + (bits[..., i].astype(object) << i)
    return words


def binary_matmul(act_bits, weight_bits, mode: str, acc_bits: int) -> np.ndarray:
    """Dot products of bit vectors, one chunk per leading index of ``act_bits``.

    ``act_bits[..., cols, width]``, ``weight_bits[cols, rows, width]`` (0/1).
    ``xnor``: ``sum(2 * popcount(xnor(a, w)) - width)`` (both are +-1 vectors).
    ``and``:  ``sum(2 * popcount(a & w) - popcount(a))`` (``a`` in {0,1}, ``w`` +-1).
    """
    a = np.asarray(act_bits, dtype=np.int64)[..., :, None, :]
    w = np.asarray(weight_bits, dtype=np.int64)
    if mode == "xnor":
        per_pe = 2 * (1 - (a ^ w)).sum(-1) - w.shape[-1]
    elif mode == "and":
        per_pe = 2 * (a & w).sum(-1) - a.sum(-1)
    else:
        raise ValueError(f"mode must be 'xnor' or 'and', not {mode!r}")
    return wrap(per_pe.sum(-2), acc_bits)


def ternary_chunk(act, weights, *, acc_bits: int) -> np.ndarray:
    """The ternary matrix unit's chunk product in the datapath tile orientation.

    ``act[..., k]``, ``weights[rows, k]`` in {-1, 0, +1} (row ``r`` is output ``r``, as
    ``arith.dense``'s weights): ``ternary_matmul(act, weights.T, acc_bits)``.
    """
    return ternary_matmul(act, np.asarray(weights, dtype=np.int64).T, acc_bits)


def binary_chunk(act, weights, *, width: int, mode: str, acc_bits: int) -> np.ndarray:
    """The binary matrix unit's chunk product on logical values, via ``binary_matmul``.

    ``act[..., cols * width]``: +-1 (``xnor``) or 0/1 (``and``); ``weights[rows, cols *
    width]``: +-1.  Element ``k`` is bit ``k % width`` of column ``k // width``.  Equals
    ``wrap(act @ weights.T, acc_bits)``; computed by popcounts, as the hardware does.
    """
    if mode not in ("xnor", "and"):
        raise ValueError(f"mode must be 'xnor' or 'and', not {mode!r}")
    act, weights = np.asarray(act, dtype=np.int64), np.asarray(weights, dtype=np.int64)
    if act.shape[-1] % width or weights.shape[-1] != act.shape[-1]:
        raise ValueError(f"chunk of {act.shape[-1]} inputs and weight tile of "
                         f"{weights.shape[-1]} must both be a multiple of width {width}")
    if not np.isin(weights, (-1, 1)).all():
        raise ValueError("binary weights must be -1 or +1")
    allowed = ((0, 1), "0 or 1") if mode == "and" else ((-1, 1), "-1 or +1")
    if not np.isin(act, allowed[0]).all():
        raise ValueError(f"{mode}-mode activations must be {allowed[1]}")
    act_bits = act if mode == "and" else (act + 1) // 2
    cols = act.shape[-1] // width
    weight_bits = ((weights + 1) // 2).reshape(len(weights), cols, width).transpose(1, 0, 2)
    return binary_matmul(act_bits.reshape(act.shape[:-1] + (cols, width)), weight_bits, mode,
                         acc_bits)


def output_scale(acc, scale, bias, shift: int, rounding: Rounding, lo: int, hi: int) -> np.ndarray:
    """``saturate(round_shift(acc * scale + bias, shift), lo, hi)`` with exact integers.

    ``scale`` and ``bias`` broadcast against ``acc``: scalars for a per-tensor scale,
    ``[lanes]`` vectors for per-output-channel ones.
    """
    acc = np.asarray(acc, dtype=object)
    value = acc * np.asarray(scale, dtype=object) + np.asarray(bias, dtype=object)
    out = saturate(round_shift(value, shift, rounding), lo, hi)
    return np.asarray(out, dtype=object).astype(np.int64)
