"""Dense, Conv2D, MatMul and the fused DenseLayer against plain-Python loops over integers."""

import itertools
from fractions import Fraction

import numpy as np
import pytest
from graphs import exact_round
from neurogate.numerics.formats import IntFormat
from neurogate.numerics.rounding import Rounding
from neurogate.sim.golden import linear


def wrap_int(value: int, width: int) -> int:
    value %= 1 << width
    return value - (1 << width) if value >= 1 << (width - 1) else value


def dense_loops(x, w, b, width):
    out = np.zeros(x.shape[:-1] + (w.shape[0],), dtype=object)
    for index in np.ndindex(*x.shape[:-1]):
        for n in range(w.shape[0]):
            total = int(b[n]) + sum(int(x[index + (k,)]) * int(w[n, k])
                                    for k in range(w.shape[1]))
            out[index + (n,)] = wrap_int(total, width)
    return out


def conv_loops(x, w, b, stride, padding, dilation, groups, width):
    batch, h, wd, _ = x.shape
    kh, kw, cg, o = w.shape
    top, bottom, left, right = padding
    ho = (h + top + bottom - (kh - 1) * dilation[0] - 1) // stride[0] + 1
    wo = (wd + left + right - (kw - 1) * dilation[1] - 1) // stride[1] + 1
    og = o // groups
    out = np.zeros((batch, ho, wo, o), dtype=object)
    for n, p, q, oc in itertools.product(range(batch), range(ho), range(wo), range(o)):
        g = oc // og
        total = int(b[oc])
        for i, j, ci in itertools.product(range(kh), range(kw), range(cg)):
            r = p * stride[0] + i * dilation[0] - top
            s = q * stride[1] + j * dilation[1] - left
            if 0 <= r < h and 0 <= s < wd:         # a padded cell adds nothing
                total += int(x[n, r, s, g * cg + ci]) * int(w[i, j, ci, oc])
        out[n, p, q, oc] = wrap_int(total, width)
    return out


def test_dense_over_the_last_axis_with_leading_axes():
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, (3, 4, 5, 7))
    w, b = rng.integers(-128, 128, (6, 7)), rng.integers(-999, 999, 6)
    np.testing.assert_equal(linear.dense(x, w, b, acc_width=18), dense_loops(x, w, b, 18))


def test_dense_most_negative_values_and_wide_accumulators():
    x = np.full((2, 300), -(2**31))
    w = np.full((2, 300), -(2**31))
    b = np.array([-(2**62), 2**62])
    for width in (64, 40, 16):
        np.testing.assert_equal(linear.dense(x, w, b, acc_width=width),
                                dense_loops(x, w, b, width))


@pytest.mark.parametrize("values", [(-1, 1), (-1, 0, 1)], ids=["binary", "ternary"])
def test_dense_binary_and_ternary_weights_are_integer_arithmetic(values):
    rng = np.random.default_rng(1)
    x, w = rng.integers(-8, 8, (5, 9)), rng.choice(values, (4, 9))
    b = rng.integers(-5, 5, 4)
    np.testing.assert_equal(linear.dense(x, w, b, acc_width=8), dense_loops(x, w, b, 8))


CONVS = [  # (H, W, C, kh, kw, O, stride, padding, dilation, groups)
    (5, 6, 3, 3, 3, 4, (1, 1), (1, 1, 1, 1), (1, 1), 1),
    (7, 5, 2, 3, 2, 3, (2, 1), (0, 2, 1, 0), (1, 2), 1),
    (6, 6, 4, 3, 3, 4, (2, 2), (1, 0, 0, 1), (1, 1), 4),      # depthwise
    (6, 7, 4, 2, 3, 8, (1, 3), (0, 0, 0, 0), (2, 1), 2),      # grouped, multiplier 2
    (4, 4, 6, 1, 1, 6, (1, 1), (0, 0, 0, 0), (1, 1), 3),      # pointwise groups
    (1, 1, 2, 3, 3, 2, (1, 1), (1, 1, 1, 1), (1, 1), 1),      # every tap but one padded
    (5, 5, 1, 5, 5, 1, (5, 5), (0, 0, 0, 0), (1, 1), 1),      # one window
]


