"""The golden arithmetic against hand-computed and independently computed values."""

import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from graphs import exact_round, fit
from neurogate.numerics.formats import IntFormat
from neurogate.numerics.rounding import Overflow, Rounding
from neurogate.sim.golden import arith


def test_wrap_two_complement():
    np.testing.assert_equal(arith.wrap(np.array([127, 128, -129, 255, 256]), 8),
                            [127, -128, 127, -1, 0])
    big = np.array([2**70 + 5], dtype=object)
    assert arith.wrap(big, 64)[0] == 5


def test_round_shift_modes_match_fractions():
    values = np.arange(-40, 41)
    for shift in range(5):
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


ROUNDINGS = list(Rounding)


@pytest.mark.parametrize("rounding", ROUNDINGS, ids=[r.value for r in ROUNDINGS])
def test_round_shift_every_mode_against_exact_fractions(rounding):
    values = np.arange(-70, 71)
    for shift in range(6):
        want = [exact_round(Fraction(int(v), 2**shift), rounding) for v in values]
        np.testing.assert_equal(arith.round_shift(values, shift, rounding), want)


# By hand: -2.5 -1.5 -0.5 0.5 1.5 2.5, then -1.75 -1.25 -0.75 -0.25 0.25 0.75 1.25 1.75.
TIES_AND_QUARTERS = {
    Rounding.FLOOR: [-3, -2, -1, 0, 1, 2, -2, -2, -1, -1, 0, 0, 1, 1],
    Rounding.CEIL: [-2, -1, 0, 1, 2, 3, -1, -1, 0, 0, 1, 1, 2, 2],
    Rounding.TRUNC: [-2, -1, 0, 0, 1, 2, -1, -1, 0, 0, 0, 0, 1, 1],
    Rounding.AWAY: [-3, -2, -1, 1, 2, 3, -2, -2, -1, -1, 1, 1, 2, 2],
    Rounding.HALF_UP: [-2, -1, 0, 1, 2, 3, -2, -1, -1, 0, 0, 1, 1, 2],
    Rounding.HALF_EVEN: [-2, -2, 0, 0, 2, 2, -2, -1, -1, 0, 0, 1, 1, 2],
    Rounding.HALF_AWAY: [-3, -2, -1, 1, 2, 3, -2, -1, -1, 0, 0, 1, 1, 2],
    Rounding.HALF_ZERO: [-2, -1, 0, 0, 1, 2, -2, -1, -1, 0, 0, 1, 1, 2],
}


def test_round_shift_and_div_ties_by_mode():
    assert set(TIES_AND_QUARTERS) == set(Rounding)
    halves = np.array([-5, -3, -1, 1, 3, 5])
    quarters = np.array([-7, -5, -3, -1, 1, 3, 5, 7])
    for rounding, want in TIES_AND_QUARTERS.items():
        got = np.concatenate([arith.round_shift(halves, 1, rounding),
                              arith.round_shift(quarters, 2, rounding)])
        np.testing.assert_equal(got, want, err_msg=rounding.value)
        got = np.concatenate([arith.round_div(halves * 3, 6, rounding),
                              arith.round_div(quarters * 5, 20, rounding)])
        np.testing.assert_equal(got, want, err_msg=rounding.value)
        assert [exact_round(Fraction(int(v), 2), rounding) for v in halves] == want[:6]


# The rounding-mode table of the QONNX Quant operator (docs/qonnx-custom-ops/quant_op.md):
# x, then ROUND (= HALF_EVEN), CEIL, FLOOR, UP, DOWN, HALF_UP, HALF_DOWN.
QONNX_TABLE = [(5.5, 6, 6, 5, 6, 5, 6, 5), (2.5, 2, 3, 2, 3, 2, 3, 2), (1.6, 2, 2, 1, 2, 1, 2, 2),
               (1.1, 1, 2, 1, 2, 1, 1, 1), (1.0, 1, 1, 1, 1, 1, 1, 1),
               (-1.0, -1, -1, -1, -1, -1, -1, -1), (-1.1, -1, -1, -2, -2, -1, -1, -1),
               (-1.6, -2, -1, -2, -2, -1, -2, -2), (-2.5, -2, -2, -3, -3, -2, -3, -2),
               (-5.5, -6, -5, -6, -6, -5, -6, -5)]
QONNX_MODES = {"ROUND": Rounding.HALF_EVEN, "CEIL": Rounding.CEIL, "FLOOR": Rounding.FLOOR,
               "UP": Rounding.AWAY, "DOWN": Rounding.TRUNC, "HALF_UP": Rounding.HALF_AWAY,
               "HALF_DOWN": Rounding.HALF_ZERO}


def test_every_qonnx_rounding_mode_is_a_rounding():
    tenths = np.array([round(row[0] * 10) for row in QONNX_TABLE])
    for column, rounding in enumerate(QONNX_MODES.values(), start=1):
        want = [row[column] for row in QONNX_TABLE]
        np.testing.assert_equal(arith.round_div(tenths, 10, rounding), want, err_msg=rounding)
        assert [exact_round(Fraction(int(t), 10), rounding) for t in tenths] == want


