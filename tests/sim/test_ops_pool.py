"""ZeroPad2D, MaxPool2D, AvgPool2D and GlobalAvgPool against plain-Python loops, with padded
borders, rounding ties in every mode and saturation."""

import itertools
from fractions import Fraction

import numpy as np
import pytest
from graphs import ROUNDED_HALVES, exact_round
from neurogate.numerics.formats import IntFormat
from neurogate.numerics.rounding import Rounding
from neurogate.sim.golden import pool

ROUNDINGS = list(Rounding)


def windows(h, w, size, stride, padding):
    """For each output cell, the real (unpadded) input cells of its window."""
    top, bottom, left, right = padding
    ho = (h + top + bottom - size[0]) // stride[0] + 1
    wo = (w + left + right - size[1]) // stride[1] + 1
    for p, q in itertools.product(range(ho), range(wo)):
        cells = [(p * stride[0] + i - top, q * stride[1] + j - left)
                 for i in range(size[0]) for j in range(size[1])]
        yield p, q, [(r, s) for r, s in cells if 0 <= r < h and 0 <= s < w]


def shape_out(x, size, stride, padding):
    _, h, w, c = x.shape
    top, bottom, left, right = padding
    return (x.shape[0], (h + top + bottom - size[0]) // stride[0] + 1,
            (w + left + right - size[1]) // stride[1] + 1, c)


POOLS = [((2, 2), (2, 2), (0, 0, 0, 0)), ((3, 3), (2, 2), (1, 1, 1, 1)),
         ((2, 3), (1, 2), (1, 0, 2, 1)), ((3, 2), (3, 1), (0, 2, 0, 1)),
         ((1, 1), (1, 1), (0, 0, 0, 0))]


@pytest.mark.parametrize("size, stride, padding", POOLS)
def test_max_pool_ignores_padding(size, stride, padding):
    rng = np.random.default_rng(sum(size) + sum(padding))
    x = rng.integers(-128, -100, (2, 5, 6, 3))      # all negative: a padded 0 would win
    got = pool.max_pool2d(x, pool=size, stride=stride, padding=padding)
    want = np.zeros(shape_out(x, size, stride, padding), dtype=np.int64)
    for n, c in itertools.product(range(2), range(3)):
        for p, q, cells in windows(5, 6, size, stride, padding):
            want[n, p, q, c] = max(int(x[n, r, s, c]) for r, s in cells)
    np.testing.assert_equal(got, want)


def avg_reference(x, size, stride, padding, rounding, in_frac, out_fmt):
    want = np.zeros(shape_out(x, size, stride, padding), dtype=np.int64)
    for n, c in itertools.product(range(x.shape[0]), range(x.shape[3])):
        for p, q, cells in windows(x.shape[1], x.shape[2], size, stride, padding):
            mean = Fraction(sum(int(x[n, r, s, c]) for r, s in cells), len(cells))
            value = exact_round(mean * Fraction(2) ** (out_fmt.frac - in_frac), rounding)
            want[n, p, q, c] = min(max(value, out_fmt.min), out_fmt.max)
    return want


@pytest.mark.parametrize("rounding", ROUNDINGS, ids=[r.value for r in ROUNDINGS])
@pytest.mark.parametrize("size, stride, padding", POOLS)
def test_avg_pool_counts_only_real_cells(size, stride, padding, rounding):
    rng = np.random.default_rng(7)
    x = rng.integers(-128, 128, (2, 5, 6, 3))
    for out_fmt in (IntFormat(8, frac=2), IntFormat(10, frac=4), IntFormat(6, frac=0),
                    IntFormat(8, signed=False, frac=3)):
        got = pool.avg_pool2d(x, pool=size, stride=stride, padding=padding, rounding=rounding,
                              in_fmt=IntFormat(8, frac=2), out_fmt=out_fmt)
        np.testing.assert_equal(got, avg_reference(x, size, stride, padding, rounding, 2,
                                                   out_fmt))


@pytest.mark.parametrize("rounding", ROUNDINGS, ids=[r.value for r in ROUNDINGS])
def test_avg_pool_ties_round_by_mode(rounding):
    # windows of 2 summing to odd numbers: every average is a tie x.5
    x = np.array([-5, 0, -3, 0, -1, 0, 1, 0, 3, 0, 5, 0]).reshape(1, 1, 12, 1)
    got = pool.avg_pool2d(x, pool=(1, 2), stride=(1, 2), padding=(0, 0, 0, 0),
                          rounding=rounding, in_fmt=IntFormat(8), out_fmt=IntFormat(8))
    np.testing.assert_equal(got.ravel(), ROUNDED_HALVES[rounding])


def test_avg_pool_of_three_cells_divides_exactly():
    # a 'same' 2x2 window at a corner sees 1, 2 or 4 real cells; 3 at a 3x3 window's edge
    x = np.array([[-128, -128, -127], [-128, -128, -128], [-127, -127, -128]])
    x = x.reshape(1, 3, 3, 1)
    got = pool.avg_pool2d(x, pool=(3, 3), stride=(1, 1), padding=(1, 1, 1, 1),
                          rounding=Rounding.HALF_EVEN, in_fmt=IntFormat(8),
                          out_fmt=IntFormat(8, frac=3))
    np.testing.assert_equal(got, avg_reference(x, (3, 3), (1, 1), (1, 1, 1, 1),
                                               Rounding.HALF_EVEN, 0, IntFormat(8, frac=3)))
    assert got.min() == -128                       # -1024 saturates


@pytest.mark.parametrize("rounding", ROUNDINGS, ids=[r.value for r in ROUNDINGS])
def test_global_avg_pool(rounding):
    rng = np.random.default_rng(9)
    for shape in ((3, 5, 4), (7, 2), (1, 1, 3), (6, 1)):
        x = rng.integers(-128, 128, (4,) + shape)
        out_fmt = IntFormat(8, frac=1)
        got = pool.global_avg_pool(x, rounding=rounding, in_fmt=IntFormat(8),
                                   out_fmt=out_fmt)
        count = int(np.prod(shape[:-1]))
        want = np.zeros((4, shape[-1]), dtype=np.int64)
        for n, c in itertools.product(range(4), range(shape[-1])):
            total = sum(int(v) for v in x[n, ..., c].ravel())
            want[n, c] = min(max(exact_round(Fraction(total * 2, count), rounding), -128), 127)
        np.testing.assert_equal(got, want)


def test_global_avg_pool_extreme_values_and_negative_frac_change():
    x = np.full((1, 4, 4, 2), -(2**63))
    got = pool.global_avg_pool(x, rounding=Rounding.FLOOR, in_fmt=IntFormat(64),
                               out_fmt=IntFormat(64, frac=-1))
    np.testing.assert_equal(got, [[-(2**62), -(2**62)]])


def test_zero_pad2d():
    x = np.arange(1, 13).reshape(1, 2, 3, 2)
    got = pool.zero_pad2d(x, padding=(1, 0, 2, 1))
    assert got.shape == (1, 3, 6, 2)
    np.testing.assert_equal(got[:, 1:, 2:5, :], x)
    assert int(np.abs(got).sum()) == int(x.sum())
