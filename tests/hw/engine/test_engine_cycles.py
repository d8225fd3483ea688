"""The cycle model (``sim.engine.cycles.program_cycles``) against the RTL's cycle counts.

Tolerance: none.  The model is exact (same cycle count) for a host stream that is always
valid and an output that is always ready; every program here is checked for equality.
"""

import random

from engine_programs import program_for, random_add, random_window
from engine_rtl_sim import SMALL, Stream, compare, encode, pack, run_rtl
from neurogate.hw.engine.exec import ExecUnit
from neurogate.hw.engine.isa import Memory, Opcode, Unit
from neurogate.hw.engine.matrix import MatrixPath
from neurogate.sim.engine.cycles import program_cycles

LOAD, EXEC, STORE = (1 << Unit.LOAD), (1 << Unit.EXEC), (1 << Unit.STORE)
C = SMALL


def program_of(stream: Stream) -> list[int]:
    """The instruction words of the stream's (first) PROGRAM."""
    count = (stream.words[0] >> 4) & 0xFFFF
    parts = C.host_words(384)
    words = stream.words[1:1 + count * parts]
    return [sum(w << (64 * k) for k, w in enumerate(words[i:i + parts]))
            for i in range(0, len(words), parts)]


def rtl_run_cycles(stream: Stream) -> int:
    result = compare(C, stream.words)
    assert len(result.run_cycles) == 1
    return result.run_cycles[0]


def test_random_programs_take_the_modelled_cycles():
    rng = random.Random(11)
    for ops in ([(Opcode.MATMUL, random_window(rng, C, Opcode.MATMUL)) for _ in range(2)],
                [(Opcode.POOL, random_window(rng, C, Opcode.POOL)) for _ in range(2)],
                [(Opcode.ADD, random_add(rng, C)) for _ in range(2)]):
        stream = program_for(rng, C, ops)
        assert rtl_run_cycles(stream) == program_cycles(C, program_of(stream))


def overlap_program(overlap: bool) -> Stream:
    """MATMUL on weight rows 0..31 while the next weights load into rows 32..63 (or,
    without ``overlap``, after it), then a MATMUL on them."""
    rng = random.Random(12)
    n = C.array
    act = [pack([rng.randint(-128, 127) for _ in range(n)], C.lane_bits) for _ in range(64)]
    w = [[pack([rng.randint(-128, 127) for _ in range(n)], C.weight_bits)
          for _ in range(32 * n)] for _ in range(2)]
    window = dict(oh=2, ow=4, tiles=2, kh=1, kw=1, chunks=16, ih=1, iw=1, a_ox=16,
                  o_ox=2, lo=-128, hi=127, rshift=8)
    prog = [encode(Opcode.LOAD, mem=Memory.SPAD, addr=0, count=64),
            encode(Opcode.LOAD, mem=Memory.WBUF, addr=0, count=32 * n),
            encode(Opcode.MATMUL, wait=LOAD, o_base=128, w_base=0, **window),
            encode(Opcode.LOAD, wait=0 if overlap else EXEC, mem=Memory.WBUF, addr=32,
                   count=32 * n),
            encode(Opcode.MATMUL, wait=LOAD, o_base=160, w_base=32, **window),
            encode(Opcode.STORE, wait=EXEC, addr=128, count=48, last=1),
            encode(Opcode.END)]
    return Stream(C).program(prog).run(0, [act, w[0], w[1]],
                                       [Memory.SPAD, Memory.WBUF, Memory.WBUF])


def test_weight_load_overlaps_matmul():
    together, apart = overlap_program(True), overlap_program(False)
    fast, slow = rtl_run_cycles(together), rtl_run_cycles(apart)
    assert fast == program_cycles(C, program_of(together))
    assert slow == program_cycles(C, program_of(apart))
    assert slow - fast >= 32 * C.array     # the first MATMUL (longer) hides the whole load


def test_matmul_issues_a_chunk_every_cycle():
    """A long conv: the exec unit is busy cells + a fixed overhead (no bubbles between
    chunks, tiles or pixels); the overhead is the array latency and 16 cycles (the
    pipeline registers of the operands, the scratchpad's ports and read data, and the
    output stage)."""
    window = dict(oh=6, ow=5, tiles=3, kh=3, kw=3, chunks=2, ih=6, iw=5, sy=1, sx=1, dy=1,
                  dx=1, pt=1, pl=1, a_start=(-10 - 2) % (1 << 20), a_oy=10, a_ox=2, a_ky=10,
                  a_kx=2, o_base=100, o_oy=15, o_ox=3, lo=-128, hi=127, rshift=10)
    prog = [encode(Opcode.MATMUL, **window), encode(Opcode.END)]
    stream = Stream(C).program(prog).run(0)
    cells = 6 * 5 * 3 * 3 * 3 * 2
    overhead = ExecUnit.cycles(C, Opcode.MATMUL, cells) - cells
    assert overhead == MatrixPath.latency(C) + 16
    assert rtl_run_cycles(stream) == program_cycles(C, prog)


def test_gaps_and_stalls_only_slow_it_down():
    stream = overlap_program(True)
    base = program_cycles(C, program_of(stream))
    slow = run_rtl(C, stream.words, gaps=0.3, stalls=0.3, seed=1).run_cycles[0]
    assert slow > base


def test_store_and_exec_share_the_read_port():
    """No wait bits: a STORE waits for the exec unit (its POOL's words are the ones
    sent), and the POOL after it waits for the STORE (it overwrites what is sent); the
    run takes the modelled cycles."""
    rng = random.Random(13)
    n = C.array
    act = [pack([rng.randint(-128, 127) for _ in range(n)], C.lane_bits) for _ in range(16)]
    pool = dict(oh=2, ow=2, tiles=1, kh=2, kw=2, chunks=1, ih=4, iw=4, a_oy=8, a_ox=2,
                a_ky=4, a_kx=1, o_oy=2, o_ox=1, pool_max=1, lo=-128, hi=127)
    prog = [encode(Opcode.LOAD, mem=Memory.SPAD, addr=0, count=16),
            encode(Opcode.POOL, o_base=40, **pool),
            encode(Opcode.STORE, addr=40, count=4),
            encode(Opcode.POOL, o_base=40, a_start=1, **pool),
            encode(Opcode.STORE, wait=EXEC, addr=40, count=4, last=1),
            encode(Opcode.END)]
    stream = Stream(C).program(prog).run(0, [act], [Memory.SPAD])
    assert rtl_run_cycles(stream) == program_cycles(C, program_of(stream))
    first = compare(C, stream.words).outputs[:4]
    assert first != compare(C, stream.words).outputs[4:]    # the two POOLs differ
