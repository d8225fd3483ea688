"""Drive a stream unit (``i``/``o`` ports, ``data``/``last`` payloads) in Amaranth's
simulator: used by the unit tests and by ``bench/blocks_report.py`` to measure rates."""

from __future__ import annotations

from amaranth.sim import Simulator


def run_rows(dut, rows, *, in_gap: int = 0, ready_every: int = 1,
             out_rows_expected: int | None = None, max_cycles: int = 200_000,
             transfer_cycles: list | None = None):
    """Send ``rows`` (lists of ints) with ``in_gap`` idle cycles between offers and
    ``o.ready`` high one cycle in ``ready_every``.  Returns (rows out, per-row cycles from
    the first input transfer to the cycle after the last output transfer).  Output rows
    are delimited by ``o.payload.last``; ``out_rows_expected`` defaults to ``len(rows)``.
    The cycle of every output transfer is appended to ``transfer_cycles`` if given."""
    out_rows, cycles = [], []

    async def bench(ctx):
        cycle, current, start = 0, [], None
        queue = [(r, k) for r in range(len(rows)) for k in range(len(rows[r]))]
        sent = 0
        while len(out_rows) < (out_rows_expected or len(rows)):
            offer = sent < len(queue) and cycle % (in_gap + 1) == 0
            ctx.set(dut.i.valid, offer)
            if offer:
                r, k = queue[sent]
                ctx.set(dut.i.payload.data, int(rows[r][k]))
                ctx.set(dut.i.payload.last, k == len(rows[r]) - 1)
            ready = cycle % ready_every == 0
            ctx.set(dut.o.ready, ready)
            await ctx.delay(1e-9)
            if offer and ctx.get(dut.i.ready):
                if queue[sent][1] == 0:
                    start = cycle
                sent += 1
            if ctx.get(dut.o.valid) and ready:
                current.append(ctx.get(dut.o.payload.data))
                if transfer_cycles is not None:
                    transfer_cycles.append(cycle)
                if ctx.get(dut.o.payload.last):
                    out_rows.append(current)
                    cycles.append(cycle + 1 - start)
                    current = []
            await ctx.tick()
            cycle += 1
            assert cycle < max_cycles, f"stuck after {len(out_rows)} rows"

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return out_rows, cycles