@pytest.mark.parametrize("case", CONVS)
def test_conv2d_against_loops(case):
    h, w, c, kh, kw, o, stride, padding, dilation, groups = case
    rng = np.random.default_rng(h * 31 + c)
    x = rng.integers(-128, 128, (2, h, w, c))
    weights = rng.integers(-128, 128, (kh, kw, c // groups, o))
    bias = rng.integers(-5000, 5000, o)
    got = linear.conv2d(x, weights, bias, stride=stride, padding=padding, dilation=dilation,
                        groups=groups, acc_width=20)
    np.testing.assert_equal(got, conv_loops(x, weights, bias, stride, padding, dilation,
                                            groups, 20))


def test_conv2d_most_negative_values_wrap_like_the_accumulator():
    x = np.full((1, 4, 4, 8), -128)
    w = np.full((3, 3, 8, 2), -128)
    b = np.array([0, -1])
    for width in (32, 16):
        got = linear.conv2d(x, w, b, stride=(1, 1), padding=(1, 1, 1, 1), dilation=(1, 1),
                            groups=1, acc_width=width)
        np.testing.assert_equal(got, conv_loops(x, w, b, (1, 1), (1, 1, 1, 1), (1, 1), 1,
                                                width))


@pytest.mark.parametrize("transpose_b", [False, True])
def test_matmul_against_loops(transpose_b):
    rng = np.random.default_rng(2)
    a = rng.integers(-128, 128, (2, 3, 4, 5))      # batch, heads, tokens, features
    b = rng.integers(-128, 128, (2, 3, 6, 5) if transpose_b else (2, 3, 5, 6))
    got = linear.matmul(a, b, transpose_b=transpose_b, acc_width=16)
    want = np.zeros((2, 3, 4, 6), dtype=object)
    for n, h, i, j in itertools.product(range(2), range(3), range(4), range(6)):
        total = sum(int(a[n, h, i, k]) * int(b[n, h, j, k] if transpose_b else b[n, h, k, j])
                    for k in range(5))
        want[n, h, i, j] = wrap_int(total, 16)
    np.testing.assert_equal(got, want)


def test_matmul_of_length_one_axes():
    a, b = np.array([[[-128]]]), np.array([[[-128]]])
    np.testing.assert_equal(linear.matmul(a, b, transpose_b=False, acc_width=16), [[[16384]]])
    np.testing.assert_equal(linear.matmul(a, b, transpose_b=False, acc_width=15), [[[-16384]]])


@pytest.mark.parametrize("rounding", [Rounding.FLOOR, Rounding.HALF_UP])
def test_dense_layer_is_dense_then_rounding_shift_then_relu_clamp(rounding):
    rng = np.random.default_rng(3)
    x, w, b = rng.integers(-128, 128, (20, 6)), rng.integers(-128, 128, (5, 6)), np.zeros(5)
    fmt = IntFormat(6)
    for relu in (False, True):
        got = linear.dense_layer(x, w, b, acc_width=32, shift=7, rounding=rounding, relu=relu,
                                 out_fmt=fmt)
        lo = 0 if relu else fmt.min
        want = [[min(max(exact_round(Fraction(int(v), 2**7), rounding), lo), fmt.max)
                 for v in row] for row in dense_loops(x, w, b, 32)]
        np.testing.assert_equal(got, want)


def test_conv2d_and_matmul_beyond_int64_are_exact_then_wrapped():
    rng = np.random.default_rng(4)
    x = rng.integers(-(2**40), 2**40, (1, 3, 3, 4))
    w = rng.integers(-(2**30), 2**30, (2, 2, 2, 4))
    b = np.array([2**62, -(2**62), 5, -5])
    got = linear.conv2d(x, w, b, stride=(1, 1), padding=(0, 1, 1, 0), dilation=(1, 1),
                        groups=2, acc_width=64)
    np.testing.assert_equal(got, conv_loops(x, w, b, (1, 1), (0, 1, 1, 0), (1, 1), 2, 64))
    a, v = rng.integers(-(2**40), 2**40, (2, 3, 4)), rng.integers(-(2**40), 2**40, (2, 4, 2))
    want = [[[wrap_int(sum(int(a[n, i, k]) * int(v[n, k, j]) for k in range(4)), 60)
              for j in range(2)] for i in range(3)] for n in range(2)]
    np.testing.assert_equal(linear.matmul(a, v, transpose_b=False, acc_width=60), want)
