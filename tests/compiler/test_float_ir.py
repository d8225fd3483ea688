"""Float layers in the IR: the golden interpreter runs them bit-exactly, as the chain of
multiply-add units the float systolic array computes (issue: compiler hook for the FP engine)."""

import numpy as np
import pytest
from neurogate.compiler import serialize
from neurogate.compiler.backends.engine.run import compile_program
from neurogate.compiler.builder import GraphBuilder
from neurogate.compiler.interpreter import run, run_single_output
from neurogate.compiler.ir import IRError
from neurogate.hw.engine.config import EngineConfig
from neurogate.numerics.errors import NeurogateError
from neurogate.numerics.floats import BF16, FP8_E4M3, FP32, ApproxNorm
from neurogate.numerics.formats import IntFormat
from neurogate.sim.golden import fp


def float_mlp(norm1, norm2, *, seed=0):
    rng = np.random.default_rng(seed)
    b = GraphBuilder("float_mlp")
    x = b.input("x", 24, BF16)
    h = b.float_dense(x, fp.from_float(rng.normal(0, 0.2, (16, 24)), BF16),
                      fp.from_float(rng.normal(0, 0.1, 16), FP32), acc_fmt=FP32, norm=norm1,
                      name="fc1")
    h = b.float_convert(h, BF16, name="fc1_bf16")
    h = b.float_dense(h, fp.from_float(rng.normal(0, 0.2, (5, 16)), BF16), acc_fmt=BF16,
                      norm=norm2, name="fc2")
    return b.build(outputs=[h])


def inputs(n=32, seed=1):
    return fp.from_float(np.random.default_rng(seed).normal(0, 1, (n, 24)), BF16)


def test_float_layers_follow_the_chain_of_fma_units():
    approx = ApproxNorm(lz_window=4, guard_bits=1, sticky=False)
    g = float_mlp(ApproxNorm.exact(), approx)
    x = inputs()
    got = run_single_output(g, x)
    w1, b1 = g.node("fc1").weights, g.node("fc1").bias
    acc = np.broadcast_to(b1, (len(x), 16)).copy()
    for k in range(24):                       # the chain, one unit per input element
        acc = fp.fma(acc, x[:, k:k + 1], w1[:, k][None, :], in_fmt=BF16, acc_fmt=FP32)
    h = fp.from_float(fp.to_float(acc, FP32), BF16)
    expected = fp.matmul_chain(h, g.node("fc2").weights.T, in_fmt=BF16, acc_fmt=BF16, norm=approx)
    np.testing.assert_equal(got, expected)


def test_truncating_normalization_changes_only_low_bits():
    x = inputs(64)
    truncating = ApproxNorm(guard_bits=1, sticky=False)
    exact = run(float_mlp(ApproxNorm.exact(), ApproxNorm.exact()), {"x": x}, keep_all=True)
    approx = run(float_mlp(truncating, truncating), {"x": x}, keep_all=True)
    assert np.count_nonzero(exact["fc1"] != approx["fc1"]) > 0
    # One guard bit and no sticky bit lose at most a few FP32 ulps per element here.
    np.testing.assert_allclose(fp.to_float(approx["fc1"], FP32), fp.to_float(exact["fc1"], FP32),
                               rtol=1e-5, atol=1e-6)


def test_serialization_keeps_formats_and_norm():
    g = float_mlp(ApproxNorm(lz_window=3), ApproxNorm.exact())
    back = serialize.loads(serialize.dumps(g))
    assert back.node("fc1").norm == ApproxNorm(lz_window=3)
    assert back.type_of("fc1").fmt == FP32 and back.type_of("fc2").fmt == BF16
    x = inputs(8)
    np.testing.assert_equal(run_single_output(back, x), run_single_output(g, x))


def test_bad_float_graphs_are_named():
    b = GraphBuilder("g")
    x = b.input("x", 2, FP32)
    with pytest.raises(IRError, match="narrow: accumulator fp.* is narrower than the inputs"):
        b.float_dense(x, [[0, 0]], acc_fmt=FP8_E4M3, name="narrow")
    b = GraphBuilder("g")
    x = b.input("x", 2, FP8_E4M3)
    with pytest.raises(IRError, match=r"fc: weights must be codes of fp\(e4m3.*\(0 to 255\)"):
        b.float_dense(x, [[0, 256]], acc_fmt=BF16, name="fc")
    b = GraphBuilder("g")
    x = b.input("x", 2, BF16)
    with pytest.raises(IRError, match="mixed: Dense takes integers, not fp"):
        b.dense(x, [[1, 1]], weight_fmt=IntFormat(8), name="mixed")


def test_the_integer_engine_refuses_float_layers_by_name():
    with pytest.raises(NeurogateError, match="layer 'x': the engine's lanes hold integers"):
        compile_program(float_mlp(ApproxNorm.exact(), ApproxNorm.exact()), EngineConfig(array=2))
