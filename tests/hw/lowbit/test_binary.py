import numpy as np
import pytest
from neurogate.hw.lowbit.binary import BinaryArray, BinaryPE
from neurogate.sim.golden.lowbit import binary_matmul, pack_bits


def test_construction():
    dut = BinaryArray(rows=2, cols=3, width=16, acc_bits=12, mode="and")
    assert dut.latency == 3
    assert len(dut.act.as_value()) == 3 * 16
    assert len(dut.weight.as_value()) == 3 * 2 * 16
    assert len(dut.result.as_value()) == 2 * 12
    assert BinaryPE(width=5, acc_bits=8).latency == 1


@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")
@pytest.mark.parametrize("kwargs, message", [
    (dict(rows=0, cols=2, width=8), "array rows must be an integer from 1 to 256, not 0"),
    (dict(rows=2, cols=-1, width=8), "array cols must be an integer from 1 to 256, not -1"),
    (dict(rows=2, cols=2, width=0), "vector width must be an integer from 1 to 1024, not 0"),
    (dict(rows=2, cols=2, width=1025), "vector width must be an integer from 1 to 1024, not 1025"),
    (dict(rows=2, cols=2, width=8, acc_bits=1), "acc_bits must be an integer from 2 to 64, not 1"),
    (dict(rows=2, cols=2, width=8, mode="or"), "mode must be one of xnor, and, not 'or'"),
])
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BinaryArray(**kwargs)


def _run(skewed, rows, cols, width, act, weights, mode, acc_bits=16):
    """``act[chunks, cols, width]`` bits; ``weights[chunks, cols, rows, width]`` bits."""
    dut = BinaryArray(rows=rows, cols=cols, width=width, acc_bits=acc_bits, mode=mode)
    act_words = pack_bits(act)
    # column word: row r's width-bit vector at bits [r*width, (r+1)*width)
    per_row = pack_bits(weights)  # [chunks, cols, rows]
    weight_words = np.zeros(per_row.shape[:2], dtype=object)
    for r in range(rows):
        weight_words = weight_words + (per_row[..., r] << (r * width))
    got = skewed(dut, act_words, weight_words, act_width=width, weight_width=rows * width)
    want = np.stack([binary_matmul(act[k], weights[k], mode, acc_bits) for k in range(len(act))])
    np.testing.assert_equal(got, want)
    return got


@pytest.mark.parametrize("mode", ["xnor", "and"])
@pytest.mark.parametrize("rows, cols, width", [(3, 4, 8), (2, 3, 5), (1, 1, 1), (4, 2, 33)])
def test_random(skewed, mode, rows, cols, width):
    rng = np.random.default_rng(rows * 1000 + cols * 100 + width)
    act = rng.integers(0, 2, size=(10, cols, width))
    weights = rng.integers(0, 2, size=(10, cols, rows, width))
    _run(skewed, rows, cols, width, act, weights, mode)


@pytest.mark.parametrize("mode", ["xnor", "and"])
def test_extremes(skewed, mode):
    rows, cols, width = 2, 3, 7
    ones, zeros = np.ones((cols, width), int), np.zeros((cols, width), int)
    act = np.stack([ones, zeros, ones, zeros])
    weights = np.stack([np.ones((cols, rows, width), int), np.ones((cols, rows, width), int),
                        np.zeros((cols, rows, width), int), np.zeros((cols, rows, width), int)])
    got = _run(skewed, rows, cols, width, act, weights, mode)
    full = cols * width
    if mode == "xnor":  # agree, disagree, disagree, agree
        np.testing.assert_equal(got, [[full] * 2, [-full] * 2, [-full] * 2, [full] * 2])
    else:  # a=1,w=+1 ; a=0 ; a=1,w=-1 ; a=0
        np.testing.assert_equal(got, [[full] * 2, [0] * 2, [-full] * 2, [0] * 2])


@pytest.mark.parametrize("mode", ["xnor", "and"])
def test_narrow_accumulator_wraps_like_golden(skewed, mode):
    rng = np.random.default_rng(9)
    act = np.ones((4, 3, 33), int) if mode == "xnor" else rng.integers(0, 2, size=(4, 3, 33))
    weights = np.ones((4, 3, 2, 33), int)
    weights[1:] = rng.integers(0, 2, size=(3, 3, 2, 33))
    got = _run(skewed, 2, 3, 33, act, weights, mode, acc_bits=6)  # |sums| up to 99
    assert got.min() >= -32 and got.max() <= 31


def test_partial_sums_carry_only_reachable_bits():
    dut = BinaryArray(rows=1, cols=4, width=32, acc_bits=16)
    assert [dut.column_bits(c) for c in range(4)] == [7, 8, 8, 9]
    assert BinaryArray(rows=1, cols=4, width=32, acc_bits=8).column_bits(3) == 8
