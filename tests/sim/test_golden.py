"""The golden arithmetic against hand-computed and independently computed values."""

import numpy as np

from neurogate.compiler.ir import Rounding
from neurogate.sim.golden import arith


def test_wrap_two_complement():
    np.testing.assert_equal(arith.wrap(np.array([127, 128, -129, 255, 256]), 8),
                            [127, -128, 127, -1, 0])
    big = np.array([2**70 + 5], dtype=object)
    assert arith.wrap(big, 64)[0] == 5


def test_round_shift_modes_match_fractions():
    values = np.arange(-40, 41)
    for shift in range(0, 5):
        exact = values / 2**shift
        np.testing.assert_equal(arith.round_shift(values, shift, Rounding.FLOOR), np.floor(exact))
        np.testing.assert_equal(arith.round_shift(values, shift, Rounding.HALF_UP),
                                np.floor(exact + 0.5))


def test_dense_wraps_like_a_narrow_accumulator():
    x = np.array([[127, 127]])
    w = np.array([[127, 127]])
    # 2 * 127 * 127 = 32258 fits 16 bits signed; plus bias 600 overflows to negative.
    np.testing.assert_equal(arith.dense(x, w, np.array([600]), 16), [[32858 - 65536]])


def test_dense_most_negative_products_exact():
    x = np.full((1, 512), -128)
    w = np.full((3, 512), -128)
    np.testing.assert_equal(arith.dense(x, w, np.zeros(3, dtype=np.int64), 32),
                            np.full((1, 3), 128 * 128 * 512))


def test_saturate():
    np.testing.assert_equal(arith.saturate(np.array([-300, -5, 0, 200]), 0, 127), [0, 0, 0, 127])
