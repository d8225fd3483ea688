"""The integer non-linear HLS kernels (ng_nonlinear.h: Softmax, Norm, Activation, IGelu)
C-simulated with g++ against the golden interpreter, element for element: every int8 input
of the elementwise units, the widest configs, and the corner rows of the row units (a
single large logit, all-equal rows, rows of one element, zero-variance rows).

All cases go into one C++ program (one g++ run, cached by ``gxx.build``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hls_programs import Case, csim
from neurogate.compiler.builder import GraphBuilder
from neurogate.numerics.formats import IntFormat
from neurogate.numerics.nonlinear import (
    ActivationConfig,
    IGeluConfig,
    NormConfig,
    SoftmaxConfig,
)

# --- the cases --------------------------------------------------------------------------------

RNG = np.random.default_rng(7)


def unit(name: str, kind: str, config, fmt: IntFormat, x: np.ndarray) -> Case:
    b = GraphBuilder(name)
    inp = b.input(f"{name}_x", x.shape[1:], fmt)
    getattr(b, kind)(inp, config, name=name)
    return Case(name, b.build([name]), {inp: x})


def every(bits: int) -> np.ndarray:
    """Every ``bits``-bit signed integer, one batch item."""
    return np.arange(-(1 << (bits - 1)), 1 << (bits - 1), dtype=np.int64)[None, :]


def rows(lo: int, hi: int, length: int, count: int = 12) -> np.ndarray:
    """``(count, 8, length)``: rows with a single large value, all equal, all min / max,
    alternating extremes, two equal maxima, then uniform random rows."""
    special = [np.full(length, lo), np.full(length, hi), np.full(length, 0),
               np.full(length, int(RNG.integers(lo, hi + 1))),
               np.where(np.arange(length) % 2 == 0, hi, lo)]
    one_hot = np.full(length, lo)
    one_hot[length // 3] = hi
    big = RNG.integers(lo, lo + 3, length)
    big[-1] = hi
    two = np.full(length, lo // 2)
    two[0] = two[-1] = hi
    special += [one_hot, big, two]
    random = RNG.integers(lo, hi + 1, (count * 8 - len(special), length))
    return np.concatenate([np.array(special), random]).reshape(count, 8, length)


def signed(bits: int) -> tuple[int, int]:
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def softmax_cases() -> list[Case]:
    cases = []
    for k, (method, binarize) in enumerate([("iexp", False), ("shiftmax", False),
                                             ("iexp", True), ("shiftmax", True)]):
        cfg = SoftmaxConfig(in_bits=8, in_frac=4, out_bits=8, max_len=16, method=method,
                            binarize=binarize)
        cases.append(unit(f"softmax_{k}", "softmax", cfg, IntFormat(8, frac=4),
                          rows(-128, 127, 10)))
    cfg = SoftmaxConfig(in_bits=16, in_frac=12, out_bits=16, max_len=4096, method="iexp")
    cases.append(unit("softmax_wide_iexp", "softmax", cfg, IntFormat(16, frac=12),
                      rows(*signed(16), 33, count=3)))
    cfg = SoftmaxConfig(in_bits=16, in_frac=0, out_bits=16, max_len=4096, method="shiftmax")
    cases.append(unit("softmax_wide_shiftmax", "softmax", cfg, IntFormat(16),
                      rows(*signed(16), 33, count=3)))
    cfg = SoftmaxConfig(in_bits=2, in_frac=0, out_bits=2, max_len=3)
    cases.append(unit("softmax_narrow", "softmax", cfg, IntFormat(2), rows(-2, 1, 3)))
    for method in ("iexp", "shiftmax"):
        cfg = SoftmaxConfig(in_bits=8, in_frac=3, out_bits=6, max_len=1, method=method)
        cases.append(unit(f"softmax_len1_{method}", "softmax", cfg, IntFormat(8, frac=3),
                          rows(-128, 127, 1)))
    cfg = SoftmaxConfig(in_bits=8, in_frac=2, out_bits=8, max_len=8)
    cases.append(unit("softmax_unsigned_in", "softmax", cfg,
                      IntFormat(7, signed=False, frac=2), rows(0, 127, 8)))
    return cases


def activation_cases() -> list[Case]:
    cases = []
    for function in ("sigmoid", "silu", "shiftgelu"):
        for method in ("iexp", "shiftmax"):
            cfg = ActivationConfig(function=function, in_bits=8, in_frac=4, out_bits=8,
                                   out_frac=4, method=method)
            cases.append(unit(f"act_{function}_{method}", "activation", cfg,
                              IntFormat(8, frac=4), every(8)))
            # widest input and output, the finest output (product_shift 0) and the coarsest
            lo, hi = signed(15)
            x = np.concatenate([[lo, lo + 1, hi, hi - 1, 0, -1, 1],
                                RNG.integers(lo, hi + 1, 505)])[None, :]
            for out_frac in (0, 30):
                cfg = ActivationConfig(function=function, in_bits=15, in_frac=12, out_bits=16,
                                       out_frac=out_frac, method=method)
                cases.append(unit(f"act_{function}_{method}_wide{out_frac}", "activation", cfg,
                                  IntFormat(15, frac=12), x))
        cfg = ActivationConfig(function=function, in_bits=2, in_frac=0, out_bits=2, out_frac=0)
        cases.append(unit(f"act_{function}_narrow", "activation", cfg, IntFormat(2), every(2)))
    return cases


def igelu_cases() -> list[Case]:
    lo, hi = signed(16)
    x16 = np.concatenate([[lo, lo + 1, hi, hi - 1, 0, -1, 1],
                          RNG.integers(lo, hi + 1, 1017)])[None, :]
    return [
        unit("igelu_int8", "igelu", IGeluConfig(in_bits=8, in_frac=4, out_bits=8, out_frac=4),
             IntFormat(8, frac=4), every(8)),
        unit("igelu_fine", "igelu", IGeluConfig(in_bits=16, in_frac=12, out_bits=16,
                                                out_frac=16), IntFormat(16, frac=12), x16),
        unit("igelu_coarse", "igelu", IGeluConfig(in_bits=16, in_frac=0, out_bits=16,
                                                  out_frac=0), IntFormat(16), x16),
        unit("igelu_narrow", "igelu", IGeluConfig(in_bits=2, in_frac=0, out_bits=2, out_frac=0),
             IntFormat(2), every(2)),
    ]


def norm_cases() -> list[Case]:
    cases = []
    i8 = IntFormat(8)
    for kind in ("layernorm", "rmsnorm"):
        cfg = NormConfig(kind=kind, in_bits=8, out_bits=8, out_frac=5, max_len=16)
        cases.append(unit(f"norm_{kind}", "norm", cfg, i8, rows(-128, 127, 16)))
        gamma = [int(v) for v in RNG.integers(-128, 128, 16)]
        beta = [int(v) for v in RNG.integers(-128, 128, 16)]
        cfg = NormConfig(kind=kind, in_bits=8, out_bits=8, out_frac=5, max_len=16,
                         gamma=gamma, beta=beta if kind == "layernorm" else None)
        # rows of 12 of a 16-channel config: the first 12 gamma / beta values
        cases.append(unit(f"norm_{kind}_affine", "norm", cfg, i8, rows(-128, 127, 12)))
        cfg = NormConfig(kind=kind, in_bits=8, out_bits=8, out_frac=3, max_len=1)
        cases.append(unit(f"norm_{kind}_len1", "norm", cfg, i8, rows(-128, 127, 1)))
    # the widest: 16-bit inputs, rows of 1024, 18-bit gamma, out_frac = out_bits; gamma
    # and beta small but for their extremes, so that most outputs do not saturate.
    # (Plain ints: NormConfig keeps NumPy scalars as given, and the golden's beta << shift
    # then overflows int64.)
    lo, hi = signed(16)
    g_lo, g_hi = signed(18)
    gamma = [g_lo, g_hi, *map(int, RNG.integers(-(2**14), 2**14, 1022))]
    beta = [lo, hi, *map(int, RNG.integers(-(2**13), 2**13, 1022))]
    cfg = NormConfig(kind="layernorm", in_bits=16, out_bits=16, out_frac=16, max_len=1024,
                     gamma=gamma, beta=beta, gamma_bits=18, gamma_frac=17)
    cases.append(unit("norm_wide_affine", "norm", cfg, IntFormat(16),
                      rows(lo, hi, 1024, count=1)))
    cfg = NormConfig(kind="rmsnorm", in_bits=16, out_bits=16, out_frac=16, max_len=1024)
    cases.append(unit("norm_wide", "norm", cfg, IntFormat(16), rows(lo, hi, 1024, count=1)))
    return cases


CASES = softmax_cases() + activation_cases() + igelu_cases() + norm_cases()


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return csim(CASES, tmp_path_factory.mktemp("hls_nonlinear"), "nonlinear_test")


# --- construction -------------------------------------------------------------------------------


def test_softmax_config_sizes_every_intermediate():
    case = next(c for c in CASES if c.name == "softmax_wide_iexp")
    kc = case.bind()
    cfg = case.node.config
    assert kc.header == "ng_nonlinear.h" and kc.arrays == ()
    assert f"typedef ap_uint<{cfg.norm_shift + 1}> num_t;" in kc.config
    assert "static const unsigned n = 264, row_len = 33, rows = 8;" in kc.config
    assert any(line.strip() == f"typedef ap_uint<{cfg.exp_bits + 1}> exp_t;"
               for line in kc.config)


def test_norm_binding_passes_gamma_and_beta_of_the_row():
    case = next(c for c in CASES if c.name == "norm_rmsnorm_affine")
    kc = case.bind()
    gamma, beta = kc.arrays
    assert (gamma.name, gamma.ctype, beta.ctype) == ("norm_rmsnorm_affine_gamma", "ap_int<8>",
                                                     "ap_int<8>")
    np.testing.assert_equal(gamma.values, case.node.config.gamma[:12])
    np.testing.assert_equal(beta.values, np.zeros(12))      # no beta: zeros
    assert kc.call == ("ng::norm<{config}>({in0}, {out}, norm_rmsnorm_affine_gamma, "
                       "norm_rmsnorm_affine_beta);")


def test_the_widest_intermediates():
    """The Norm's variance needs more than 64 bits; the i-GELU's ``-q * scale`` fits in 60."""
    def width(case: str, typedef: str) -> int:
        config = next(c for c in CASES if c.name == case).bind().config
        line = next(line for line in config if line.endswith(f" {typedef};"))
        return int(line.split("<")[1].split(">")[0])

    assert width("norm_wide_affine", "var_t") > 64
    assert width("igelu_fine", "w_t") <= 60 and width("igelu_coarse", "w_t") <= 60


# --- behaviour: the C-sim equals the golden interpreter ---------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_csim_matches_golden(case, results):
    np.testing.assert_equal(results[case.name], case.golden())
