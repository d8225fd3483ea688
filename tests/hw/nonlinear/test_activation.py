import numpy as np
import pytest
from amaranth.sim import Simulator
from neurogate.hw.nonlinear.activation import Activation, IGelu
from neurogate.numerics.nonlinear import ActivationConfig, IGeluConfig
from neurogate.sim.golden.nonlinear import activation, activation_float, gelu_float, igelu


def test_construction():
    dut = Activation(function="silu", in_bits=8, in_frac=4, out_bits=8, out_frac=4)
    assert dut.config == ActivationConfig("silu", 8, 4, 8, 4, "iexp")
    assert dut.i.payload.shape().signed and dut.o.payload.shape().signed
    assert not Activation(function="sigmoid").o.payload.shape().signed
    assert dut.latency == 1 + 4 + 10 + 2


@pytest.mark.parametrize("kwargs, message", [
    (dict(function="tanh"), "function must be one of sigmoid, silu, shiftgelu, not 'tanh'"),
    (dict(in_bits=16), "in_bits must be an integer from 2 to 15, not 16"),
    (dict(in_frac=-1), "in_frac must be an integer from 0 to 12, not -1"),
    (dict(out_bits=17), "out_bits must be an integer from 2 to 16, not 17"),
    (dict(out_frac=15), "out_frac must be an integer from 0 to 14, not 15"),
    (dict(method="taylor"), "method must be one of iexp, shiftmax, not 'taylor'"),
])
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Activation(**kwargs)


def run_stream(dut, values, *, in_gap=0, ready_every=1):
    """Returns (outputs, cycle of first output - cycle of first input, cycles in total)."""
    got, first = [], []

    async def bench(ctx):
        sent, cycle = 0, 0
        while len(got) < len(values):
            offer = sent < len(values) and cycle % (in_gap + 1) == 0
            ctx.set(dut.i.valid, offer)
            if offer:
                ctx.set(dut.i.payload, int(values[sent]))
            ready = cycle % ready_every == 0
            ctx.set(dut.o.ready, ready)
            await ctx.delay(1e-9)
            if offer and ctx.get(dut.i.ready):
                sent += 1
                first.append(cycle)
            if ctx.get(dut.o.valid) and ready:
                got.append(ctx.get(dut.o.payload))  # the simulator returns signed ints
                first.append(cycle)
            await ctx.tick()
            cycle += 1
            assert cycle < 50 * len(values) + 200

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return np.array(got), first


@pytest.mark.parametrize("function", ["sigmoid", "silu", "shiftgelu"])
@pytest.mark.parametrize("method", ["iexp", "shiftmax"])
def test_exhaustive_8bit(function, method):
    """Every int8 input, with idle cycles and back-pressure."""
    kwargs = dict(function=function, in_bits=8, in_frac=4, out_bits=8, out_frac=4, method=method)
    values = np.arange(-128, 128)
    got, _ = run_stream(Activation(**kwargs), values, in_gap=1, ready_every=2)
    np.testing.assert_equal(got, activation(ActivationConfig(**kwargs), values))


@pytest.mark.parametrize("function", ["sigmoid", "silu", "shiftgelu"])
def test_wide_random_and_edges(function):
    kwargs = dict(function=function, in_bits=14, in_frac=9, out_bits=12, out_frac=8)
    rng = np.random.default_rng(3)
    values = np.concatenate([[-(1 << 13), (1 << 13) - 1, 0, -1, 1],
                             rng.integers(-(1 << 13), 1 << 13, size=120)])
    got, _ = run_stream(Activation(**kwargs), values)
    np.testing.assert_equal(got, activation(ActivationConfig(**kwargs), values))


@pytest.mark.parametrize("make", [lambda: Activation(function="silu"),
                                  lambda: Activation(function="shiftgelu", method="shiftmax"),
                                  lambda: IGelu()])
def test_one_element_per_clock_after_fill(make):
    dut = make()
    values = np.arange(-50, 50)
    # with o always ready: input k accepted at cycle k, result k at cycle k + latency
    cycles = []

    async def bench(ctx):
        ctx.set(dut.o.ready, 1)
        for cycle in range(len(values) + dut.latency + 2):
            ctx.set(dut.i.valid, cycle < len(values))
            if cycle < len(values):
                ctx.set(dut.i.payload, int(values[cycle]))
            await ctx.delay(1e-9)
            assert ctx.get(dut.i.ready)
            if ctx.get(dut.o.valid):
                cycles.append(cycle)
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert cycles == list(range(dut.latency, dut.latency + len(values)))


@pytest.mark.parametrize("function, bound", [("sigmoid", 1.5 / 256), ("silu", 0.06),
                                             ("shiftgelu", 0.12)])
def test_golden_accuracy_iexp(function, bound):
    """Whole int8 range, Q3.4 in and out: sigmoid within 1.5 output steps; SiLU within
    one output step (1/16) of float; ShiftGELU's 1.702 ~ 1.6875 and sigmoid-for-erf
    cost it two steps."""
    cfg = ActivationConfig(function=function)
    x = np.arange(-128, 128)
    scale = 2.0 ** -(cfg.out_bits if function == "sigmoid" else cfg.out_frac)
    err = np.abs(activation(cfg, x) * scale - activation_float(cfg, x)).max()
    assert err <= bound, err


def test_igelu_construction_and_bad_parameters():
    dut = IGelu(in_bits=12, in_frac=8, out_bits=10, out_frac=6)
    assert dut.config == IGeluConfig(12, 8, 10, 6)
    assert dut.latency == 5
    for kwargs, message in [(dict(in_bits=17), "in_bits must be an integer from 2 to 16, not 17"),
                            (dict(in_frac=13), "in_frac must be an integer from 0 to 12, not 13"),
                            (dict(out_bits=1), "out_bits must be an integer from 2 to 16, not 1"),
                            (dict(out_frac=17),
                             "out_frac must be an integer from 0 to 16, not 17")]:
        with pytest.raises(ValueError, match=message):
            IGelu(**kwargs)


@pytest.mark.parametrize("kwargs", [dict(), dict(in_bits=12, in_frac=8, out_bits=12, out_frac=8),
                                    dict(in_bits=16, in_frac=12, out_bits=16, out_frac=12),
                                    dict(in_bits=4, in_frac=0, out_bits=3, out_frac=0)])
def test_igelu_bit_exact(kwargs):
    cfg = IGeluConfig(**kwargs)
    lo, hi = -(1 << (cfg.in_bits - 1)), 1 << (cfg.in_bits - 1)
    rng = np.random.default_rng(cfg.in_bits)
    values = np.arange(lo, hi) if cfg.in_bits <= 12 else np.concatenate(
        [[lo, hi - 1, 0, -1, 1], rng.integers(lo, hi, size=400)])
    got, _ = run_stream(IGelu(**kwargs), values, in_gap=1, ready_every=2)
    np.testing.assert_equal(got, igelu(cfg, values))


def test_igelu_golden_accuracy():
    """Whole Q7.8 range: within 0.02 of float GELU (the erf fit dominates)."""
    cfg = IGeluConfig(in_bits=12, in_frac=8, out_bits=12, out_frac=8)
    x = np.arange(-2048, 2048)
    assert np.abs(igelu(cfg, x) / 256 - gelu_float(8, x)).max() < 0.02
