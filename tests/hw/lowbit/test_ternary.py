import numpy as np
import pytest
from neurogate.hw.lowbit.ternary import TernaryArray, TernaryPE
from neurogate.sim.golden.lowbit import pack_ternary, ternary_matmul, unpack_ternary


def test_construction():
    dut = TernaryArray(rows=3, cols=5, act_bits=8, acc_bits=20)
    assert dut.latency == 5
    assert len(dut.weight.as_value()) == 5 * 2 * 3
    assert len(dut.act.as_value()) == 5 * 8
    assert len(dut.result.as_value()) == 3 * 20
    assert TernaryPE(act_bits=8, acc_bits=16).latency == 1


@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")
@pytest.mark.parametrize("kwargs, message", [
    (dict(rows=0, cols=4), "array rows must be an integer from 1 to 256, not 0"),
    (dict(rows=4, cols=257), "array cols must be an integer from 1 to 256, not 257"),
    (dict(rows=4, cols=4, act_bits=1), "act_bits must be an integer from 2 to 32, not 1"),
    (dict(rows=4, cols=4, acc_bits=65), "acc_bits must be an integer from 2 to 64, not 65"),
    (dict(rows=4, cols=4, act_bits=8.0), "act_bits must be an integer, not 8.0"),
])
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TernaryArray(**kwargs)


def test_packing_is_twos_complement_and_refuses_reserved_code():
    words = pack_ternary(np.array([[0, 1, -1, 1]]))
    assert int(words[0]) == 0b01_11_01_00
    np.testing.assert_equal(unpack_ternary(words, 4), [[0, 1, -1, 1]])
    with pytest.raises(ValueError, match="ternary weights must be -1, 0 or \\+1, not 2"):
        pack_ternary(np.array([[2]]))
    with pytest.raises(ValueError, match="reserved"):
        unpack_ternary(np.array([0b10], dtype=object), 1)


def _check(skewed, rows, cols, act, weights, acc_bits=32):
    """``act[chunks, cols]``, ``weights[chunks, cols, rows]``: a fresh weight set per chunk."""
    dut = TernaryArray(rows=rows, cols=cols, act_bits=8, acc_bits=acc_bits)
    got = skewed(dut, act, pack_ternary(weights), act_width=8, weight_width=2 * rows)
    want = np.stack([ternary_matmul(act[k], weights[k], acc_bits) for k in range(len(act))])
    np.testing.assert_equal(got, want)


@pytest.mark.parametrize("rows, cols", [(4, 4), (3, 5), (1, 7), (6, 1)])
def test_random(skewed, rows, cols):
    rng = np.random.default_rng(rows * 100 + cols)
    act = rng.integers(-128, 128, size=(12, cols))
    weights = rng.integers(-1, 2, size=(12, cols, rows))
    _check(skewed, rows, cols, act, weights)


def test_most_negative_and_extremes(skewed):
    rows, cols = 3, 4
    act = np.array([[-128] * cols, [127] * cols, [-128, 127, -128, 127], [0] * cols])
    weights = np.stack([np.full((cols, rows), -1), np.full((cols, rows), 1),
                        np.tile([[-1], [1], [1], [-1]], (1, rows)), np.full((cols, rows), 1)])
    _check(skewed, rows, cols, act, weights)


def test_all_zero_weights(skewed):
    rng = np.random.default_rng(1)
    act = rng.integers(-128, 128, size=(5, 4))
    _check(skewed, 2, 4, act, np.zeros((5, 4, 2), dtype=np.int64))


def test_narrow_accumulator_wraps_like_golden(skewed):
    act = np.full((3, 6), -128)
    weights = np.full((3, 6, 2), -1)  # 6 * 128 = 768 does not fit in 9 bits
    _check(skewed, 2, 6, act, weights, acc_bits=9)


def test_reserved_code_acts_as_zero(skewed):
    dut = TernaryArray(rows=2, cols=2, act_bits=8, acc_bits=16)
    # column 0: row 0 code 10 (reserved), row 1 code 01; column 1: row 0 01, row 1 11
    got = skewed(dut, [[5, 7]], [[0b01_10, 0b11_01]], act_width=8, weight_width=4)
    np.testing.assert_equal(got, [[7, 5 - 7]])


def test_partial_sums_carry_only_reachable_bits():
    dut = TernaryArray(rows=8, cols=8, act_bits=8, acc_bits=32)
    # |sum of c+1 int8 terms| <= (c+1) * 128: 9 bits after one column, 12 after eight
    assert [dut.column_bits(c) for c in range(8)] == [9, 10, 10, 11, 11, 11, 11, 12]
    assert TernaryArray(rows=1, cols=8, act_bits=8, acc_bits=10).column_bits(7) == 10
