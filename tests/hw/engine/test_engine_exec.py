"""The engine's RTL against the ISS on random MATMUL, POOL and ADD programs: conv windows
(stride, dilation, padding, several chunks and tiles, unsigned activations, a negative
``a_start``), dense-like windows, every rounding mode and clip of the output stage, with
random valid gaps on the host stream and back-pressure on the output."""

import random

import pytest
from engine_programs import dense_window, program_for, random_add, random_window
from engine_rtl_sim import SMALL, compare
from neurogate.hw.engine.config import EngineConfig
from neurogate.hw.engine.isa import Opcode


@pytest.mark.parametrize("seed", range(4))
def test_random_conv_matmuls(seed):
    rng = random.Random(seed)
    ops = [(Opcode.MATMUL, random_window(rng, SMALL, Opcode.MATMUL)) for _ in range(3)]
    compare(SMALL, program_for(rng, SMALL, ops, corners=seed % 2 == 1).words,
            gaps=0.2 * (seed % 2), stalls=0.3 * (seed // 2), seed=seed)


@pytest.mark.parametrize("seed", range(2))
def test_dense_like_matmuls(seed):
    rng = random.Random(100 + seed)
    ops = [(Opcode.MATMUL, dense_window(rng, SMALL)) for _ in range(3)]
    compare(SMALL, program_for(rng, SMALL, ops, corners=seed == 1).words, seed=seed)


@pytest.mark.parametrize("seed", range(3))
def test_random_pools(seed):
    rng = random.Random(200 + seed)
    ops = [(Opcode.POOL, random_window(rng, SMALL, Opcode.POOL)) for _ in range(4)]
    compare(SMALL, program_for(rng, SMALL, ops, corners=True).words,
            gaps=0.1, stalls=0.2, seed=seed)


@pytest.mark.parametrize("seed", range(2))
def test_random_adds(seed):
    rng = random.Random(300 + seed)
    ops = [(Opcode.ADD, random_add(rng, SMALL)) for _ in range(4)]
    compare(SMALL, program_for(rng, SMALL, ops, corners=True).words,
            stalls=0.5 * seed, seed=seed)


@pytest.mark.parametrize("a_unsigned", [0, 1])
def test_wide_matmuls(a_unsigned):
    """Two-byte activations as byte planes: low-byte chunks unsigned, high-byte chunks
    signed (or not) and worth ``2**lane_bits``."""
    rng = random.Random(400 + a_unsigned)
    ops = []
    while len(ops) < 3:
        f = random_window(rng, SMALL, Opcode.MATMUL)
        if f["chunks"] % 2 == 0:
            ops.append((Opcode.MATMUL, {**f, "wide": 1, "a_unsigned": a_unsigned}))
    compare(SMALL, program_for(rng, SMALL, ops, corners=True).words)


@pytest.mark.parametrize("config", [
    # an odd array, weight words over one host word, biases over two, 40-bit sums
    EngineConfig(array=3, weight_bits=16, acc_bits=40, spad_words=256, wbuf_words=64,
                 bias_words=16, prog_words=16),
    # 16-bit lanes, 4-bit weights, a narrow accumulator that wraps
    EngineConfig(array=2, lane_bits=16, weight_bits=4, acc_bits=20, spad_words=256,
                 wbuf_words=32, bias_words=16, prog_words=16),
    # host words wider than 64 bits (one scratchpad word)
    EngineConfig(array=9, lane_bits=8, weight_bits=8, acc_bits=32, spad_words=256,
                 wbuf_words=16, bias_words=16, prog_words=16),
], ids=["3x3-w16-acc40", "2x2-lane16-acc20", "9x9-host72"])
def test_other_configurations(config):
    rng = random.Random(config.array)
    ops = [(Opcode.MATMUL, random_window(rng, config, Opcode.MATMUL)),
           (Opcode.MATMUL, dense_window(rng, config)),
           (Opcode.POOL, random_window(rng, config, Opcode.POOL)),
           (Opcode.ADD, random_add(rng, config))]
    compare(config, program_for(rng, config, ops, corners=True).words, gaps=0.1, stalls=0.1)
