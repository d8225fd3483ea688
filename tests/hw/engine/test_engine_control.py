"""The engine's RTL against the ISS on the host protocol, LOAD/STORE, wait bits and
every error code (the error and its pc, and the outputs sent before it)."""

import random

import pytest
from engine_rtl_sim import SMALL, Stream, compare, encode, pack, run_rtl
from neurogate.hw.engine import isa
from neurogate.hw.engine.isa import Command, Error, Memory, Opcode, Unit

LOAD, EXEC, STORE = (1 << Unit.LOAD), (1 << Unit.EXEC), (1 << Unit.STORE)
C = SMALL
WINDOW = dict(oh=1, ow=1, tiles=1, kh=1, kw=1, chunks=1, ih=1, iw=1)


def spad_words(rng, count):
    return [rng.getrandbits(C.spad_bits) for _ in range(count)]


def loads_then(prog_tail, spad, *, pc=0):
    """A program that loads ``spad`` at 0, then ``prog_tail``."""
    prog = [encode(Opcode.LOAD, mem=Memory.SPAD, addr=0, count=len(spad))] + prog_tail
    return Stream(C).program(prog).run(pc, [spad], [Memory.SPAD])


def test_load_store_round_trip_with_last_and_gaps():
    rng = random.Random(1)
    data = spad_words(rng, 40)
    s = loads_then([encode(Opcode.STORE, wait=LOAD, addr=5, count=30, last=1),
                    encode(Opcode.STORE, addr=0, count=3, last=0),
                    encode(Opcode.STORE, addr=39, count=1, last=1),
                    encode(Opcode.END)], data)
    for k, (gaps, stalls) in enumerate([(0, 0), (0.5, 0), (0, 0.6), (0.4, 0.4)]):
        r = compare(C, s.words, gaps=gaps, stalls=stalls, seed=k)
        assert len(r.outputs) == 34 and r.outputs[29][1] and not r.outputs[32][1]


def test_wide_bias_and_weight_words_and_two_runs():
    """Bias words take several host words; a second PROGRAM and RUN reuse the memories."""
    rng = random.Random(2)
    n = C.array
    bias = [pack([rng.randint(-(1 << 31), (1 << 31) - 1) for _ in range(n)], C.acc_bits)
            for _ in range(3)]
    weights = [pack([rng.randint(-128, 127) for _ in range(n)], C.weight_bits)
               for _ in range(2 * n + 1)]        # a partial tile row at the end
    first = [encode(Opcode.LOAD, mem=Memory.BIAS, addr=13, count=3),
             encode(Opcode.LOAD, mem=Memory.WBUF, addr=5, count=len(weights)),
             encode(Opcode.LOAD, mem=Memory.SPAD, addr=0, count=4), encode(Opcode.END)]
    second = [encode(Opcode.MATMUL, **{**WINDOW, "chunks": 3, "tiles": 3, "kw": 1},
                     w_base=5, b_base=13, o_base=100, rshift=3, lo=-128, hi=127),
              encode(Opcode.STORE, wait=EXEC, addr=100, count=3, last=1), encode(Opcode.END)]
    s = Stream(C).program(first).run(0, [bias, weights, spad_words(rng, 4)],
                                     [Memory.BIAS, Memory.WBUF, Memory.SPAD])
    s.program(second).run(0)
    r = compare(C, s.words, gaps=0.3, seed=3)
    assert len(r.run_cycles) == 2 and len(r.outputs) == 3


def test_run_from_a_later_pc():
    rng = random.Random(3)
    s = loads_then([encode(Opcode.END),
                    encode(Opcode.STORE, wait=LOAD, addr=1, count=2, last=1),
                    encode(Opcode.END)], spad_words(rng, 4))
    s.run(2)
    assert len(compare(C, s.words).outputs) == 2


