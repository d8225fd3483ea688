"""Row accumulators, a double-buffered tile bank and the serializer behind the array."""

from __future__ import annotations

from amaranth.hdl import Array, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..numerics.checks import check_int
from .arith import IntegerArithmetic


class TileCollector(wiring.Component):
    """Accumulates row results over the k-chunks of an n-tile and streams the tile out.

    In a cycle with ``valid``: ``acc[r] <= (bias[r] if first else acc[r]) + psum[r]``
    (wrapping to ``acc_bits``).  With ``last`` the sums are also captured into one of
    two tile banks.  A full bank is sent out on ``o`` row by row, at most ``n_out``
    values per layer (rows past the layer's end are dropped).  ``credit`` pulses when a
    bank is emptied; the sequencer must not start more tiles than there are free banks.

    Ports
    -----
    psum, bias : In, ArrayLayout(signed(acc_bits), rows)
    valid, first, last : In, 1
    n_out : In, unsigned   (layer output count; hold it for the whole layer)
    layer_start : In, 1    (pulse: reset the output counter)
    o : Out(stream), payload signed(acc_bits)
    credit : Out, 1
    """

    #: Cycles from a tile's last row sums on ``psum`` (``valid & last``) to its first row on
    #: ``o`` when no earlier bank is waiting: the bank and ``full`` registers below.  The
    #: engine's timing (``AcceleratorConfig.timing.capture``) reads it.
    CAPTURE_LATENCY = 1

    def __init__(self, *, rows: int, acc_bits: int, n_out_bits: int, banks: int = 2):
        self.rows, self.acc_bits = rows, acc_bits
        self.banks = check_int("tile banks", banks, low=2, high=16)
        self.arith = IntegerArithmetic(a_bits=1, b_bits=1, acc_bits=acc_bits)
        lanes = data.ArrayLayout(signed(acc_bits), rows)
        super().__init__({
            "psum": In(lanes),
            "bias": In(lanes),
            "valid": In(1),
            "first": In(1),
            "last": In(1),
            "n_out": In(unsigned(n_out_bits)),
            "layer_start": In(1),
            "o": Out(stream.Signature(signed(acc_bits))),
            "credit": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        rows = self.rows
        banks = [[Signal(signed(self.acc_bits), name=f"bank{b}_{r}") for r in range(rows)]
                 for b in range(self.banks)]
        full = Signal(self.banks)
        wr_bank, rd_bank = Signal(range(self.banks)), Signal(range(self.banks))

        def after(ptr):
            return (ptr + 1) if self.banks & (self.banks - 1) == 0 else \
                Mux(ptr == self.banks - 1, 0, ptr + 1)

        # Accumulate over k-chunks; capture the finished tile into the write bank (the one
        # register of CAPTURE_LATENCY, with `full` below).
        for r in range(rows):
            acc = Signal(signed(self.acc_bits), name=f"acc_{r}")
            start = Signal(signed(self.acc_bits), name=f"start_{r}")
            total = Signal(signed(self.acc_bits), name=f"sum_{r}")
            m.d.comb += [
                start.eq(self.bias[r]),
                total.eq(self.arith.accumulate(start, self.psum[r])),
            ]
            with m.If(~self.first):
                m.d.comb += start.eq(acc)
            with m.If(self.valid):
                m.d.sync += acc.eq(total)
                with m.If(self.last):
                    for b in range(self.banks):
                        with m.If(wr_bank == b):
                            m.d.sync += banks[b][r].eq(total)
        captured = Signal(self.banks)
        with m.If(self.valid & self.last):
            m.d.comb += captured.eq(1 << wr_bank)
            m.d.sync += wr_bank.eq(after(wr_bank))

        # Serialize the oldest full bank, dropping rows past the layer's last output.
        row = Signal(range(rows))
        count = Signal.like(self.n_out)
        table = Array(Array(bank) for bank in banks)
        released = Signal(self.banks)
        m.d.comb += [
            self.o.valid.eq(full.bit_select(rd_bank, 1)),
            self.o.payload.eq(table[rd_bank][row]),
        ]
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += count.eq(count + 1)
            with m.If((row == rows - 1) | (count == self.n_out - 1)):
                m.d.sync += [row.eq(0), rd_bank.eq(after(rd_bank))]
                m.d.comb += [released.eq(1 << rd_bank), self.credit.eq(1)]
            with m.Else():
                m.d.sync += row.eq(row + 1)
        with m.If(self.layer_start):
            m.d.sync += count.eq(0)
        m.d.sync += full.eq((full | captured) & ~released)
        return m
