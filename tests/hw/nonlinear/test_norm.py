import math

import numpy as np
import pytest

from neurogate.hw.nonlinear.config import NormConfig
from neurogate.hw.nonlinear.norm import Norm
from neurogate.sim.golden.nonlinear import isqrt_newton, norm_float, norm_row


def test_construction():
    dut = Norm(kind="rmsnorm", in_bits=8, out_bits=8, out_frac=5, max_len=16)
    assert dut.config == NormConfig("rmsnorm", 8, 8, 5, 16)
    assert len(dut.i.payload.data) == 8 and len(dut.o.payload.data) == 8
    assert dut.div_bits == max(dut.config.root_bits, dut.config.factor_bits)


@pytest.mark.parametrize("kwargs, message", [
    (dict(kind="batchnorm"), "kind must be one of layernorm, rmsnorm, not 'batchnorm'"),
    (dict(in_bits=1), "in_bits must be an integer from 2 to 16, not 1"),
    (dict(out_bits=17), "out_bits must be an integer from 2 to 16, not 17"),
    (dict(out_frac=9), "out_frac must be an integer from 0 to 8, not 9"),
    (dict(max_len=1025), "max_len must be an integer from 1 to 1024, not 1025"),
])
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Norm(**kwargs)


def test_newton_isqrt_is_exact():
    rng = np.random.default_rng(0)
    values = list(range(3000)) + [int(v) for v in rng.integers(0, 1 << 62, size=3000)]
    for v in values + [(1 << 100) - 1, 1 << 100]:
        assert isqrt_newton(v)[0] == math.isqrt(v)


def test_golden_zero_variance_and_accuracy():
    for kind in ("layernorm", "rmsnorm"):
        cfg = NormConfig(kind=kind)
        np.testing.assert_equal(norm_row(cfg, [0] * 5), [0] * 5)
        rng = np.random.default_rng(1)
        for _ in range(200):
            x = rng.integers(-128, 128, size=rng.integers(2, 65))
            want = np.clip(norm_float(cfg, x), -4, 127 / 32)
            assert np.abs(norm_row(cfg, x) / 32 - want).max() <= 0.6 / 32  # rounding + 0.1
    np.testing.assert_equal(norm_row(NormConfig(kind="layernorm"), [-7] * 9), [0] * 9)


def _rows(in_bits, max_len, rng):
    lo, hi = -(1 << (in_bits - 1)), (1 << (in_bits - 1)) - 1
    rows = [[lo] * max_len, [hi] * 3, [0] * 4, [1], [lo, hi], [lo] * (max_len - 1) + [hi],
            [0] * (max_len - 1) + [1]]
    rows += [list(rng.integers(lo, hi + 1, size=rng.integers(1, max_len + 1))) for _ in range(6)]
    return rows


@pytest.mark.parametrize("kind", ["layernorm", "rmsnorm"])
@pytest.mark.parametrize("in_bits, out_bits, out_frac, max_len",
                         [(8, 8, 5, 12), (16, 16, 10, 7), (3, 4, 2, 5)])
def test_rows_bit_exact(rows_through, kind, in_bits, out_bits, out_frac, max_len):
    cfg = dict(kind=kind, in_bits=in_bits, out_bits=out_bits, out_frac=out_frac, max_len=max_len)
    rows = _rows(in_bits, max_len, np.random.default_rng(in_bits))
    got, _ = rows_through(Norm(**cfg), rows, in_bits=in_bits, in_gap=1, ready_every=3)
    golden = NormConfig(**cfg)
    for row, out in zip(rows, got):
        np.testing.assert_equal(out, norm_row(golden, row))


def test_row_longer_than_max_len_is_split(rows_through):
    got, _ = rows_through(Norm(max_len=3), [[1, 9, -4, 7, 7]], in_bits=8, out_rows_expected=2)
    cfg = NormConfig(max_len=3)
    np.testing.assert_equal(got[0], norm_row(cfg, [1, 9, -4]))
    np.testing.assert_equal(got[1], norm_row(cfg, [7, 7]))  # zero variance: zeros
    assert got[1] == [0, 0]


@pytest.mark.parametrize("kind", ["layernorm", "rmsnorm"])
def test_row_cycles(rows_through, kind):
    dut = Norm(kind=kind, max_len=32)
    cfg = dut.config
    rows = [[3] * 4, [0] * 6, list(range(-16, 16)), [1, -1], [100]]
    _, cycles = rows_through(dut, rows, in_bits=8)
    expect = []
    for row in rows:
        x = np.array(row)
        s1 = int(x.sum()) if kind == "layernorm" else 0
        var = (len(x) * int((x * x).sum()) - s1 * s1) << (2 * cfg.guard)
        divisions = isqrt_newton(var)[1] + 1 if var else 0
        expect.append(dut.row_cycles(len(row), divisions))
    assert cycles == expect