def test_wait_bits_order_exec_after_load_and_store_after_exec():
    """Pool then add on freshly loaded data, each result stored as soon as it is there;
    a SYNC with every wait bit."""
    rng = random.Random(4)
    data = spad_words(rng, 16)
    pool = dict(WINDOW, kh=2, kw=2, ih=4, iw=4, sy=2, sx=2, oh=2, ow=2, a_oy=8, a_ox=2,
                a_ky=4, a_kx=1, o_base=40, o_oy=2, o_ox=1, pool_max=1, lo=-128, hi=127)
    s = loads_then([encode(Opcode.POOL, wait=LOAD, **pool),
                    encode(Opcode.STORE, wait=EXEC, addr=40, count=4),
                    encode(Opcode.SYNC, wait=LOAD | EXEC | STORE),
                    encode(Opcode.ADD, a_base=40, b_base=0, o_base=40, count=4, la=1,
                           rshift=1, rounding=2, lo=-128, hi=127),
                    encode(Opcode.STORE, wait=EXEC, addr=40, count=4, last=1),
                    encode(Opcode.END)], data)
    assert len(compare(C, s.words, stalls=0.5, seed=4).outputs) == 8


def test_pool_all_padding_window_gives_zero():
    """Padding cells are skipped by max and sum; a window of padding only gives 0."""
    rng = random.Random(5)
    data = [pack([rng.choice([-128, -1, 5, 127]) for _ in range(C.array)], C.lane_bits)
            for _ in range(4)]
    for pool_max in (0, 1):
        pool = dict(WINDOW, kh=2, kw=2, ih=2, iw=2, oh=4, ow=4, pt=2, pl=2, sy=1, sx=1,
                    dy=1, dx=1, a_start=(-2 * 2 - 2) % (1 << 20), a_oy=2, a_ox=1, a_ky=2,
                    a_kx=1, o_base=64, o_oy=4, o_ox=1, pool_max=pool_max, lo=-200, hi=200)
        s = loads_then([encode(Opcode.POOL, wait=LOAD, **pool),
                        encode(Opcode.STORE, wait=EXEC, addr=64, count=16, last=1),
                        encode(Opcode.END)], data)
        r = compare(C, s.words)
        assert r.outputs[0][0] == 0 and any(w for w, _ in r.outputs)


def error_case(name):
    """(host words, expected error) for one error code."""
    rng = random.Random(6)
    good = encode(Opcode.LOAD, mem=Memory.SPAD, addr=0, count=2)
    store = encode(Opcode.STORE, wait=LOAD, addr=0, count=2, last=1)
    data = spad_words(rng, 2)

    def run(*bad, pc=0):
        return Stream(C).program([good, store, *bad, encode(Opcode.END)]).run(
            pc, [data], [Memory.SPAD]).words

    window = dict(WINDOW)
    cases = {
        "opcode0": (run(0), Error.ILLEGAL_OPCODE, 2),
        "opcode9": (run(9 | (1 << 200)), Error.ILLEGAL_OPCODE, 2),
        "opcode15": (run(15), Error.ILLEGAL_OPCODE, 2),
        "load_mem3": (run(encode(Opcode.LOAD, mem=3, count=1)), Error.BAD_FIELD, 2),
        "load_count0": (run(encode(Opcode.LOAD, mem=1, count=0)), Error.BAD_FIELD, 2),
        "store_count0": (run(encode(Opcode.STORE, count=0)), Error.BAD_FIELD, 2),
        "add_count0": (run(encode(Opcode.ADD, count=0)), Error.BAD_FIELD, 2),
        "spad_past_end": (run(encode(Opcode.LOAD, mem=0, addr=250, count=7)),
                          Error.BAD_RANGE, 2),
        "spad_far_past_end": (run(encode(Opcode.LOAD, mem=0, addr=(1 << 20) - 1, count=1)),
                              Error.BAD_RANGE, 2),
        "wbuf_past_end": (run(encode(Opcode.LOAD, mem=1, addr=60, count=17)),
                          Error.BAD_RANGE, 2),
        "wbuf_addr_past_end": (run(encode(Opcode.LOAD, mem=1, addr=65, count=1)),
                               Error.BAD_RANGE, 2),
        "bias_past_end": (run(encode(Opcode.LOAD, mem=2, addr=15, count=2)),
                          Error.BAD_RANGE, 2),
        "store_past_end": (run(encode(Opcode.STORE, addr=250, count=7)), Error.BAD_RANGE, 2),
        "bad_signature": (Stream(C).program([good], signature=C.signature ^ 1).run(0).words,
                          Error.BAD_SIGNATURE, 0),
        "too_long_program": (Stream(C).program([good] * 33).words, Error.BAD_SIGNATURE, 0),
        "no_program": ([isa.command(Command.RUN, pc=7)], Error.NO_PROGRAM, 7),
        "bad_command": ([3, isa.command(Command.RUN)], Error.BAD_COMMAND, 0),
        "zero_command": (Stream(C).program([encode(Opcode.END)]).words + [0],
                         Error.BAD_COMMAND, 0),
        "pc_overflow_at_run": (run(pc=32), Error.PC_OVERFLOW, 32),
        "pc_overflow": (Stream(C).program([encode(Opcode.SYNC)] * 32).run(0).words,
                        Error.PC_OVERFLOW, 32),
    }
    cases["wide_odd_chunks"] = (run(encode(Opcode.MATMUL, **{**window, "chunks": 3},
                                           wide=1)), Error.BAD_FIELD, 2)
    for field in ("oh", "ow", "tiles", "kh", "kw", "chunks"):
        for op in (Opcode.MATMUL, Opcode.POOL):
            cases[f"{op.name}_{field}0"] = (run(encode(op, **{**window, field: 0})),
                                            Error.BAD_FIELD, 2)
    return cases[name]


