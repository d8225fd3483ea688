"""The multiply-accumulate, pooling and padding HLS kernels (ng_dense.h, ng_conv2d.h,
ng_matmul.h, ng_pool.h, ng_pad.h, with hls_stream.h and ng_stream.h) C-simulated with g++
against the golden interpreter, element for element.

Each case is a one-node graph bound with some ``HlsOptions``; the cases of a group go into
one C++ program (one g++ run, cached by ``gxx.build``) that reads every case's batch of
inputs (corner vectors, then random ones) from a file and writes its outputs.  Stream
cases push the inputs into ``hls::stream``s and check that the kernel drained its input
and wrote exactly its output.

Construction (the bindings' config and arrays), then what is refused, then behaviour.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from hls_programs import Case, csim
from neurogate.compiler.backends.hls import gxx
from neurogate.compiler.backends.hls.binding import HlsOptions, Unsupported
from neurogate.compiler.backends.hls.bindings import linear, pool
from neurogate.compiler.builder import GraphBuilder
from neurogate.compiler.interpreter import make_input_vectors
from neurogate.compiler.ir import Graph, TensorType
from neurogate.numerics import FP8_E4M3
from neurogate.numerics.formats import BinaryFormat, IntFormat, TernaryFormat
from neurogate.numerics.rounding import Rounding
from neurogate.sim.golden import arith

ROUNDINGS = tuple(Rounding)
LATENCY = HlsOptions()
STREAM = HlsOptions(io="stream")


def resource(reuse: int, io: str = "parallel") -> HlsOptions:
    return HlsOptions(io=io, reuse=reuse, strategy="resource")


def case_of(name: str, graph: Graph, options: HlsOptions = LATENCY, batch: int = 12) -> Case:
    """Node ``name`` of ``graph`` bound with ``options`` and run on ``batch`` vectors."""
    return Case(name, graph, make_input_vectors(graph, batch, seed=0), options)


# --- the cases ----------------------------------------------------------------------------------


def rng_for(name: str) -> np.random.Generator:
    return np.random.default_rng(sum(name.encode()))


def ints_of(fmt, shape, rng) -> np.ndarray:
    if isinstance(fmt, BinaryFormat):
        return rng.choice(np.array([-1, 1]), size=shape)
    return rng.integers(fmt.min, fmt.max + 1, size=shape, dtype=np.int64)


def dense_case(name, shape, n_out, *, in_fmt=IntFormat(8), weight_fmt=IntFormat(8),
               acc_width=32, options=LATENCY, bias=True) -> Case:
    rng = rng_for(name)
    b = GraphBuilder(name)
    x = b.input("x", shape, in_fmt)
    k = shape[-1] if isinstance(shape, tuple) else shape
    acc = IntFormat(acc_width)
    y = b.dense(x, ints_of(weight_fmt, (n_out, k), rng),
                ints_of(acc, n_out, rng) if bias else None, weight_fmt=weight_fmt,
                acc_width=acc_width, name=name)
    return case_of(name, b.build(outputs=[y]), options)


def conv_case(name, hwc, kernel, n_filt, *, in_fmt=IntFormat(8), weight_fmt=IntFormat(8),
              acc_width=32, options=LATENCY, **kwargs) -> Case:
    rng = rng_for(name)
    b = GraphBuilder(name)
    x = b.input("x", hwc, in_fmt)
    groups = kwargs.get("groups", 1)
    w = ints_of(weight_fmt, (*kernel, hwc[2] // groups, n_filt), rng)
    y = b.conv2d(x, w, ints_of(IntFormat(min(acc_width, 20)), n_filt, rng),
                 weight_fmt=weight_fmt, acc_width=acc_width, name=name, **kwargs)
    return case_of(name, b.build(outputs=[y]), options)


def matmul_case(name, a_shape, b_shape, *, a_fmt=IntFormat(8), b_fmt=IntFormat(8),
                transpose_b=False, acc_width=32, options=LATENCY) -> Case:
    b = GraphBuilder(name)
    a = b.input("a", a_shape, a_fmt)
    bb = b.input("b", b_shape, b_fmt)
    y = b.matmul(a, bb, transpose_b=transpose_b, acc_width=acc_width, name=name)
    return case_of(name, b.build(outputs=[y]), options)


def pool_case(name, kind, hwc, *, in_fmt=IntFormat(8), options=LATENCY, batch=12,
              **kwargs) -> Case:
    b = GraphBuilder(name)
    x = b.input("x", hwc, in_fmt)
    y = getattr(b, kind)(x, name=name, **kwargs)
    return case_of(name, b.build(outputs=[y]), options, batch=batch)


def both(make, name, *args, **kwargs) -> list[Case]:
    """The case in io_parallel and in io_stream."""
    return [make(name, *args, **kwargs),
            make(f"{name}_s", *args, **{**kwargs, "options": STREAM})]


DENSE = [
    dense_case("d_int8", 8, 5),
    dense_case("d_wrap10", 16, 6, acc_width=10),
    dense_case("d_res4", 10, 6, options=resource(4)),
    dense_case("d_res7", 5, 3, options=resource(7), acc_width=12),
    dense_case("d_res_clamped", 3, 2, options=resource(100)),
    dense_case("d_binary_w_uint_x", 9, 4, in_fmt=IntFormat(8, signed=False),
               weight_fmt=BinaryFormat(), acc_width=14),
    dense_case("d_ternary_w_binary_x", 12, 3, in_fmt=BinaryFormat(), weight_fmt=TernaryFormat(),
               acc_width=5),
    dense_case("d_rows", (3, 2, 6), 4, options=resource(5), acc_width=16),
    dense_case("d_rows_latency", (4, 3), 2, acc_width=9, in_fmt=IntFormat(6, frac=3)),
    dense_case("d_len1", 1, 1, acc_width=8),
    dense_case("d_int64_x", 3, 2, in_fmt=IntFormat(64), acc_width=64),
    dense_case("d_uint63_x", 2, 2, in_fmt=IntFormat(63, signed=False), acc_width=64),
    dense_case("d_wide_w", 4, 3, in_fmt=IntFormat(20), weight_fmt=IntFormat(40), acc_width=48),
    dense_case("d_s", 7, 4, options=STREAM),
    dense_case("d_s_res3", (2, 7), 3, options=resource(3, "stream"), acc_width=11),
    dense_case("d_s_rows", (3, 5), 2, options=STREAM, weight_fmt=TernaryFormat()),
]

CONV = [
    *both(conv_case, "c_valid", (5, 5, 2), (3, 3), 4),
    *both(conv_case, "c_same_s2", (6, 7, 3), (3, 3), 2, stride=2, padding="same"),
    *both(conv_case, "c_dilated", (7, 6, 2), (2, 3), 3, dilation=(2, 1), stride=(1, 2),
          padding=(1, 0, 2, 1)),
    *both(conv_case, "c_depthwise", (5, 4, 4), (3, 3), 4, groups=4, padding=1),
    *both(conv_case, "c_depth_mult2", (4, 4, 2), (2, 2), 4, groups=2, stride=(2, 1),
          padding=(0, 1, 1, 0)),
    *both(conv_case, "c_groups2", (4, 5, 4), (1, 2), 6, groups=2, stride=(3, 2)),
    *both(conv_case, "c_1x1", (1, 1, 3), (1, 1), 2),
    *both(conv_case, "c_wrap", (4, 4, 3), (2, 2), 2, in_fmt=IntFormat(8, signed=False),
          weight_fmt=BinaryFormat(), acc_width=9),
    *both(conv_case, "c_pad_only", (2, 2, 1), (2, 2), 2, padding=3, stride=2),
    *both(conv_case, "c_row", (1, 6, 2), (1, 3), 3, dilation=(1, 2), padding=(0, 0, 1, 1)),
    conv_case("c_ternary_res3", (5, 5, 2), (3, 2), 3, weight_fmt=TernaryFormat(),
              options=resource(3), padding="same"),
    conv_case("c_s_res2", (4, 5, 2), (2, 2), 2, options=resource(2, "stream"),
              in_fmt=BinaryFormat(), acc_width=4),
    conv_case("c_int64", (3, 3, 1), (2, 2), 1, in_fmt=IntFormat(64), acc_width=64),
]

OTHERS = [
    matmul_case("mm", (3, 4), (4, 5)),
    matmul_case("mm_t_wrap", (2, 3, 4), (2, 5, 4), transpose_b=True, acc_width=10),
    matmul_case("mm_mixed", (2, 1, 3), (2, 3, 1), a_fmt=IntFormat(8, signed=False),
                b_fmt=TernaryFormat(), options=STREAM),
    matmul_case("mm_res", (2, 2, 3, 2), (2, 2, 4, 2), transpose_b=True, options=resource(2),
                a_fmt=IntFormat(16, frac=4), b_fmt=BinaryFormat(), acc_width=20),
    *both(pool_case, "mp_valid", "max_pool2d", (5, 5, 2), pool=2),
    *both(pool_case, "mp_same", "max_pool2d", (5, 6, 3), pool=3, stride=2, padding="same"),
    *both(pool_case, "mp_uint", "max_pool2d", (4, 5, 2), pool=(2, 3), stride=(1, 2),
          padding=(1, 0, 0, 2), in_fmt=IntFormat(4, signed=False)),
    *both(pool_case, "mp_binary", "max_pool2d", (3, 3, 1), pool=2, stride=1, padding=(0, 1, 1, 0),
          in_fmt=BinaryFormat()),
    *both(pool_case, "mp_row", "max_pool2d", (1, 5, 2), pool=(1, 2), padding="same"),
    *both(pool_case, "zp", "zero_pad2d", (3, 4, 2), padding=(1, 2, 0, 3)),
    *both(pool_case, "zp_ternary", "zero_pad2d", (2, 2, 3), padding=(0, 0, 1, 0),
          in_fmt=TernaryFormat()),
    pool_case("zp_none", "zero_pad2d", (1, 2, 1), padding=0, in_fmt=IntFormat(64)),
]
for r in ROUNDINGS:
    n = r.value
    OTHERS += [
        # 2x2 windows, no padding: the shift path; ties at every odd remainder
        *both(pool_case, f"ap_pow2_{n}", "avg_pool2d", (4, 6, 2), pool=2, rounding=r),
        # SAME padding: counts 4, 6 and 9 -> the division path; up-scaled output saturates
        *both(pool_case, f"ap_same_{n}", "avg_pool2d", (5, 5, 2), pool=3, stride=2,
              padding="same", rounding=r, out_fmt=IntFormat(8, frac=2)),
        # SAME padding, same scale: counts 4 and 6, many exact ties (2 r == count)
        *both(pool_case, f"ap_ties_{n}", "avg_pool2d", (4, 5, 1), pool=(2, 3), stride=2,
              padding="same", rounding=r, batch=24),
        # down-scaled output (frac 4 -> 1) into int4: saturation both ways
        pool_case(f"ap_down_{n}", "avg_pool2d", (5, 3, 2), pool=(3, 1), stride=(2, 1),
                  padding=(1, 1, 0, 0), rounding=r, in_fmt=IntFormat(8, frac=4),
                  out_fmt=IntFormat(4, frac=1), options=STREAM if r.value[-1] in "py" else LATENCY),
        # count 2 below the output scale: an exact left shift
        pool_case(f"ap_left_{n}", "avg_pool2d", (2, 4, 1), pool=(1, 2), rounding=r,
                  in_fmt=IntFormat(6, signed=False), out_fmt=IntFormat(12, frac=3)),
        *both(pool_case, f"gap_9_{n}", "global_avg_pool", (3, 3, 4), rounding=r),
        pool_case(f"gap_8_{n}", "global_avg_pool", (2, 4, 3), rounding=r, batch=16,
                  options=STREAM if r is Rounding.HALF_EVEN else LATENCY),
        pool_case(f"gap_rank2_{n}", "global_avg_pool", (5, 3), rounding=r,
                  in_fmt=IntFormat(8, frac=2), out_fmt=IntFormat(16, frac=6)),
        pool_case(f"gap_sat_{n}", "global_avg_pool", (2, 2, 1, 2), rounding=r,
                  in_fmt=IntFormat(8, signed=False), out_fmt=IntFormat(4)),
    ]
OTHERS += [
    pool_case("ap_ternary", "avg_pool2d", (3, 3, 2), pool=2, stride=1, padding=(1, 0, 1, 0),
              in_fmt=TernaryFormat(), out_fmt=IntFormat(6, frac=3), rounding="half_even"),
    pool_case("ap_int64_floor", "avg_pool2d", (2, 3, 1), pool=(2, 3), rounding="floor",
              in_fmt=IntFormat(64), out_fmt=IntFormat(64, frac=2), batch=8),
    pool_case("gap_wide_down", "global_avg_pool", (3, 2), rounding="half_away",
              in_fmt=IntFormat(64, frac=60), out_fmt=IntFormat(8, frac=-4)),
]

GROUPS = {"dense": DENSE, "conv": CONV, "pool": OTHERS}
_results: dict[str, dict] = {}


@pytest.fixture(scope="module")
def csim_of(tmp_path_factory):
    def get(group: str) -> dict[str, np.ndarray]:
        if group not in _results:
            _results[group] = csim(GROUPS[group], tmp_path_factory.mktemp(group), f"ng_{group}")
        return _results[group]
    return get


# --- construction -------------------------------------------------------------------------------


def test_dense_binding_config_and_arrays():
    case = dense_case("fc1", 10, 6, options=resource(4))
    kc = case.bind()
    assert kc.header == "ng_dense.h" and not kc.stream
    assert kc.call == "ng::dense<{config}>({in0}, {out}, fc1_w, fc1_b);"
    body = "\n".join(kc.config)
    for line in ("typedef ap_int<8> in_t;", "typedef ap_int<32> acc_t;",
                 "static const unsigned reuse = 4;", "static const unsigned n_mult = 15;",
                 "static const bool resource = true;", "static const unsigned n_rows = 1;"):
        assert line in body, line
    w, b = kc.arrays
    assert (w.name, w.ctype, b.name, b.ctype) == ("fc1_w", "ap_int<8>", "fc1_b", "ap_int<32>")
    np.testing.assert_equal(w.values, np.asarray(case.node.weights).reshape(-1))


def test_reuse_is_clamped_to_the_products_and_ignored_by_latency():
    body = "\n".join(dense_case("fc", 3, 2, options=resource(100)).bind().config)
    assert "reuse = 6;" in body and "n_mult = 1;" in body
    body = "\n".join(dense_case("fc", 3, 2, options=HlsOptions(reuse=4)).bind().config)
    assert "reuse = 1;" in body and "resource = false;" in body


def test_stream_calls_by_op():
    assert dense_case("d", 4, 2, options=STREAM).bind().call.startswith("ng::dense_stream<")
    conv = conv_case("c", (4, 4, 1), (2, 2), 1, options=STREAM).bind()
    assert conv.stream and conv.call.startswith("ng::conv2d_stream<")
    pooled = pool_case("p", "avg_pool2d", (4, 4, 1), pool=2, options=STREAM).bind()
    assert pooled.stream and pooled.header == "ng_pool.h"
    mm = matmul_case("m", (2, 3), (3, 2), options=STREAM).bind()
    assert not mm.stream and mm.call == "ng::matmul<{config}>({in0}, {in1}, {out});"


def test_average_config_picks_shift_or_division():
    body = "\n".join(pool_case("p", "avg_pool2d", (4, 4, 1), pool=2).bind().config)
    assert "pow2 = true;" in body and "pow2_shift = 2;" in body
    body = "\n".join(pool_case("p", "avg_pool2d", (5, 5, 1), pool=3, stride=2,
                               padding="same").bind().config)
    assert "pow2 = false;" in body and "rounding = ng::RND_HALF_UP;" in body
    body = "\n".join(pool_case("p", "global_avg_pool", (2, 4, 3), rounding="floor",
                               out_fmt=IntFormat(8, frac=3)).bind().config)
    assert "up_shift = 3;" in body and "pow2_shift = 0;" in body


def test_binding_dicts_are_explicit():
    assert set(linear.BINDINGS) == {type(c.node) for c in DENSE[:1] + CONV[:1] + OTHERS[:1]}
    assert {t.__name__ for t in pool.BINDINGS} == {"MaxPool2D", "AvgPool2D", "GlobalAvgPool",
                                                   "ZeroPad2D"}


def test_c_names_of_parameter_arrays():
    assert linear.c_name("conv/1:0") == "conv_1_0"
    assert linear.c_name("1st") == "ng_1st"


# --- refused ------------------------------------------------------------------------------------


def test_a_float_input_is_unsupported_by_name():
    case = dense_case("fc", 4, 2)
    with pytest.raises(Unsupported, match="fc: the input is .*integer formats"):
        linear.bind_dense(case.node, [TensorType((4,), FP8_E4M3)], LATENCY)
    case = pool_case("gp", "global_avg_pool", (2, 2, 1))
    with pytest.raises(Unsupported, match="gp: the input"):
        pool.bind_global_avg_pool(case.node, [TensorType((2, 2, 1), FP8_E4M3)], LATENCY)


# --- behaviour ----------------------------------------------------------------------------------


def test_rounding_helpers_match_the_golden(tmp_path):
    """ng::round_shift and ng::round_div against arith.round_shift / round_div, every mode,
    on a range of values (ties included), divisors 1..12 and shifts 0..5, and
    ng::saturate / ng::limits at the edges of signed and unsigned types."""
    values = np.arange(-70, 71)
    # ng::rounding_mode numbers the modes in Rounding's order, as RoundingCode does
    lines = [f"out << int(ng::RND_{r.name}) << '\\n';" for r in ROUNDINGS]
    for r in ROUNDINGS:
        mode = f"ng::RND_{r.name}"
        for s in range(6):
            lines.append(f"for (int v = -70; v <= 70; v++) "
                         f"put(out, ng::round_shift<{mode}, {s}>(ap_int<8>(v)));")
        lines.append("for (int d = 1; d <= 12; d++) for (int v = -70; v <= 70; v++) "
                     f"put(out, ng::round_div<{mode}>(ap_int<8>(v), ap_int<5>(d)));")
    lines += ["for (int v = -70; v <= 70; v++) put(out, ng::saturate<ap_int<5> >(ap_int<8>(v)));",
              "for (int v = -70; v <= 70; v++) put(out, ng::saturate<ap_uint<4> >(ap_int<8>(v)));",
              "put(out, ng::limits<ap_int<64> >::min()); put(out, ng::limits<ap_int<64> >::max());",
              "put(out, ng::limits<ap_uint<64> >::max());",
              "put(out, ng::saturate<ap_uint<64> >(ap_int<80>(-1)));",
              "put(out, ng::saturate<ap_int<64> >(ap_uint<70>(1) << 66));"]
    src = tmp_path / "rounding.cpp"
    src.write_text('#include <iostream>\n#include "ng_common.h"\n'
                   "template <int W, bool S> void put(std::ostream &s, "
                   "const ap_int_base<W, S> &v) { s << v.to_string(10) << '\\n'; }\n"
                   "int main() {\n  std::ostream &out = std::cout;\n  "
                   + "\n  ".join(lines) + "\n  return 0;\n}\n")
    exe = gxx.build([src], name="rounding")
    got = [int(v) for v in subprocess.run([str(exe)], capture_output=True, text=True,
                                          check=True).stdout.split()]
    want = list(range(len(ROUNDINGS)))
    for r in ROUNDINGS:
        for s in range(6):
            want += arith.round_shift(values, s, r).tolist()
        for d in range(1, 13):
            want += arith.round_div(values, d, r).tolist()
    want += np.clip(values, -16, 15).tolist() + np.clip(values, 0, 15).tolist()
    want += [-(1 << 63), (1 << 63) - 1, (1 << 64) - 1, 0, (1 << 63) - 1]
    assert got == want


def _check(case: Case, results):
    np.testing.assert_equal(np.asarray(results[case.name], dtype=object),
                            np.asarray(case.golden(), dtype=object), err_msg=case.name)


@pytest.mark.parametrize("case", DENSE, ids=lambda c: c.name)
def test_dense_csim_equals_golden(case, csim_of):
    _check(case, csim_of("dense"))


@pytest.mark.parametrize("case", CONV, ids=lambda c: c.name)
def test_conv2d_csim_equals_golden(case, csim_of):
    _check(case, csim_of("conv"))


@pytest.mark.parametrize("case", OTHERS, ids=lambda c: c.name)
def test_matmul_pool_pad_csim_equals_golden(case, csim_of):
    _check(case, csim_of("pool"))
