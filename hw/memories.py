"""On-chip memories of the matrix engine, read one column per cycle behind the other."""

from __future__ import annotations

from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.lib import data, memory, wiring
from amaranth.lib.wiring import In, Out


def skew_line(m: Module, first: Signal, count: int, name: str) -> list[Signal]:
    """``[first, first delayed 1, ..., delayed count-1]``: column ``c`` sees it ``c`` cycles late."""
    taps = [first]
    for c in range(1, count):
        tap = Signal.like(first, name=f"{name}_{c}")
        m.d.sync += tap.eq(taps[-1])
        taps.append(tap)
    return taps


class WeightStore(wiring.Component):
    """One memory per array column; a word holds that column's weights for all rows.

    ``data[c]`` is the word at ``addr[c]`` one cycle later (synchronous read).

    Ports
    -----
    addr : In, ArrayLayout(unsigned(addr_bits), cols)
    data : Out, ArrayLayout(ArrayLayout(signed(weight_bits), rows), cols)
    """

    def __init__(self, *, rows: int, cols: int, weight_bits: int, images: list[list[int]]):
        self.rows, self.cols, self.weight_bits = rows, cols, weight_bits
        if len(images) != cols:
            raise ValueError(f"weight store needs {cols} column images, not {len(images)}")
        self.images = images
        self.depth = len(images[0])
        self.addr_bits = max(1, (self.depth - 1).bit_length())
        lane = data.ArrayLayout(signed(weight_bits), rows)
        super().__init__({
            "addr": In(data.ArrayLayout(unsigned(self.addr_bits), cols)),
            "data": Out(data.ArrayLayout(lane, cols)),
        })

    def elaborate(self, platform):
        m = Module()
        for c, image in enumerate(self.images):
            mem = memory.Memory(shape=unsigned(self.rows * self.weight_bits), depth=self.depth,
                                init=image)
            m.submodules[f"weights_c{c}"] = mem
            port = mem.read_port()
            m.d.comb += [port.addr.eq(self.addr[c]), self.data[c].as_value().eq(port.data)]
        return m


class ActivationBuffer(wiring.Component):
    """Two ping-pong halves of ``chunks`` chunks, banked by column.

    Element ``k`` of a vector lives in bank ``k % cols`` at chunk ``k // cols``; reading
    chunk ``j`` of bank ``c`` gives operand ``c`` of chunk ``j``.  Address bit
    ``chunk_bits`` selects the half.  A whole chunk can be written at once (input load)
    or one element (a layer's outputs, in order).

    Ports
    -----
    rd_addr : In, ArrayLayout(unsigned(addr_bits), cols)   (per-bank, skewed by the caller)
    rd_data : Out, ArrayLayout(signed(act_bits), cols)     (one cycle after rd_addr)
    wr_chunk_en : In, 1;  wr_chunk_addr : In, unsigned(addr_bits);  wr_chunk : In, lanes
    wr_elem_en : In, 1;  wr_elem_bank : In, unsigned;  wr_elem_addr : In;  wr_elem : In
    """

    def __init__(self, *, cols: int, act_bits: int, chunks: int):
        self.cols, self.act_bits = cols, act_bits
        self.chunk_bits = max(1, (chunks - 1).bit_length())
        self.addr_bits = self.chunk_bits + 1
        lanes = data.ArrayLayout(signed(act_bits), cols)
        super().__init__({
            "rd_addr": In(data.ArrayLayout(unsigned(self.addr_bits), cols)),
            "rd_data": Out(lanes),
            "wr_chunk_en": In(1),
            "wr_chunk_addr": In(unsigned(self.addr_bits)),
            "wr_chunk": In(lanes),
            "wr_elem_en": In(1),
            "wr_elem_bank": In(unsigned(max(1, (cols - 1).bit_length()))),
            "wr_elem_addr": In(unsigned(self.addr_bits)),
            "wr_elem": In(signed(act_bits)),
        })

    def elaborate(self, platform):
        m = Module()
        for c in range(self.cols):
            mem = memory.Memory(shape=signed(self.act_bits), depth=1 << self.addr_bits, init=[])
            m.submodules[f"bank_{c}"] = mem
            rd, wr = mem.read_port(), mem.write_port()
            m.d.comb += [rd.addr.eq(self.rd_addr[c]), self.rd_data[c].eq(rd.data)]
            with m.If(self.wr_chunk_en):
                m.d.comb += [wr.en.eq(1), wr.addr.eq(self.wr_chunk_addr), wr.data.eq(self.wr_chunk[c])]
            with m.Elif(self.wr_elem_en & (self.wr_elem_bank == c)):
                m.d.comb += [wr.en.eq(1), wr.addr.eq(self.wr_elem_addr), wr.data.eq(self.wr_elem)]
        return m
