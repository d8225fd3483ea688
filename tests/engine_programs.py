"""Random MATMUL, POOL and ADD programs for the engine's RTL tests (tests/hw/engine):
memories loaded with random words, conv-like and dense-like windows, random output
stages."""

import random

from engine_rtl_sim import Stream, encode, pack
from neurogate.hw.engine.config import EngineConfig
from neurogate.hw.engine.isa import Memory, Opcode, Unit

LOAD, EXEC, STORE = (1 << Unit.LOAD), (1 << Unit.EXEC), (1 << Unit.STORE)
IN_WORDS = 128          # the input region [0, 128); ADD writes from 128, windows from 192
ADD_OUT, WIN_OUT = 128, 192


def extreme(rng: random.Random, bits: int, signed: bool = True) -> int:
    """A random value of ``bits``, often a corner (most negative, zero, largest)."""
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    return rng.choice([lo, hi, 0, -1 if signed else 1, rng.randint(lo, hi), rng.randint(lo, hi)])


def random_memories(rng: random.Random, c: EngineConfig, corners: bool):
    """Words for the whole weight buffer and bias memory and the scratchpad's input."""
    n = c.array

    def value(bits):
        return extreme(rng, bits) if corners else rng.randint(-(1 << (bits - 1)),
                                                            (1 << (bits - 1)) - 1)
    spad = [pack([value(c.lane_bits) for _ in range(n)], c.lane_bits) for _ in range(IN_WORDS)]
    wbuf = [pack([value(c.weight_bits) for _ in range(n)], c.weight_bits)
            for _ in range(c.wbuf_words * n)]
    bias = [pack([value(c.acc_bits) if corners else rng.randint(-5000, 5000)
                  for _ in range(n)], c.acc_bits) for _ in range(c.bias_words)]
    return spad, wbuf, bias


def random_stage(rng: random.Random, c: EngineConfig, typical_shift: int) -> dict:
    lane_lo, lane_hi = rng.choice([(-(1 << (c.lane_bits - 1)), (1 << (c.lane_bits - 1)) - 1),
                                   (0, (1 << c.lane_bits) - 1)])
    lo, hi = rng.choice([(lane_lo, lane_hi), (lane_lo, lane_hi),
                         (rng.randint(-(1 << 16), 50), rng.randint(-50, (1 << 16) - 1)),
                         (rng.randint(-(1 << 16), (1 << 16) - 1),
                          rng.randint(-(1 << 16), (1 << 16) - 1))])
    return dict(lshift=rng.choice([0, 0, rng.randint(0, 15)]),
                rshift=rng.choice([typical_shift, rng.randint(0, typical_shift + 4),
                                   rng.randint(0, 63)]),
                rounding=rng.randint(0, 7), lo=lo, hi=hi, wrap=int(rng.random() < 0.2))


def random_window(rng: random.Random, c: EngineConfig, op: Opcode) -> dict:
    """A conv-like window over a random ``ih x iw x groups`` input at address 0."""
    groups = rng.choice([1, 2, 2, 3, 4])
    ih, iw = rng.randint(1, 6), rng.randint(1, 6)
    while ih * iw * groups > IN_WORDS:
        ih = max(1, ih - 1)
    kh, kw = rng.randint(1, 3), rng.randint(1, 3)
    sy, sx, dy, dx = (rng.randint(1, 2) for _ in range(4))
    pt, pl = rng.randint(0, 2), rng.randint(0, 2)
    oh, ow = rng.randint(1, 4), rng.randint(1, 4)
    if op is Opcode.MATMUL:
        tiles, chunks, a_t = rng.randint(1, 3), groups, 0
    else:
        tiles, chunks, a_t = groups, 1, 1
    row = iw * groups
    f = dict(oh=oh, ow=ow, tiles=tiles, kh=kh, kw=kw, chunks=chunks, ih=ih, iw=iw,
             sy=sy, sx=sx, dy=dy, dx=dx, pt=pt, pl=pl,
             a_start=(-pt * row - pl * groups) % (1 << 20), a_oy=sy * row, a_ox=sx * groups,
             a_t=a_t, a_ky=dy * row, a_kx=dx * groups,
             o_base=WIN_OUT, o_oy=ow * tiles, o_ox=tiles, a_unsigned=rng.randint(0, 1))
    if op is Opcode.MATMUL:
        f.update(w_base=rng.randint(0, c.wbuf_words - 1), b_base=rng.randint(0, 15),
                 wide=int(groups % 2 == 0 and rng.random() < 0.5))
        f.update(random_stage(rng, c, 12))
    else:
        f.update(pool_max=rng.randint(0, 1))
        f.update(random_stage(rng, c, rng.randint(0, 3)))
    return f


def dense_window(rng: random.Random, c: EngineConfig) -> dict:
    """A dense layer: 1 x 1 window over ``chunks`` words, a batch of ``ow`` at ``a_ox``."""
    chunks, ow = rng.randint(4, 20), rng.randint(2, 5)
    return dict(oh=1, ow=ow, tiles=rng.randint(1, 3), kh=1, kw=1, chunks=chunks, ih=1, iw=1,
                sy=0, sx=0, dy=0, dx=0, pt=0, pl=0, a_start=rng.randint(0, 10), a_oy=0,
                a_ox=chunks, a_t=0, a_ky=0, a_kx=0, o_base=WIN_OUT, o_oy=0, o_ox=3,
                w_base=rng.randint(0, 63), b_base=rng.randint(0, 15),
                a_unsigned=rng.randint(0, 1), wide=int(chunks % 2 == 0 and rng.random() < 0.5),
                **random_stage(rng, c, 14))


def outputs_of(f: dict) -> int:
    return max(f["o_oy"] * (f["oh"] - 1) + f["o_ox"] * (f["ow"] - 1) + f["tiles"], 1)


def program_for(rng: random.Random, c: EngineConfig, ops: list[tuple[Opcode, dict]],
                corners: bool = False) -> Stream:
    """Load random memories, then each op followed by a STORE of its outputs."""
    spad, wbuf, bias = random_memories(rng, c, corners)
    prog = [encode(Opcode.LOAD, mem=Memory.SPAD, addr=0, count=len(spad)),
            encode(Opcode.LOAD, mem=Memory.WBUF, addr=0, count=len(wbuf)),
            encode(Opcode.LOAD, mem=Memory.BIAS, addr=0, count=len(bias))]
    for op, f in ops:
        base, count = (f["o_base"], f["count"]) if op is Opcode.ADD else (WIN_OUT, outputs_of(f))
        prog += [encode(op, wait=LOAD | STORE, **f),
                 encode(Opcode.STORE, wait=EXEC, addr=base, count=count,
                        last=rng.randint(0, 1))]
    prog.append(encode(Opcode.END))
    return Stream(c).program(prog).run(0, [spad, wbuf, bias],
                                       [Memory.SPAD, Memory.WBUF, Memory.BIAS])


def random_add(rng: random.Random, c: EngineConfig) -> dict:
    count = rng.randint(1, 40)
    return dict(a_base=rng.randint(0, IN_WORDS - count), b_base=rng.randint(0, IN_WORDS - count),
                o_base=ADD_OUT, count=count, a_unsigned=rng.randint(0, 1),
                b_unsigned=rng.randint(0, 1), la=rng.randint(0, 15), lb=rng.randint(0, 15),
                **random_stage(rng, c, 6))
