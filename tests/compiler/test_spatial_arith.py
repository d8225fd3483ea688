"""The spatial style's arithmetic against the golden model, exhaustively over small ranges:
rounding shifts and divisions by constants (every Rounding), constant products, wrapping
and saturation, evaluated by the Amaranth simulator."""

import numpy as np
import pytest
from amaranth.hdl import Module, Signal, signed
from amaranth.sim import Simulator
from neurogate.compiler.backends.spatial import arith
from neurogate.compiler.backends.spatial.arith import Term
from neurogate.numerics.formats import IntFormat
from neurogate.numerics.rounding import Overflow, Rounding
from neurogate.sim.golden import arith as golden

LO, HI = -300, 300
VALUES = np.arange(LO, HI + 1)


def evaluate(build, lo=LO, hi=HI, width=11):
    """Drive every integer of [lo, hi] into a signed ``width``-bit input, read
    ``build(term)`` back."""
    x = Signal(signed(width))
    out_term = build(Term(x, lo, hi))
    out = Signal(signed(len(out_term.value) + 1))
    m = Module()
    m.d.comb += out.eq(out_term.value)
    got = []

    async def bench(ctx):
        for v in range(lo, hi + 1):
            ctx.set(x, v)
            got.append(ctx.get(out))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    return np.array(got), out_term


@pytest.mark.parametrize("rounding", list(Rounding))
@pytest.mark.parametrize("divisor", [1, 2, 3, 5, 6, 7, 9, 12, 25, 64])
def test_round_div_matches_golden(divisor, rounding):
    try:
        got, term = evaluate(lambda t: arith.round_div(t, divisor, rounding))
    except ValueError as error:       # a Rounding this style does not build: named
        pytest.fail(str(error))
    want = golden.round_div(VALUES, divisor, rounding)
    np.testing.assert_array_equal(got, want)
    assert term.lo <= want.min() and want.max() <= term.hi


@pytest.mark.parametrize("rounding", list(Rounding))
@pytest.mark.parametrize("shift", [0, 1, 2, 3, 5, 9])
def test_round_shift_matches_golden(shift, rounding):
    got, term = evaluate(lambda t: arith.round_shift(t, shift, rounding))
    want = golden.round_shift(VALUES, shift, rounding)
    np.testing.assert_array_equal(got, want)
    assert term.lo <= want.min() and want.max() <= term.hi


@pytest.mark.parametrize("rounding", list(Rounding))
@pytest.mark.parametrize("shift", [3, 4, 5, 9])
def test_round_shift_of_a_value_narrower_than_the_shift(shift, rounding):
    """A 4-bit signed value shifted by as many bits or more: the remainder is the
    sign-extended low bits (-8 >> 9 rounds to 0 half up, not to -1)."""
    got, term = evaluate(lambda t: arith.round_shift(t, shift, rounding), -8, 7, width=4)
    want = golden.round_shift(np.arange(-8, 8), shift, rounding)
    np.testing.assert_array_equal(got, want)
    assert term.lo <= want.min() and want.max() <= term.hi


@pytest.mark.parametrize("constant", [0, 1, -1, 3, -7, 23, -128, 127, 255, 1000])
def test_constant_product_is_exact(constant):
    got, term = evaluate(lambda t: arith.times(t, constant))
    np.testing.assert_array_equal(got, VALUES * constant)
    assert term.lo <= (VALUES * constant).min() and (VALUES * constant).max() <= term.hi


def test_csd_digits_have_no_neighbours():
    for c in range(-600, 600):
        digits = arith.csd_digits(c)
        assert sum(d << k for k, d in digits) == c
        positions = [k for k, _ in digits]
        assert all(b - a >= 2 for a, b in zip(positions, positions[1:]))


@pytest.mark.parametrize("fmt", [IntFormat(6), IntFormat(5, signed=False), IntFormat(9)])
@pytest.mark.parametrize("mode", list(Overflow))
def test_fit_matches_golden(fmt, mode):
    got, _ = evaluate(lambda t: arith.fit(t, fmt, mode))
    np.testing.assert_array_equal(got, golden.overflow(VALUES, fmt, mode))


def test_unsigned_ranges_divide_exactly():
    got, _ = evaluate(lambda t: arith.round_div(t, 7, Rounding.HALF_EVEN), lo=0, hi=600)
    np.testing.assert_array_equal(got, golden.round_div(np.arange(0, 601), 7, Rounding.HALF_EVEN))
