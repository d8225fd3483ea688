"""Data movement (Concat, Reshape, Transpose, Slice) against index loops, and the non-linear
ops applying their unit's golden row model to every row (the last axis)."""

import itertools

import numpy as np
import pytest
from neurogate.numerics.nonlinear import ActivationConfig, IGeluConfig, NormConfig, SoftmaxConfig
from neurogate.sim.golden import nonlinear, ops


def test_concat_along_each_axis():
    rng = np.random.default_rng(0)
    a, b = rng.integers(-9, 9, (2, 3, 4, 5)), rng.integers(-9, 9, (2, 3, 4, 5))
    for axis in range(3):
        got = ops.concat([a, b], axis=axis)
        size = a.shape[axis + 1]
        for index in np.ndindex(*got.shape):
            k = index[axis + 1]
            source, k = (a, k) if k < size else (b, k - size)
            assert got[index] == source[index[:axis + 1] + (k,) + index[axis + 2:]]


def test_reshape_is_row_major_per_batch_element():
    x = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    got = ops.reshape(x, shape=(4, 3))
    for n in range(2):
        flat = [int(x[n, i, j]) for i in range(3) for j in range(4)]
        assert [int(v) for v in got[n].ravel()] == flat
    assert ops.reshape(x, shape=(12,)).shape == (2, 12)


@pytest.mark.parametrize("perm", list(itertools.permutations(range(3))))
def test_transpose(perm):
    x = np.random.default_rng(1).integers(-9, 9, (2, 2, 3, 4))
    got = ops.transpose(x, perm=perm)
    for index in np.ndindex(*got.shape):
        source = [0, 0, 0]
        for out_axis, in_axis in enumerate(perm):
            source[in_axis] = index[out_axis + 1]
        assert got[index] == x[(index[0], *source)]


def test_slice_pieces_cover_the_axis():
    x = np.arange(2 * 7 * 3).reshape(2, 7, 3)
    pieces = [ops.slice_axis(x, axis=0, start=s, stop=e) for s, e in ((0, 1), (1, 5), (5, 7))]
    np.testing.assert_equal(np.concatenate(pieces, axis=1), x)
    np.testing.assert_equal(ops.slice_axis(x, axis=1, start=2, stop=3), x[:, :, 2:3])


def rows_of(fn, x):
    return np.array([fn(row) for row in x.reshape(-1, x.shape[-1])]).reshape(x.shape)


@pytest.mark.parametrize("cfg", [SoftmaxConfig(max_len=6), SoftmaxConfig(method="shiftmax"),
                                 SoftmaxConfig(binarize=True, in_bits=6, in_frac=2)])
def test_softmax_applies_the_row_model_to_every_row(cfg):
    lo, hi = -(1 << (cfg.in_bits - 1)), (1 << (cfg.in_bits - 1)) - 1
    x = np.random.default_rng(2).integers(lo, hi + 1, (3, 2, 5))
    x[0, 0] = lo                                        # a row of most negative values
    got = nonlinear.softmax(cfg, x)
    np.testing.assert_equal(got, rows_of(lambda r: nonlinear.softmax_row(cfg, r), x))
    if not cfg.binarize:
        assert got[0, 0].sum() > 0


@pytest.mark.parametrize("cfg", [NormConfig(max_len=5), NormConfig(kind="rmsnorm", max_len=5),
                                 NormConfig(max_len=5, gamma=(64, -32, 90, 1, 7),
                                            beta=(3, -4, 0, 5, -128))])
def test_norm_applies_the_row_model_to_every_row(cfg):
    x = np.random.default_rng(3).integers(-128, 128, (4, 3, 5))
    x[0, 0] = 7                                          # zero variance
    x[1, 1] = -128
    got = nonlinear.norm(cfg, x)
    np.testing.assert_equal(got, rows_of(lambda r: nonlinear.norm_row(cfg, r), x))


def test_length_one_rows():
    x = np.array([[[-128]], [[127]]])
    np.testing.assert_equal(nonlinear.softmax(SoftmaxConfig(max_len=1), x), [[[255]], [[255]]])
    np.testing.assert_equal(nonlinear.norm(NormConfig(max_len=1), x), [[[0]], [[0]]])


def test_elementwise_units_keep_any_shape():
    x = np.random.default_rng(4).integers(-128, 128, (2, 3, 4))
    for cfg in (ActivationConfig(function=f) for f in ("sigmoid", "silu", "shiftgelu")):
        np.testing.assert_equal(nonlinear.activation(cfg, x),
                                nonlinear.activation(cfg, x.ravel()).reshape(x.shape))
    cfg = IGeluConfig()
    np.testing.assert_equal(nonlinear.igelu(cfg, x),
                            nonlinear.igelu(cfg, x.ravel()).reshape(x.shape))
