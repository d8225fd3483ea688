"""The elementwise and data-movement HLS kernels (ng_requant.h, ng_eltwise.h, ng_tensor.h)
C-simulated with g++ against the golden interpreter, element for element.

Every case is a one-node graph; all cases go into one C++ program (one g++ run, cached by
``gxx.build``), which reads each case's batch of inputs from a file and writes its outputs.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hls_programs import Case, csim
from neurogate.compiler.backends.hls.binding import HlsOptions, Unsupported
from neurogate.compiler.backends.hls.bindings import common, elementwise, tensor
from neurogate.compiler.builder import GraphBuilder
from neurogate.numerics.formats import BinaryFormat, IntFormat, TernaryFormat
from neurogate.numerics.rounding import Overflow, Rounding

OPTIONS = HlsOptions()


# --- the cases --------------------------------------------------------------------------------

RNG = np.random.default_rng(2024)


def values(fmt, shape, batch=24, extra=()) -> np.ndarray:
    """Corners (min, max, 0, +-1 where they fit), ``extra``, then uniform random values."""
    size = int(np.prod(shape))
    pool = [v for v in (fmt.min, fmt.max, 0, 1, -1, fmt.min + 1, fmt.max - 1, *extra)
            if fmt.min <= v <= fmt.max and (not isinstance(fmt, BinaryFormat) or v != 0)]
    head = np.resize(np.array(pool, dtype=np.int64), size * 2)
    if isinstance(fmt, BinaryFormat):
        rand = RNG.choice([-1, 1], size=size * batch)
    else:
        # int64 covers every format here (uint64 would overflow the interpreter's int64)
        rand = np.array([int(v) for v in RNG.integers(fmt.min, fmt.max, size * batch,
                                                     endpoint=True, dtype=np.int64)])
    flat = np.concatenate([head, rand])[:size * batch]
    return flat.reshape((batch, *((shape,) if isinstance(shape, int) else shape)))


def ties(shift: int, fmt, count: int = 24) -> list[int]:
    """Values exactly halfway between two multiples of ``2**shift`` (and their +-1)."""
    half = 1 << (shift - 1)
    out = []
    for k in range(-count // 2, count // 2):
        out += [(k << shift) + half, (k << shift) + half - 1, (k << shift) + half + 1]
    return [v for v in out if fmt.min <= v <= fmt.max]


def single(name: str, fmts, shapes, build, extras=None) -> Case:
    """A graph of inputs ``fmts``/``shapes`` and one node ``build(builder, inputs, name)``."""
    b = GraphBuilder(name)
    extras = extras or [()] * len(fmts)
    names = [b.input(f"{name}_x{i}", s, f) for i, (f, s) in enumerate(zip(fmts, shapes))]
    build(b, names, name)
    inputs = {n: values(f, s, extra=e) for n, f, s, e in zip(names, fmts, shapes, extras)}
    return Case(name, b.build([name]), inputs)


def requantize_cases() -> list[Case]:
    cases = []
    i32, i64 = IntFormat(32), IntFormat(64)
    for k, (r, o) in enumerate(itertools.product(Rounding, Overflow)):
        cases.append(single(
            f"rq_{r.value}_{o.value}", [i32], [(3, 16)],
            lambda b, x, n, r=r, o=o: b.requantize(x[0], shift=4, out_fmt=IntFormat(8),
                                                   rounding=r, overflow=o, name=n),
            [ties(4, i32) + [2**31 - 8, -(2**31) + 8]]))
        # per-channel multiplier with signs, and a per-tensor one (0-d), wide products
        m = np.array([3, -7, 2**31 - 1, -(2**31), 1, 0])
        cases.append(single(
            f"rqm_{r.value}_{o.value}", [IntFormat(20)], [(2, 6)],
            lambda b, x, n, r=r, o=o, m=m: b.requantize(
                x[0], shift=18 + k, out_fmt=IntFormat(12), rounding=r, overflow=o,
                multiplier=m, name=n), [ties(5, IntFormat(20))]))
        cases.append(single(
            f"rqt_{r.value}_{o.value}", [IntFormat(16, signed=False)], [7],
            lambda b, x, n, r=r, o=o: b.requantize(
                x[0], shift=9, out_fmt=IntFormat(8, signed=False), rounding=r, overflow=o,
                multiplier=np.array(-300), name=n), [ties(9, IntFormat(16, signed=False))]))
        # int64 extremes times the extreme multipliers, the largest shift (64 + 32 - 1)
        cases.append(single(
            f"rqw_{r.value}_{o.value}", [i64], [4],
            lambda b, x, n, r=r, o=o: b.requantize(
                x[0], shift=95, out_fmt=IntFormat(64), rounding=r, overflow=o,
                multiplier=np.array([-(2**31), 2**31 - 1, -1, 12345]), name=n),
            [[-(2**63) + 1, 2**62, -(2**62)]]))
    cases.append(single("rq_shift0", [i64], [5], lambda b, x, n: b.requantize(
        x[0], shift=0, out_fmt=IntFormat(16), overflow="wrap", name=n)))
    cases.append(single("rq_unsigned_out", [IntFormat(12)], [9], lambda b, x, n: b.requantize(
        x[0], shift=2, out_fmt=IntFormat(5, signed=False), rounding="half_even", name=n),
        [ties(2, IntFormat(12))]))
    cases.append(single("rq_binary", [BinaryFormat()], [8], lambda b, x, n: b.requantize(
        x[0], shift=1, out_fmt=IntFormat(4), multiplier=np.array(3), rounding="half_away",
        name=n)))
    cases.append(single("rq_one_bit", [IntFormat(1)], [6], lambda b, x, n: b.requantize(
        x[0], shift=1, out_fmt=IntFormat(1, signed=False), rounding="half_even",
        overflow="wrap", multiplier=np.array(-1), name=n)))
    return cases


def add_mul_cases() -> list[Case]:
    cases = []
    a8, b8 = IntFormat(8, frac=3), IntFormat(8, frac=5)
    for r, o in itertools.product(Rounding, Overflow):
        tag = f"{r.value}_{o.value}"
        cases.append(single(f"add_{tag}", [a8, b8], [(2, 5), (2, 5)], lambda b, x, n, r=r, o=o:
                            b.add(x[0], x[1], out_fmt=IntFormat(6, frac=2), rounding=r,
                                  overflow=o, name=n)))
        cases.append(single(f"mul_{tag}", [a8, b8], [10, 10], lambda b, x, n, r=r, o=o:
                            b.mul(x[0], x[1], out_fmt=IntFormat(8, frac=4), rounding=r,
                                  overflow=o, name=n)))
    # an output finer than both operands (a left shift), unsigned and negative fracs
    cases.append(single("add_finer", [IntFormat(8, signed=False), IntFormat(16, frac=2)],
                        [12, 12], lambda b, x, n: b.add(
                            x[0], x[1], out_fmt=IntFormat(12, frac=5), overflow="wrap", name=n)))
    cases.append(single("add_negfrac", [IntFormat(8, frac=-3), IntFormat(8, frac=4)],
                        [12, 12], lambda b, x, n: b.add(
                            x[0], x[1], out_fmt=IntFormat(10, frac=-2), rounding="half_even",
                            name=n)))
    i64 = IntFormat(64)
    cases.append(single("add_i64", [i64, i64], [6, 6], lambda b, x, n: b.add(
        x[0], x[1], out_fmt=i64, name=n)))
    cases.append(single("mul_i64", [i64, IntFormat(64, frac=3)], [6, 6], lambda b, x, n: b.mul(
        x[0], x[1], out_fmt=IntFormat(64, frac=1), rounding="half_away", overflow="wrap",
        name=n)))
    cases.append(single("mul_uint_finer", [IntFormat(8, signed=False), IntFormat(8)], [9, 9],
                        lambda b, x, n: b.mul(x[0], x[1], out_fmt=IntFormat(
                            9, signed=False, frac=2), overflow="wrap", name=n)))
    cases.append(single("mul_one_bit", [IntFormat(1), IntFormat(1, signed=False)], [6, 6],
                        lambda b, x, n: b.mul(x[0], x[1], out_fmt=IntFormat(2), name=n)))
    cases.append(single("mul_binary", [BinaryFormat(), TernaryFormat(frac=1)], [8, 8],
                        lambda b, x, n: b.mul(x[0], x[1], out_fmt=IntFormat(3, frac=1),
                                              name=n)))
    return cases


def unary_cases() -> list[Case]:
    i8, u8, i64 = IntFormat(8, frac=2), IntFormat(8, signed=False), IntFormat(64)
    return [
        single("relu_i8", [i8], [(4, 4)], lambda b, x, n: b.relu(x[0], name=n)),
        single("relu_u8", [u8], [7], lambda b, x, n: b.relu(x[0], name=n)),
        single("relu_ternary", [TernaryFormat()], [7], lambda b, x, n: b.relu(x[0], name=n)),
        single("clip_i8", [i8], [16], lambda b, x, n: b.clip(x[0], -5, 17, name=n)),
        single("clip_i64", [i64], [8], lambda b, x, n: b.clip(x[0], -(2**63), 2**62, name=n)),
        single("clip_u8", [u8], [8], lambda b, x, n: b.clip(x[0], 3, 200, name=n)),
        single("sign_i8", [i8], [16], lambda b, x, n: b.sign_binarize(x[0], name=n)),
        single("sign_u8", [u8], [8], lambda b, x, n: b.sign_binarize(x[0], frac=2, name=n)),
        single("sign_ternary", [TernaryFormat()], [8],
               lambda b, x, n: b.sign_binarize(x[0], name=n)),
    ]


def tensor_cases() -> list[Case]:
    i8 = IntFormat(8, frac=1)
    cases = []
    for axis in range(3):
        shapes = [tuple(extra if i == axis else d for i, d in enumerate((2, 3, 4)))
                  for extra in (1, 2, 3)]
        cases.append(single(f"concat_{axis}", [i8] * 3, shapes,
                            lambda b, x, n, axis=axis: b.concat(x, axis=axis, name=n)))
    cases.append(single("concat_one", [IntFormat(16, signed=False)], [5],
                        lambda b, x, n: b.concat(x, name=n)))
    cases.append(single("concat_vec", [BinaryFormat()] * 2, [3, 1],
                        lambda b, x, n: b.concat(x, name=n)))
    cases.append(single("reshape", [i8], [(2, 3, 4)],
                        lambda b, x, n: b.reshape(x[0], (4, 6), name=n)))
    cases.append(single("flatten", [IntFormat(64)], [(3, 2)],
                        lambda b, x, n: b.flatten(x[0], name=n)))
    for k, perm in enumerate(itertools.permutations(range(3))):
        cases.append(single(f"transpose_{k}", [i8], [(2, 3, 4)],
                            lambda b, x, n, perm=perm: b.transpose(x[0], perm, name=n)))
    cases.append(single("transpose_r5", [i8], [(2, 3, 1, 5, 2)],
                        lambda b, x, n: b.transpose(x[0], (3, 1, 4, 0, 2), name=n)))
    cases.append(single("transpose_r7", [i8], [(2, 3, 2, 2, 1, 2, 3)],
                        lambda b, x, n: b.transpose(x[0], (6, 0, 5, 1, 4, 2, 3), name=n)))
    for axis in range(3):
        cases.append(single(f"slice_{axis}", [i8], [(3, 4, 5)],
                            lambda b, x, n, axis=axis: b.slice(x[0], axis=axis, start=1,
                                                               stop=3, name=n)))
    cases.append(single("slice_edge", [IntFormat(12)], [7],
                        lambda b, x, n: b.slice(x[0], axis=0, start=6, stop=7, name=n)))
    return cases


CASES = requantize_cases() + add_mul_cases() + unary_cases() + tensor_cases()


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return csim(CASES, tmp_path_factory.mktemp("hls_elementwise"), "kernels_test")


# --- construction and refusals ------------------------------------------------------------------


def test_binding_config_and_call():
    case = next(c for c in CASES if c.name == "rqm_half_even_saturate")
    kc = case.bind()
    assert kc.header == "ng_requant.h" and not kc.stream
    assert "static const int rounding = ng::RND_HALF_EVEN;" in kc.config
    assert "static const ap_o_mode overflow = AP_SAT;" in kc.config
    assert "typedef ap_int<52> prod_t;" in kc.config       # 20-bit x times 32-bit m
    (m,) = kc.arrays
    assert m.name == "rqm_half_even_saturate_m" and m.ctype == "ap_int<32>"
    assert kc.call == "ng::requantize<{config}>({in0}, {out}, rqm_half_even_saturate_m);"


def test_transpose_merges_neighbouring_axes():
    assert tensor.transpose_loops((2, 3, 4), (0, 1, 2)) == [(24, 1)]
    assert tensor.transpose_loops((2, 3, 1, 5), (3, 0, 1, 2)) == [(5, 1), (6, 5)]


def test_unsupported_transpose_rank():
    b = GraphBuilder("t")
    x = b.input("x", (2,) * 7, IntFormat(8))
    b.transpose(x, tuple(reversed(range(7))), name="t7")
    graph = b.build(["t7"])
    with pytest.raises(Unsupported, match="needs 7 loops"):
        tensor.bind_transpose(graph.node("t7"), [graph.type_of("x")], OPTIONS)


def test_unsupported_float_input():
    from neurogate.compiler.ir import Relu, TensorType
    from neurogate.numerics.floats import FloatFormat

    t = TensorType((4,), FloatFormat(5, 2))
    with pytest.raises(Unsupported, match="integer formats"):
        elementwise.bind_relu(Relu(name="r", input="x", out=t), [t], OPTIONS)


def test_int_literal():
    assert common.int_literal(-(2**63)) == "(-9223372036854775807LL - 1)"
    assert common.int_literal(2**64 - 1) == "18446744073709551615ULL"
    with pytest.raises(Unsupported):
        common.int_literal(2**64)


# --- behaviour: the C-sim equals the golden interpreter ---------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_csim_matches_golden(case, results):
    np.testing.assert_equal(results[case.name], case.golden())