@pytest.mark.parametrize("rounding", ROUNDINGS, ids=[r.value for r in ROUNDINGS])
def test_round_shift_random_and_corner_values_against_fractions(rounding):
    """Random int64 and 100-bit values at random shifts, and the corners: ties either side of
    zero at shifts 1 and 2**k, exact multiples, the most negative values, shift 0 and
    shifts as wide as (or wider than) the values."""
    rng = np.random.default_rng(11)
    small = rng.integers(-(2**62), 2**62, 300)
    huge = np.array([int(v) << 40 | int(w) for v, w in zip(rng.integers(-(2**60), 2**60, 100),
                                                            rng.integers(0, 2**40, 100))],
                    dtype=object)
    corners = [-(2**63), 2**63 - 1, -(2**63) + 1, 0, 1, -1, 2, -2, 3, -3]
    for shift in (1, 2, 7, 31, 62):
        half = 1 << (shift - 1)
        corners += [k * (1 << shift) + d for k in (-3, -2, -1, 0, 1, 2) for d in (half, 0)
                    if -(2**63) <= k * (1 << shift) + d < 2**63]
    for values in (small, huge, np.array(corners, dtype=np.int64)):
        for shift in (0, 1, 2, 3, 17, 40, 62, 63, 64, 70, 101):
            want = [exact_round(Fraction(int(v), 2**shift), rounding) for v in values]
            got = arith.round_shift(values, shift, rounding)
            assert [int(v) for v in got] == want, (rounding, shift)


@pytest.mark.parametrize("rounding", ROUNDINGS, ids=[r.value for r in ROUNDINGS])
def test_round_div_random_and_corner_values_against_fractions(rounding):
    """Random numerators and divisors (int64 and 100-bit), ties (2 r == d) of both signs and
    the most negative int64 numerator."""
    rng = np.random.default_rng(12)
    num = np.concatenate([rng.integers(-(2**62), 2**62, 200), [-(2**63), 2**63 - 1]])
    den = np.concatenate([rng.integers(1, 2**20, 200), [3, 7]])
    want = [exact_round(Fraction(int(n), int(d)), rounding) for n, d in zip(num, den)]
    assert [int(v) for v in arith.round_div(num, den, rounding)] == want
    for d in (2, 6, 10, 2**40 + 2):
        ties = np.array([k * d + d // 2 for k in range(-4, 4)], dtype=object)
        want = [exact_round(Fraction(int(n), d), rounding) for n in ties]
        assert [int(v) for v in arith.round_div(ties, d, rounding)] == want
    big = np.array([(1 << 100) + 5, -(1 << 100) - 5, -(1 << 100) + 3], dtype=object)
    want = [exact_round(Fraction(int(n), 10), rounding) for n in big]
    assert [int(v) for v in arith.round_div(big, 10, rounding)] == want


@pytest.mark.parametrize("rounding", ROUNDINGS, ids=[r.value for r in ROUNDINGS])
def test_round_shift_extreme_int64_values_are_exact(rounding):
    values = np.array([-(2**63), 2**63 - 1, -(2**62) - 1, 2**62 + 2**40 + 2**39])
    for shift in (1, 40, 63):
        want = [exact_round(Fraction(int(v), 2**shift), rounding) for v in values]
        got = arith.round_shift(values, shift, rounding)
        assert [int(v) for v in got] == want


@pytest.mark.parametrize("rounding", ROUNDINGS, ids=[r.value for r in ROUNDINGS])
def test_round_div_every_mode_against_exact_fractions(rounding):
    num = np.arange(-60, 61)
    for den in (1, 2, 3, 4, 6, 7, 9, 16):
        want = [exact_round(Fraction(int(n), den), rounding) for n in num]
        np.testing.assert_equal(arith.round_div(num, den, rounding), want)
    dens = np.arange(1, 122)                      # one divisor per element
    want = [exact_round(Fraction(int(n), int(d)), rounding) for n, d in zip(num, dens)]
    np.testing.assert_equal(arith.round_div(num, dens, rounding), want)


def test_round_div_by_a_power_of_two_is_the_rounding_shift():
    values = np.arange(-100, 101)
    for rounding in ROUNDINGS:
        for shift in range(5):
            np.testing.assert_equal(arith.round_div(values, 2**shift, rounding),
                                    arith.round_shift(values, shift, rounding))


def test_bad_shift_and_divisor_are_refused():
    with pytest.raises(ValueError, match="shift must be at least 0, not -1"):
        arith.round_shift(np.array([1]), -1, Rounding.FLOOR)
    with pytest.raises(ValueError, match="the divisor must be positive"):
        arith.round_div(np.array([1]), 0, Rounding.FLOOR)


def test_wrap_unsigned_and_overflow_modes():
    np.testing.assert_equal(arith.wrap(np.array([-1, 256, 300]), 8, signed=False), [255, 0, 44])
    values = np.array([-300, -129, -128, 0, 127, 128, 300])
    signed, unsigned = IntFormat(8), IntFormat(8, signed=False)
    for fmt in (signed, unsigned):
        for mode in Overflow:
            want = [fit(int(v), fmt, mode) for v in values]
            np.testing.assert_equal(arith.overflow(values, fmt, mode), want)
    big = np.array([2**70 + 3, -(2**70) - 1], dtype=object)
    np.testing.assert_equal(arith.overflow(big, IntFormat(64), Overflow.WRAP), [3, -1])
    np.testing.assert_equal(arith.overflow(big, IntFormat(64), Overflow.SATURATE),
                            [2**63 - 1, -(2**63)])


def test_the_golden_model_imports_only_numerics():
    """Layering: ``sim/golden`` may import ``neurogate.numerics``, never compiler or hw."""
    folder = Path(arith.__file__).parent
    for path in folder.glob("*.py"):
        for line in path.read_text().splitlines():
            if line.startswith(("from ", "import ")) and "." in line.split()[1]:
                module = line.split()[1]
                assert not re.match(r"\.\.\.(?!numerics)", module), (path.name, line)
                assert "compiler" not in module and "hw" not in module, (path.name, line)
