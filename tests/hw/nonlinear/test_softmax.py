import numpy as np
import pytest
from neurogate.hw.nonlinear.softmax import Softmax
from neurogate.numerics.nonlinear import SoftmaxConfig
from neurogate.sim.golden.nonlinear import softmax_exp, softmax_float, softmax_row
from row_units import check_back_to_back


def test_construction():
    dut = Softmax(in_bits=8, in_frac=4, out_bits=8, max_len=16, method="shiftmax")
    assert dut.config == SoftmaxConfig(8, 4, 8, 16, "shiftmax", False)
    assert len(dut.i.payload.data) == 8
    assert len(dut.o.payload.data) == 8
    assert len(Softmax(binarize=True).o.payload.data) == 1
    assert dut.row_cycles(10) == 30 + dut.row_overhead
    assert dut.row_interval(1) == dut.solver_cycles == dut.config.factor_bits + 4
    assert dut.row_interval(100) == 100
    assert Softmax(solver="pipelined").row_interval(1) == 1


@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")
@pytest.mark.parametrize("kwargs, message", [
    (dict(in_bits=1), "in_bits must be an integer from 2 to 16, not 1"),
    (dict(in_bits=17), "in_bits must be an integer from 2 to 16, not 17"),
    (dict(in_frac=13), "in_frac must be an integer from 0 to 12, not 13"),
    (dict(out_bits=1), "out_bits must be an integer from 2 to 16, not 1"),
    (dict(max_len=0), "max_len must be an integer from 1 to 4096, not 0"),
    (dict(method="exp"), "method must be one of iexp, shiftmax, not 'exp'"),
    (dict(binarize="yes"), "binarize must be True or False, not 'yes'"),
    (dict(solver="fast"), "solver must be one of serial, pipelined, not 'fast'"),
])
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Softmax(**kwargs)


def test_golden_refuses_bad_rows():
    cfg = SoftmaxConfig(max_len=4)
    with pytest.raises(ValueError, match="row length must be from 1 to 4, not 5"):
        softmax_row(cfg, [0] * 5)
    with pytest.raises(ValueError, match="logits must be in"):
        softmax_row(cfg, [200])


@pytest.mark.parametrize("method", ["iexp", "shiftmax"])
def test_golden_exp_is_close_and_monotone(method):
    cfg = SoftmaxConfig(in_bits=10, in_frac=5, method=method)
    n = np.arange(cfg.max_neg + 1)
    e = softmax_exp(cfg, n)
    assert e[0] == cfg.exp_max
    assert (np.diff(e) <= 0).all()
    bound = 2e-3 if method == "iexp" else 0.07  # I-BERT fit vs linear 2**r interpolation
    assert np.abs(e / cfg.exp_max - np.exp(-n / 32)).max() < bound


def _edge_rows(in_bits, max_len):
    lo, hi = -(1 << (in_bits - 1)), (1 << (in_bits - 1)) - 1
    return [
        [lo] * max_len,                      # all equal, most negative
        [hi] * 3,                            # all equal, most positive
        [lo] * (max_len - 1) + [hi],         # a single large logit
        [hi] + [lo] * 4,
        [0],                                 # length 1
        [lo, hi],
    ]


@pytest.mark.parametrize("method", ["iexp", "shiftmax"])
@pytest.mark.parametrize("binarize", [False, True])
def test_rows_bit_exact(rows_through, method, binarize):
    cfg = dict(in_bits=8, in_frac=4, out_bits=8, max_len=12, method=method, binarize=binarize)
    rng = np.random.default_rng(11 + binarize)
    rows = _edge_rows(8, 12) + [list(rng.integers(-128, 128, size=rng.integers(1, 13)))
                                for _ in range(10)]
    rows += [list(rng.integers(-20, 20, size=12)) for _ in range(4)]  # close logits
    got, _ = rows_through(Softmax(**cfg), rows, in_gap=1, ready_every=2)
    golden = SoftmaxConfig(**cfg)
    for row, out in zip(rows, got):
        np.testing.assert_equal(out, softmax_row(golden, row))
    if binarize:
        assert any(0 < sum(out) < len(out) for out in got)


@pytest.mark.parametrize("in_bits, in_frac, out_bits", [(16, 8, 16), (4, 0, 4), (12, 12, 10)])
def test_widths(rows_through, in_bits, in_frac, out_bits):
    cfg = dict(in_bits=in_bits, in_frac=in_frac, out_bits=out_bits, max_len=9)
    rng = np.random.default_rng(in_bits)
    lo, hi = -(1 << (in_bits - 1)), (1 << (in_bits - 1))
    rows = _edge_rows(in_bits, 9) + [list(rng.integers(lo, hi, size=9)) for _ in range(4)]
    for method in ("iexp", "shiftmax"):
        got, _ = rows_through(Softmax(**cfg, method=method), rows)
        golden = SoftmaxConfig(**cfg, method=method)
        for row, out in zip(rows, got):
            np.testing.assert_equal(out, softmax_row(golden, row))


def test_row_longer_than_max_len_is_split(rows_through):
    dut = Softmax(max_len=4)
    # ``last`` only on element 6: the unit closes a row at 4 elements, then 5, 6 form one.
    got, _ = rows_through(dut, [[1, 2, 3, 4, 5, 6]], out_rows_expected=2)
    cfg = SoftmaxConfig(max_len=4)
    np.testing.assert_equal(got[0], softmax_row(cfg, [1, 2, 3, 4]))
    np.testing.assert_equal(got[1], softmax_row(cfg, [5, 6]))


@pytest.mark.parametrize("method, solver", [("iexp", "serial"), ("shiftmax", "serial"),
                                            ("iexp", "pipelined")])
def test_row_cycles_and_accuracy(rows_through, method, solver):
    dut = Softmax(max_len=32, method=method, solver=solver)
    rng = np.random.default_rng(5)
    rows = [list(rng.integers(-128, 128, size=n)) for n in (1, 2, 7, 32)]
    got, cycles = [], []
    for row in rows:   # one at a time: the latency of a lone row
        out, cyc = rows_through(dut, [row])
        got += out
        cycles += cyc
    assert cycles == [dut.row_cycles(len(r)) for r in rows]
    # 8-bit outputs: i-exp within 1.5 output steps of float softmax, Shiftmax within 6.
    err = max(np.abs(np.array(o) / 256 - softmax_float(dut.config, r)).max()
              for r, o in zip(rows, got))
    assert err <= (1.5 if method == "iexp" else 6) / 256


@pytest.mark.parametrize("solver", ["serial", "pipelined"])
@pytest.mark.parametrize("method, binarize", [("iexp", False), ("shiftmax", True)])
def test_back_to_back_rows_overlap(method, binarize, solver):
    """Rows of at least ``solver_cycles`` (1 when pipelined) leave at one element per
    clock with no bubble; shorter rows at one row per ``solver_cycles``."""
    dut = Softmax(max_len=48, method=method, binarize=binarize, solver=solver)
    check_back_to_back(dut, softmax_row, max_len=48, count=6, seed=3)
