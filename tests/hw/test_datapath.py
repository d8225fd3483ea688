"""The datapath seam: every matrix-unit member through one testbench, against its golden."""

import dataclasses

import numpy as np
import pytest
from amaranth.hdl import Shape, signed, unsigned
from amaranth.sim import Simulator
from neurogate.hw.datapath import (
    BinaryDatapath,
    FloatDatapath,
    IntegerDatapath,
    MatrixUnitSignature,
    TernaryDatapath,
)
from neurogate.numerics.floats import BF16, EXACT, FP8_E4M3, FP16, FP32, ApproxNorm
from neurogate.sim.golden import arith
from neurogate.sim.golden import fp as gfp
from neurogate.sim.golden.lowbit import binary_chunk, pack_bits, pack_ternary, ternary_chunk

# (id, config, wraps): ``wraps`` says the corners overflow acc_bits at every size tested.
MEMBERS = [
    ("int8", IntegerDatapath(act_bits=8, weight_bits=8, acc_bits=32), False),
    ("int3x5", IntegerDatapath(act_bits=3, weight_bits=5, acc_bits=9), False),
    ("int8-acc12", IntegerDatapath(act_bits=8, weight_bits=8, acc_bits=12), True),
    ("ternary", TernaryDatapath(act_bits=8, acc_bits=32), False),
    ("ternary-acc6", TernaryDatapath(act_bits=8, acc_bits=6), True),
    ("binary-xnor", BinaryDatapath(width=8, acc_bits=16, mode="xnor"), False),
    ("binary-and", BinaryDatapath(width=5, acc_bits=16, mode="and"), False),
    ("binary-xnor-acc4", BinaryDatapath(width=8, acc_bits=4, mode="xnor"), True),
    ("binary-and-acc4", BinaryDatapath(width=8, acc_bits=4, mode="and"), True),
    ("e4m3-fp16", FloatDatapath(in_fmt=FP8_E4M3, acc_fmt=FP16, stages=2), False),
    ("bf16-fp32", FloatDatapath(in_fmt=BF16, acc_fmt=FP32, stages=3), False),
    ("e4m3-fp16-lz4g2nosticky", FloatDatapath(
        in_fmt=FP8_E4M3, acc_fmt=FP16, norm=ApproxNorm(lz_window=4, guard_bits=2, sticky=False),
        stages=1), False),
]
SIZES = [(1, 1), (3, 5), (4, 2)]
FLOAT_SIZES = [(1, 1), (3, 5), (2, 4)]
CASES = [(name, cfg, wraps, rows, cols) for name, cfg, wraps in MEMBERS
         for rows, cols in (FLOAT_SIZES if isinstance(cfg, FloatDatapath) else SIZES)]


def legal_values(cfg):
    """(activation values, weight values) a member takes, as logical integers."""
    def span(bits):
        return np.arange(-(1 << (bits - 1)), 1 << (bits - 1))
    if isinstance(cfg, IntegerDatapath):
        return span(cfg.act_bits), span(cfg.weight_bits)
    if isinstance(cfg, TernaryDatapath):
        return span(cfg.act_bits), np.array([-1, 0, 1])
    return np.array([0, 1] if cfg.mode == "and" else [-1, 1]), np.array([-1, 1])


def golden(cfg, acts, weights):
    """Chunk ``k``'s row results: ``acts[k]`` (K,) against the tile ``weights[k]`` (rows, K)."""
    def one(a, w):
        if isinstance(cfg, FloatDatapath):   # codes; row r is the chain over k from +0
            return gfp.matmul_chain(a[None, :], w.T, in_fmt=cfg.in_fmt, acc_fmt=cfg.acc_fmt,
                                    norm=cfg.norm)[0]
        if isinstance(cfg, IntegerDatapath):
            return arith.dense(a, w, 0, cfg.acc_bits)
        if isinstance(cfg, TernaryDatapath):
            return ternary_chunk(a, w, acc_bits=cfg.acc_bits)
        return binary_chunk(a, w, width=cfg.width, mode=cfg.mode, acc_bits=cfg.acc_bits)
    return np.stack([one(a, w) for a, w in zip(acts, weights)]).astype(np.int64)


