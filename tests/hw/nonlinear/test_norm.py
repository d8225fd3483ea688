import math

import numpy as np
import pytest
from amaranth.hdl import Elaboratable, Module, Signal
from amaranth.sim import Simulator
from neurogate.hw.nonlinear.norm import Norm
from neurogate.hw.nonlinear.rows import (
    SerialReciprocal,
    SerialSqrt,
    reciprocal_pipeline,
    sqrt_pipeline,
)
from neurogate.numerics.nonlinear import NormConfig
from neurogate.sim.golden.nonlinear import isqrt_newton, norm_float, norm_row
from row_units import check_back_to_back


def test_construction():
    dut = Norm(kind="rmsnorm", in_bits=8, out_bits=8, out_frac=5, max_len=16)
    assert dut.config == NormConfig("rmsnorm", 8, 8, 5, 16)
    assert len(dut.i.payload.data) == 8 and len(dut.o.payload.data) == 8
    assert dut.root_bits == (dut.config.var_bits + 1) // 2
    assert dut.row_interval(1) == dut.solver_cycles == dut.root_bits + dut.config.factor_bits + 6


@pytest.mark.parametrize("kwargs, message", [
    (dict(kind="batchnorm"), "kind must be one of layernorm, rmsnorm, not 'batchnorm'"),
    (dict(in_bits=1), "in_bits must be an integer from 2 to 16, not 1"),
    (dict(out_bits=17), "out_bits must be an integer from 2 to 16, not 17"),
    (dict(out_frac=9), "out_frac must be an integer from 0 to 8, not 9"),
    (dict(max_len=1025), "max_len must be an integer from 1 to 1024, not 1025"),
    (dict(max_len=3, gamma=[64, 64]), "gamma must have max_len = 3 values, not 2"),
    (dict(max_len=2, gamma=[64, 128]), r"gamma\[1\] must be an integer from -128 to 127, not 128"),
    (dict(max_len=2, gamma=[1, 1], beta=[0, -129]),
     r"beta\[1\] must be an integer from -128 to 127, not -129"),
    (dict(max_len=2, beta=[0, 0]), "beta needs gamma"),
    (dict(gamma_bits=19), "gamma_bits must be an integer from 2 to 18, not 19"),
    (dict(gamma_frac=9), "gamma_frac must be an integer from 0 to 8, not 9"),
    (dict(solver="fast"), "solver must be one of serial, pipelined, not 'fast'"),
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
    got, _ = rows_through(Norm(**cfg), rows, in_gap=1, ready_every=3)
    golden = NormConfig(**cfg)
    for row, out in zip(rows, got):
        np.testing.assert_equal(out, norm_row(golden, row))


def test_row_longer_than_max_len_is_split(rows_through):
    got, _ = rows_through(Norm(max_len=3), [[1, 9, -4, 7, 7]], out_rows_expected=2)
    cfg = NormConfig(max_len=3)
    np.testing.assert_equal(got[0], norm_row(cfg, [1, 9, -4]))
    np.testing.assert_equal(got[1], norm_row(cfg, [7, 7]))  # zero variance: zeros
    assert got[1] == [0, 0]


@pytest.mark.parametrize("solver", ["serial", "pipelined"])
@pytest.mark.parametrize("kind", ["layernorm", "rmsnorm"])
def test_row_cycles(rows_through, kind, solver):
    """A lone row's latency does not depend on the data (digit-by-digit root)."""
    dut = Norm(kind=kind, max_len=32, solver=solver)
    for row in ([3] * 4, [0] * 6, list(range(-16, 16)), [1, -1], [100]):
        _, cycles = rows_through(dut, [row])
        assert cycles == [dut.row_cycles(len(row))]


@pytest.mark.parametrize("solver", ["serial", "pipelined"])
@pytest.mark.parametrize("kind", ["layernorm", "rmsnorm"])
def test_back_to_back_rows_overlap(kind, solver):
    dut = Norm(kind=kind, max_len=96, solver=solver)
    check_back_to_back(dut, norm_row, max_len=96, count=5, seed=4)


def _serial_results(dut, operand, operands, result):
    """Start ``dut`` on each of ``operands`` (set on port ``operand``) in turn; ``done``
    must rise exactly ``dut.cycles`` clocks after ``start``.  Returns port ``result``."""
    got = []

    async def bench(ctx):
        for value in operands:
            ctx.set(operand, value)
            ctx.set(dut.start, 1)
            await ctx.tick()
            ctx.set(dut.start, 0)
            for _ in range(dut.cycles):
                assert not ctx.get(dut.done)
                await ctx.tick()
            assert ctx.get(dut.done)
            got.append(ctx.get(result))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return got


@pytest.mark.parametrize("value_bits", [1, 2, 7, 12])
def test_serial_sqrt_every_value(value_bits):
    dut = SerialSqrt(value_bits=value_bits)
    values = range(1 << value_bits)
    assert _serial_results(dut, dut.value, values, dut.root) == [math.isqrt(v) for v in values]


def test_serial_reciprocal():
    dut = SerialReciprocal(shift=20, divisor_bits=12, quotient_bits=12)
    divisors = [257, 258, 300, 1000, 2047, 4095]   # all > 2**(20 - 12)
    assert _serial_results(dut, dut.divisor, divisors, dut.quotient) == \
        [(1 << 20) // d for d in divisors]


class _Unrolled(Elaboratable):
    """``reciprocal_pipeline`` or ``sqrt_pipeline`` with an operand input and a stall."""

    def __init__(self, kind: str, operand_bits: int):
        self.kind = kind
        self.operand = Signal(operand_bits)
        self.enable = Signal()
        self.result = Signal(32)
        self.stages = 12 if kind == "reciprocal" else (operand_bits + 1) // 2

    def elaborate(self, platform):
        m = Module()
        if self.kind == "reciprocal":
            out = reciprocal_pipeline(m, self.operand, self.enable, shift=20, quotient_bits=12)
        else:
            out = sqrt_pipeline(m, self.operand, self.enable)
        m.d.comb += self.result.eq(out)
        return m


@pytest.mark.parametrize("kind, operands, want", [
    ("sqrt", range(1 << 12), math.isqrt),
    ("reciprocal", range(257, 4096, 7), lambda d: (1 << 20) // d),
])
def test_unrolled_units_one_operand_per_clock(kind, operands, want):
    """A new operand every enabled clock; results ``stages`` enabled clocks later, with
    random stall cycles in between that must not disturb the pipeline."""
    dut = _Unrolled(kind, 12)
    operands = list(operands)
    got = []

    async def bench(ctx):
        rng = np.random.default_rng(1)
        moves = 0
        k = 0
        while len(got) < len(operands):
            enable = bool(rng.random() < 0.8)
            ctx.set(dut.enable, enable)
            ctx.set(dut.operand, operands[k] if k < len(operands) else 0)
            if enable:
                if moves >= dut.stages:   # the value that entered ``stages`` moves ago
                    got.append(ctx.get(dut.result))
                moves += 1
                k += 1
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert got == [want(v) for v in operands]


@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")
def test_serial_units_refuse_bad_widths():
    with pytest.raises(ValueError, match="quotient_bits must be an integer from 1 to 8, not 9"):
        SerialReciprocal(shift=8, divisor_bits=4, quotient_bits=9)
    with pytest.raises(ValueError, match="value_bits must be an integer from 1 to 256, not 0"):
        SerialSqrt(value_bits=0)


@pytest.mark.parametrize("kind", ["layernorm", "rmsnorm"])
@pytest.mark.parametrize("in_bits, out_bits, out_frac, max_len, gamma_bits, gamma_frac",
                         [(8, 8, 5, 12, 8, 6), (3, 4, 0, 5, 2, 0), (16, 16, 16, 7, 18, 18)])
def test_affine_rows_bit_exact(rows_through, kind, in_bits, out_bits, out_frac, max_len,
                               gamma_bits, gamma_frac):
    """Per-channel gamma/beta, extremes included (most negative gamma and beta)."""
    rng = np.random.default_rng(max_len)
    g_lo, g_hi = -(1 << (gamma_bits - 1)), (1 << (gamma_bits - 1)) - 1
    gamma = [g_lo, g_hi] + [int(v) for v in rng.integers(g_lo, g_hi + 1, size=max_len - 2)]
    b_lo = -(1 << (out_bits - 1))
    beta = [b_lo] + [int(v) for v in rng.integers(b_lo, -b_lo, size=max_len - 1)]
    cfg = dict(kind=kind, in_bits=in_bits, out_bits=out_bits, out_frac=out_frac,
               max_len=max_len, gamma=gamma, beta=beta, gamma_bits=gamma_bits,
               gamma_frac=gamma_frac)
    dut = Norm(**cfg, solver="pipelined" if max_len == 7 else "serial")
    rows = _rows(in_bits, max_len, rng)
    got, _ = rows_through(dut, rows, in_gap=1, ready_every=3)
    for row, out in zip(rows, got):
        np.testing.assert_equal(out, norm_row(dut.config, row))
    _, cycles = rows_through(dut, [rows[0]])
    assert cycles == [dut.row_cycles(len(rows[0]))]


def test_affine_golden():
    """Zero variance gives beta; otherwise within a rounding step of the float affine
    norm (plus the reciprocal's and root's quarter steps)."""
    cfg = NormConfig(max_len=4, gamma=[64, -32, 127, 0], beta=[16, -16, 3, -128])
    np.testing.assert_equal(norm_row(cfg, [5, 5, 5]), [16, -16, 3])
    cfg = NormConfig(gamma=[64] * 64, beta=[16] * 64)
    rng = np.random.default_rng(1)
    for _ in range(200):
        x = rng.integers(-128, 128, size=64)
        want = np.clip(norm_float(cfg, x), -4, 127 / 32)
        assert np.abs(norm_row(cfg, x) / 32 - want).max() <= 0.6 / 32


def test_numpy_gamma_and_beta_are_stored_as_python_integers():
    """NumPy int64 channel values would overflow in the golden's wide affine products."""
    import numpy as np
    from neurogate.numerics.nonlinear import NormConfig

    cfg = NormConfig(kind="layernorm", in_bits=8, max_len=4, gamma=np.array([1, -2, 3, 4]),
                     beta=np.array([5, 6, -7, 8]))
    assert all(type(v) is int for v in cfg.gamma + cfg.beta)
