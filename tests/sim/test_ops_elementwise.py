"""Requantize, Add, Mul, ReLU, Clip and SignBinarize against exact Python integers and
fractions: every rounding mode, saturation and wrapping, per-channel multipliers."""

import itertools
from fractions import Fraction

import numpy as np
import pytest
from graphs import ROUNDED_HALVES, exact_round, fit
from neurogate.numerics.formats import BinaryFormat, IntFormat, TernaryFormat
from neurogate.numerics.rounding import Overflow, Rounding
from neurogate.sim.golden import ops

ROUNDINGS = list(Rounding)
MODES = list(itertools.product(Rounding, Overflow))
IDS = [f"{r.value}-{o.value}" for r, o in MODES]
TWO = Fraction(2)


def reference(values, scale: Fraction, rounding, fmt, overflow):
    return np.array([fit(exact_round(int(v) * scale, rounding), fmt, overflow)
                     for v in np.ravel(values)]).reshape(np.shape(values))


@pytest.mark.parametrize("rounding, overflow", MODES, ids=IDS)
def test_requantize_power_of_two(rounding, overflow):
    x = np.concatenate([np.arange(-600, 600, 7), [-(2**31), 2**31 - 1, -1, 0, 1]])
    for shift, fmt in ((0, IntFormat(8)), (3, IntFormat(8)), (5, IntFormat(4, signed=False)),
                       (31, IntFormat(2))):
        got = ops.requantize(x, shift=shift, rounding=rounding, overflow_mode=overflow,
                                     out_fmt=fmt)
        np.testing.assert_equal(got, reference(x, Fraction(1, 2**shift), rounding, fmt,
                                               overflow))


@pytest.mark.parametrize("rounding, overflow", MODES, ids=IDS)
def test_requantize_multiplier_per_tensor_and_per_channel(rounding, overflow):
    rng = np.random.default_rng(5)
    x = rng.integers(-(2**20), 2**20, (6, 3, 4))
    fmt = IntFormat(8)
    got = ops.requantize(x, shift=22, rounding=rounding, overflow_mode=overflow,
                                 out_fmt=fmt, multiplier=np.array(-12345))
    np.testing.assert_equal(got, reference(x, Fraction(-12345, 2**22), rounding, fmt, overflow))
    m = np.array([1, 2**31 - 1, -(2**31), 777])
    got = ops.requantize(x, shift=30, rounding=rounding, overflow_mode=overflow,
                                 out_fmt=fmt, multiplier=m)
    want = np.stack([reference(x[..., c], Fraction(int(m[c]), 2**30), rounding, fmt, overflow)
                     for c in range(4)], axis=-1)
    np.testing.assert_equal(got, want)


def test_requantize_most_negative_int64_with_a_multiplier():
    x = np.array([-(2**63), 2**63 - 1])
    got = ops.requantize(x, shift=62, rounding=Rounding.HALF_EVEN,
                                 overflow_mode=Overflow.SATURATE, out_fmt=IntFormat(64),
                                 multiplier=np.array(3))
    np.testing.assert_equal(got, [-6, 6])


def operand(fmt, rng, n=400):
    values = rng.integers(fmt.min, fmt.max + 1, n)
    return np.where(values == 0, 1, values) if isinstance(fmt, BinaryFormat) else values


PAIRS = [(IntFormat(8, frac=3), IntFormat(8, frac=5), IntFormat(8, frac=2)),
         (IntFormat(8, frac=-2), IntFormat(6, signed=False, frac=1), IntFormat(9, frac=4)),
         (IntFormat(16, frac=8), IntFormat(16, frac=8), IntFormat(4, signed=False, frac=5)),
         (BinaryFormat(frac=2), TernaryFormat(), IntFormat(4, frac=1)),
         (IntFormat(64, frac=0), IntFormat(64, frac=3), IntFormat(64, frac=1))]


@pytest.mark.parametrize("rounding, overflow", MODES, ids=IDS)
def test_add_aligns_scales_then_rounds_once(rounding, overflow):
    rng = np.random.default_rng(6)
    for a_fmt, b_fmt, out_fmt in PAIRS:
        a, b = operand(a_fmt, rng), operand(b_fmt, rng)
        got = ops.add(a, b, a_fmt=a_fmt, b_fmt=b_fmt, out_fmt=out_fmt,
                              rounding=rounding, overflow_mode=overflow)
        want = [fit(exact_round((u * TWO ** -a_fmt.frac + v * TWO ** -b_fmt.frac)
                                * TWO ** out_fmt.frac, rounding), out_fmt, overflow)
                for u, v in zip(a.tolist(), b.tolist())]
        np.testing.assert_equal(got, want)


@pytest.mark.parametrize("rounding, overflow", MODES, ids=IDS)
def test_mul_rounds_the_exact_product(rounding, overflow):
    rng = np.random.default_rng(8)
    for a_fmt, b_fmt, out_fmt in PAIRS:
        a, b = operand(a_fmt, rng), operand(b_fmt, rng)
        got = ops.mul(a, b, a_fmt=a_fmt, b_fmt=b_fmt, out_fmt=out_fmt,
                              rounding=rounding, overflow_mode=overflow)
        want = [fit(exact_round(u * v * TWO ** (out_fmt.frac - a_fmt.frac - b_fmt.frac),
                                rounding), out_fmt, overflow)
                for u, v in zip(a.tolist(), b.tolist())]
        np.testing.assert_equal(got, want)


def test_add_ties_by_mode():
    a = np.array([-5, -3, -1, 1, 3, 5])                 # frac 1: -2.5 ... 2.5
    b = np.zeros(6, dtype=np.int64)
    assert set(ROUNDED_HALVES) == set(Rounding)
    for rounding, expected in ROUNDED_HALVES.items():
        got = ops.add(a, b, a_fmt=IntFormat(8, frac=1), b_fmt=IntFormat(8),
                              out_fmt=IntFormat(8), rounding=rounding,
                              overflow_mode=Overflow.SATURATE)
        np.testing.assert_equal(got, expected)


def test_relu_clip_and_sign_binarize():
    x = np.array([[-128, -1, 0, 1, 127]])
    np.testing.assert_equal(ops.relu(x), [[0, 0, 0, 1, 127]])
    np.testing.assert_equal(ops.clip(x, lo=-1, hi=0), [[-1, -1, 0, 0, 0]])
    np.testing.assert_equal(ops.sign_binarize(x), [[-1, -1, 1, 1, 1]])