def float_codes(fmt):
    """Named corner codes of ``fmt``."""
    sign, m = 1 << (fmt.width - 1), fmt.man_bits
    codes = {"+0": 0, "-0": sign, "max": fmt.max_finite_code, "-max": sign | fmt.max_finite_code,
             "one": fmt.bias << m, "-one": sign | (fmt.bias << m), "min_normal": 1 << m,
             "min_sub": 1, "-max_sub": sign | ((1 << m) - 1), "nan": fmt.nan_code}
    if fmt.inf_code is not None:
        codes |= {"inf": fmt.inf_code, "-inf": sign | fmt.inf_code}
    return codes


def float_operands(cfg, rows, cols, seed, random_chunks=10):
    """Codes: uniform over the whole code space, values of moderate size, then corners
    (signed zeros, overflow, NaN/inf, subnormals, exact and near cancellation)."""
    fmt, k = cfg.in_fmt, cols
    rng = np.random.default_rng(seed)
    c = float_codes(fmt)
    sign = 1 << (fmt.width - 1)

    def uniform(shape):
        return rng.integers(0, 1 << fmt.width, shape)

    def moderate(shape):
        return gfp.from_float(rng.standard_normal(shape) * 4, fmt)

    def tile(pattern):
        return np.resize(np.array(pattern, dtype=np.int64), (rows, k))

    acts = [uniform(k) for _ in range(random_chunks // 2)]
    weights = [uniform((rows, k)) for _ in range(random_chunks // 2)]
    acts += [moderate(k) for _ in range(random_chunks - len(acts))]
    weights += [moderate((rows, k)) for _ in range(random_chunks - len(weights))]
    x, w = moderate(k), moderate((rows, k))
    near = np.where(w & ~sign == 0, w, w ^ 1)              # w with its last bit flipped
    cancel = np.resize(np.stack([w[:, 0], w[:, 0] ^ sign], axis=1), (rows, k))
    corners = [
        (np.resize([c["+0"]], k), tile([c["-0"]])),           # +0 + (+0 * -0)
        (np.resize([c["-0"], c["+0"]], k), tile([c["-0"], c["+0"]])),
        (np.full(k, c["max"]), tile([c["max"]])),              # overflow
        (np.resize([c["max"], c["-max"]], k), tile([c["max"]])),
        (np.resize([c["nan"], c["one"]], k), tile([c["one"]])),
        (np.resize([c["min_sub"], c["-max_sub"]], k), tile([c["one"], c["-one"]])),
        (np.resize([c["min_sub"], c["min_normal"]], k), tile([c["min_sub"], c["-max_sub"]])),
        (np.resize([x[0]], k), cancel),                        # x*w - x*w ...: exact zero
        (np.resize([x[0], x[0], x[-1]], k),                    # x*w - x*w': deep cancellation
         np.resize(np.stack([w[:, 0], near[:, 0] ^ sign, w[:, -1]], axis=1), (rows, k))),
        (np.resize([c["-max_sub"], c["min_normal"], c["one"]], k), uniform((rows, k))),
    ]
    if "inf" in c:
        corners += [(np.resize([c["inf"], c["one"]], k), tile([c["-0"], c["one"]])),  # NaN
                    (np.resize([c["inf"], c["inf"]], k), tile([c["one"], c["-one"]])),
                    (np.resize([c["-inf"], c["max"]], k), tile([c["one"], c["max"]]))]
    acts += [a for a, _ in corners]
    weights += [t for _, t in corners]
    return np.array(acts), np.array(weights)


def operands(cfg, rows, cols, seed, random_chunks=10):
    """Random chunks, then corners: extreme x extreme, alternating signs, all-zero."""
    if isinstance(cfg, FloatDatapath):
        return float_operands(cfg, rows, cols, seed, random_chunks)
    act_values, weight_values = legal_values(cfg)
    k = cols * cfg.column_inputs
    rng = np.random.default_rng(seed)
    acts = [rng.choice(act_values, k) for _ in range(random_chunks)]
    weights = [rng.choice(weight_values, (rows, k)) for _ in range(random_chunks)]
    a_lo, a_hi, w_lo, w_hi = act_values[0], act_values[-1], weight_values[0], weight_values[-1]
    for a, w in [(a_lo, w_lo), (a_lo, w_hi), (a_hi, w_lo), (a_hi, w_hi)]:
        acts.append(np.full(k, a))
        weights.append(np.full((rows, k), w))
    acts.append(np.resize([a_lo, a_hi], k))
    weights.append(np.full((rows, k), w_lo))
    if 0 in act_values:
        acts.append(np.zeros(k, int))
        weights.append(rng.choice(weight_values, (rows, k)))
    if 0 in weight_values:
        acts.append(rng.choice(act_values, k))
        weights.append(np.zeros((rows, k), int))
    return np.array(acts), np.array(weights)


def run_unit(cfg, rows, cols, acts, weights):
    """The generic testbench: drive ``cfg.build(rows, cols)`` by ``MatrixUnitSignature``'s
    contract (column ``c`` of chunk ``j`` at cycle ``j + c * skew``, results at
    ``j + latency``) and return ``[chunks, rows]`` results: integers for a signed result
    lane, else the lanes' codes."""
    dut = cfg.build(rows, cols)
    sig = cfg.signature(rows, cols)
    assert dut.signature == sig
    latency = cfg.latency(rows, cols)
    act_words, weight_words = cfg.pack_acts(acts), cfg.pack_weights(weights)  # [chunks, cols]
    chunks, acc, skew = len(acts), sig.result_lane_bits, sig.skew
    signed_lanes = Shape.cast(sig.result_lane).signed
    results = [None] * chunks

    async def bench(ctx):
        for t in range(chunks + latency):
            act = weight = 0
            for c in range(cols):
                j = t - c * skew
                if 0 <= j < chunks:
                    act |= int(act_words[j, c]) << (c * sig.act_lane_bits)
                    weight |= int(weight_words[j, c]) << (c * sig.weight_lane_bits)
            ctx.set(dut.act.as_value(), act)
            ctx.set(dut.weight.as_value(), weight)
            j = t - latency
            if 0 <= j < chunks:
                word = ctx.get(dut.result.as_value())
                lanes = [(word >> (r * acc)) & ((1 << acc) - 1) for r in range(rows)]
                results[j] = [v - (1 << acc) if signed_lanes and v >> (acc - 1) else v
                              for v in lanes]
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return np.array(results, dtype=np.int64)


# --- construction -------------------------------------------------------------------------

@pytest.mark.parametrize("name, cfg, wraps", MEMBERS, ids=[m[0] for m in MEMBERS])
def test_member_builds_its_signature(name, cfg, wraps):
    unit = cfg.build(3, 5)
    sig = cfg.signature(3, 5)
    assert unit.signature == sig
    assert unit.latency == cfg.latency(3, 5) == sig.pe_latency + 4 * sig.skew
    assert len(unit.weight.as_value()) == 5 * cfg.weight_lane_bits(3)
    assert len(unit.act.as_value()) == 5 * cfg.act_lane_bits
    assert len(unit.result.as_value()) == 3 * sig.result_lane_bits
    if isinstance(cfg, FloatDatapath):
        assert sig.skew == sig.pe_latency == cfg.stages
        assert sig.result_lane == cfg.acc_fmt.layout and sig.act_lane == cfg.in_fmt.layout
    else:
        assert sig.skew == 1 and sig.result_lane == signed(cfg.acc_bits)


def test_latencies_and_lanes():
    assert IntegerDatapath().latency(8, 8) == 11   # operand, 2 product, accumulator registers
    assert TernaryDatapath().latency(8, 8) == 8
    assert BinaryDatapath().latency(4, 8) == 8
    assert IntegerDatapath(weight_bits=4).weight_lane_bits(8) == 32
    assert TernaryDatapath().weight_lane_bits(8) == 16
    assert BinaryDatapath(width=32).weight_lane_bits(8) == 256
    assert BinaryDatapath(width=32).act_lane_bits == 32
    assert FloatDatapath(in_fmt=BF16, acc_fmt=FP32, stages=3).latency(8, 8) == 24
    assert FloatDatapath(in_fmt=BF16, acc_fmt=FP32, stages=1).latency(4, 8) == 8
    assert FloatDatapath(in_fmt=FP8_E4M3, acc_fmt=FP16).weight_lane_bits(4) == 32
    assert FloatDatapath(in_fmt=FP8_E4M3, acc_fmt=FP16).act_lane_bits == 8
    assert FloatDatapath(in_fmt=BF16, acc_fmt=FP32).signature(2, 3).result_lane_bits == 32
    assert FloatDatapath(in_fmt=BF16, acc_fmt=FP32).norm == EXACT


def test_signature_equality_and_repr():
    sig = MatrixUnitSignature(rows=2, cols=3, act_lane=signed(8), weight_lane=unsigned(4),
                              acc_bits=16, pe_latency=1)
    assert sig == TernaryDatapath(act_bits=8, acc_bits=16).signature(2, 3)
    assert sig != TernaryDatapath(act_bits=8, acc_bits=17).signature(2, 3)
    assert sig != IntegerDatapath(act_bits=8, weight_bits=2, acc_bits=16).signature(2, 3)
    assert sig.latency == 3 and sig.act_lane_bits == 8 and sig.weight_lane_bits == 4
    assert repr(sig).startswith("MatrixUnitSignature(rows=2, cols=3, act_lane=signed(8)")
    assert sig.result_lane == signed(16) and sig.skew == 1 and sig.acc_bits == 16
    same = MatrixUnitSignature(rows=2, cols=3, act_lane=signed(8), weight_lane=unsigned(4),
                               result_lane=signed(16), pe_latency=1)
    assert same == sig
    fdp = FloatDatapath(in_fmt=BF16, acc_fmt=FP32, stages=2)
    fsig = MatrixUnitSignature(rows=2, cols=3, act_lane=BF16.layout, result_lane=FP32.layout,
                               weight_lane=fdp.signature(2, 3).weight_lane, pe_latency=2,
                               skew=2)
    assert fsig == fdp.signature(2, 3) and fsig.latency == 6
    assert fsig != dataclasses.replace(fdp, stages=3).signature(2, 3)
    assert "result_lane=StructLayout" in repr(fsig) and repr(fsig).endswith("skew=2)")


@pytest.mark.parametrize("kwargs, error, message", [
    ({}, TypeError, "give exactly one of acc_bits and result_lane"),
    ({"acc_bits": 8, "result_lane": signed(8)}, TypeError,
     "give exactly one of acc_bits and result_lane"),
    ({"result_lane": 8}, TypeError, "result_lane must be a shape or a layout, not 8"),
    ({"acc_bits": 8, "skew": 3}, ValueError, "skew must be an integer from 1 to 2, not 3"),
    ({"acc_bits": 8, "skew": 0}, ValueError, "skew must be an integer from 1 to 2, not 0"),
])
def test_signature_refuses(kwargs, error, message):
    with pytest.raises(error, match=message):
        MatrixUnitSignature(rows=2, cols=3, act_lane=signed(8), weight_lane=unsigned(4),
                            pe_latency=2, **kwargs)


def test_configs_are_frozen_and_revalidated():
    cfg = TernaryDatapath()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.acc_bits = 3
    assert dataclasses.replace(cfg, acc_bits=20).acc_bits == 20
    with pytest.raises(ValueError, match="acc_bits must be an integer from 2 to 64, not 1"):
        dataclasses.replace(cfg, acc_bits=1)


# --- bad parameters -------------------------------------------------------------------------

@pytest.mark.parametrize("make, message", [
    (lambda: IntegerDatapath(act_bits=0), "act_bits must be an integer from 1 to 64, not 0"),
    (lambda: IntegerDatapath(weight_bits=65),
     "weight_bits must be an integer from 1 to 64, not 65"),
    (lambda: IntegerDatapath(acc_bits=8.0), "acc_bits must be an integer, not 8.0"),
    (lambda: TernaryDatapath(act_bits=1), "act_bits must be an integer from 2 to 32, not 1"),
    (lambda: TernaryDatapath(acc_bits=65), "acc_bits must be an integer from 2 to 64, not 65"),
    (lambda: BinaryDatapath(width=0), "width must be an integer from 1 to 1024, not 0"),
    (lambda: BinaryDatapath(acc_bits=1), "acc_bits must be an integer from 2 to 64, not 1"),
    (lambda: BinaryDatapath(mode="or"), "mode must be one of xnor, and, not 'or'"),
    (lambda: IntegerDatapath().build(0, 4), "array rows must be an integer from 1 to 256, not 0"),
    (lambda: TernaryDatapath().latency(4, 257),
     "array cols must be an integer from 1 to 256, not 257"),
    (lambda: IntegerDatapath(weight_bits=4).pack_weights([[8]]),
     "weights must be integers from -8 to 7, not 8"),
    (lambda: IntegerDatapath(act_bits=4).pack_acts([-9]),
     "activations must be integers from -8 to 7, not -9"),
    (lambda: IntegerDatapath().pack_weights([[0.5]]), "weights must be integers, not float64"),
    (lambda: IntegerDatapath().pack_weights([1, 2]),
     "weights needs at least 2 dimensions, not shape \\(2,\\)"),
    (lambda: TernaryDatapath().pack_weights([[0, 2]]),
     "ternary weights must be -1, 0 or \\+1, not 2"),
    (lambda: BinaryDatapath(width=2).pack_weights([[1, 0]]),
     "binary weights must be -1 or \\+1, not 0"),
    (lambda: BinaryDatapath(width=2).pack_weights([[1, 1, 1]]),
     "weights has 3 inputs per chunk, not a positive multiple of 2"),
    (lambda: BinaryDatapath(width=2, mode="and").pack_acts([1, -1]),
     "and-mode activations must be 0 or 1, not -1"),
    (lambda: BinaryDatapath(width=2).pack_acts([1, 0]),
     "binary activations must be -1 or \\+1, not 0"),
    (lambda: FloatDatapath(in_fmt=FP16, acc_fmt=BF16),
     "acc_fmt mantissa bits \\(at least in_fmt's\\) must be an integer from 10 to 23, not 7"),
    (lambda: FloatDatapath(in_fmt=BF16, acc_fmt=FP32, stages=7),
     "stages must be an integer from 1 to 6, not 7"),
    (lambda: FloatDatapath(in_fmt=BF16, acc_fmt=FP32, stages=True),
     "stages must be an integer, not True"),
    (lambda: FloatDatapath(in_fmt=BF16, acc_fmt=FP32).build(2, 0),
     "array cols must be an integer from 1 to 256, not 0"),
    (lambda: FloatDatapath(in_fmt=FP8_E4M3, acc_fmt=FP16).pack_weights([[256]]),
     "weights must be in_fmt codes from 0 to 255, not 256"),
    (lambda: FloatDatapath(in_fmt=FP8_E4M3, acc_fmt=FP16).pack_acts([-1]),
     "activations must be in_fmt codes from 0 to 255, not -1"),
    (lambda: FloatDatapath(in_fmt=BF16, acc_fmt=FP32).pack_acts([1.5]),
     "activations must be integers, not float64"),
])
def test_bad_parameters(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("make, message", [
    (lambda: FloatDatapath(in_fmt=16, acc_fmt=FP32), "in_fmt must be a FloatFormat, not 16"),
    (lambda: FloatDatapath(in_fmt=BF16, acc_fmt="fp32"),
     "acc_fmt must be a FloatFormat, not 'fp32'"),
    (lambda: FloatDatapath(in_fmt=BF16, acc_fmt=FP32, norm="exact"),
     "norm must be an ApproxNorm, not 'exact'"),
    (lambda: FloatDatapath(BF16, FP32), "takes 1 positional argument"),
])
def test_bad_parameter_types(make, message):
    with pytest.raises(TypeError, match=message):
        make()


# --- packers --------------------------------------------------------------------------------

def pack_lanes(lanes, bits: int) -> int:
    """Lane ``i`` at bits ``[i*bits, (i+1)*bits)``, two's complement (the engine's word)."""
    return sum((int(v) & ((1 << bits) - 1)) << (i * bits) for i, v in enumerate(lanes))


def test_packers_agree_with_golden_and_engine_encodings():
    rng = np.random.default_rng(5)
    w = rng.integers(-128, 128, (2, 3, 4))                       # [tiles, rows, cols]
    np.testing.assert_equal(IntegerDatapath().pack_weights(w),
                            [[pack_lanes(t[:, c], 8) for c in range(4)] for t in w])
    t = rng.integers(-1, 2, (2, 3, 4))
    np.testing.assert_equal(TernaryDatapath().pack_weights(t), pack_ternary(np.swapaxes(t, 1, 2)))
    assert int(TernaryDatapath().pack_weights([[0], [1], [-1], [1]])[0]) == 0b01_11_01_00
    b = rng.choice([-1, 1], (2, 3, 4 * 5))                       # [tiles, rows, cols * width]
    bits = ((b + 1) // 2).reshape(2, 3, 4, 5).transpose(0, 2, 1, 3)  # [tiles, cols, rows, w]
    per_row = pack_bits(bits)
    words = sum(per_row[..., r] << (r * 5) for r in range(3))
    np.testing.assert_equal(BinaryDatapath(width=5).pack_weights(b), words)
    a = rng.choice([-1, 1], (2, 20))
    np.testing.assert_equal(BinaryDatapath(width=5).pack_acts(a),
                            pack_bits(((a + 1) // 2).reshape(2, 4, 5)))
    f = rng.integers(0, 1 << 16, (2, 3, 4))                      # bf16 codes [tiles, rows, cols]
    np.testing.assert_equal(FloatDatapath(in_fmt=BF16, acc_fmt=FP32).pack_weights(f),
                            [[sum(int(t[r, c]) << (16 * r) for r in range(3)) for c in range(4)]
                             for t in f])
    assert int(FloatDatapath(in_fmt=FP8_E4M3, acc_fmt=FP16).pack_weights(
        [[0x38], [0xB8]])[0]) == 0xB838                          # +1.0, -1.0 in E4M3
    np.testing.assert_equal(FloatDatapath(in_fmt=BF16, acc_fmt=FP32).pack_acts(f[0]), f[0])


# --- behaviour: one testbench, every member -------------------------------------------------

@pytest.mark.parametrize("name, cfg, wraps, rows, cols", CASES,
                         ids=[f"{case[0]}-{case[3]}x{case[4]}" for case in CASES])
def test_member_matches_golden(name, cfg, wraps, rows, cols):
    acts, weights = operands(cfg, rows, cols, seed=rows * 100 + cols)
    want = golden(cfg, acts, weights)
    np.testing.assert_equal(run_unit(cfg, rows, cols, acts, weights), want)
    if wraps:   # the corners really overflowed the accumulator
        exact = np.einsum("jk,jrk->jr", acts, weights)
        assert (exact != want).any()