ERROR_CASES = ["opcode0", "opcode9", "opcode15", "load_mem3", "load_count0", "store_count0",
               "add_count0", "spad_past_end", "spad_far_past_end", "wbuf_past_end",
               "wbuf_addr_past_end", "bias_past_end", "store_past_end", "bad_signature",
               "too_long_program", "no_program", "bad_command", "zero_command",
               "pc_overflow_at_run", "pc_overflow", "wide_odd_chunks"] + [
    f"{op}_{f}0" for op in ("MATMUL", "POOL")
    for f in ("oh", "ow", "tiles", "kh", "kw", "chunks")]


@pytest.mark.parametrize("name", ERROR_CASES)
def test_errors_match_the_iss(name):
    words, code, pc = error_case(name)
    # More words after the error: drained, nothing else happens.
    words = words + Stream(C).program([encode(Opcode.STORE, addr=0, count=1),
                                       encode(Opcode.END)]).run(0).words + [0x1234] * 3
    r = compare(C, words, gaps=0.2, seed=len(name))
    assert (r.error, r.error_pc) == (code, pc)
    # The STORE issued before the failing instruction still sends its words.
    if pc == 2 and code != Error.PC_OVERFLOW:
        assert len(r.outputs) == 2


def test_wbuf_load_to_the_last_row_is_legal():
    s = Stream(C).program([encode(Opcode.LOAD, mem=1, addr=60, count=16),
                           encode(Opcode.END)]).run(0, [list(range(16))], [Memory.WBUF])
    assert run_rtl(C, s.words).error == Error.NONE
    compare(C, s.words)


def test_scratchpad_hazards_without_wait_bits():
    """No wait bits: an exec instruction still waits for a scratchpad LOAD (its data),
    and a scratchpad LOAD for the exec unit (the shared write port)."""
    rng = random.Random(7)
    first, second = spad_words(rng, 16), spad_words(rng, 24)
    pool = dict(WINDOW, kh=2, kw=2, ih=4, iw=4, oh=3, ow=3, a_oy=4, a_ox=1, a_ky=4, a_kx=1,
                o_base=100, o_oy=3, o_ox=1, lo=-128, hi=127)
    prog = [encode(Opcode.LOAD, mem=Memory.SPAD, addr=0, count=16),
            encode(Opcode.POOL, **pool),
            encode(Opcode.LOAD, mem=Memory.SPAD, addr=40, count=24),
            encode(Opcode.ADD, a_base=40, b_base=100, o_base=120, count=9, lo=-128, hi=127),
            encode(Opcode.STORE, wait=EXEC, addr=100, count=29, last=1),
            encode(Opcode.END)]
    s = Stream(C).program(prog).run(0, [first, second], [Memory.SPAD, Memory.SPAD])
    assert len(compare(C, s.words).outputs) == 29
