"""The programmable engine (docs/isa.md): command unit, decoder, and the load, exec and
store units around the scratchpad, the weight buffer, the bias and program memories.

Memory ports: the scratchpad has one write port (the load unit's, else the exec
unit's: the decoder's hazards keep them apart) and one read port (the store unit's
while it is busy, else the exec unit's: the decoder's hazards keep them apart too, and
a second read port would double the scratchpad's block RAMs and the fan-out of its
address); every
weight-buffer column, the bias and the program memory one write and one read port.
All reads are synchronous.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, unsigned
from amaranth.lib import memory, stream, wiring
from amaranth.lib.wiring import In, Out

from .command import CommandUnit
from .config import EngineConfig
from .decoder import Decoder
from .exec import ExecUnit
from .isa import Unit
from .loader import LoadUnit
from .store import StoreUnit, output_layout


class Engine(wiring.Component):
    """One engine of ``config``.

    Ports
    -----
    i : In(stream), ``unsigned(config.host_bits)``: host words (commands, program,
        LOAD data).
    o : Out(stream), ``StructLayout(data: unsigned(spad_bits), last: 1)``: STORE'd words.
    busy : Out(1): a RUN is executing (from the cycle after the RUN word's transfer to
        END's issue cycle).
    error : Out(4), error_pc : Out(16): the first ``isa.Error`` and its pc, sticky.

    Timing: ``sim.engine.cycles`` models a run from the class constants of the units
    (``Decoder``, ``LoadUnit``, ``ExecUnit``, ``StoreUnit``).
    """

    def __init__(self, config: EngineConfig):
        self.config = config
        super().__init__({
            "i": In(stream.Signature(unsigned(config.host_bits))),
            "o": Out(stream.Signature(output_layout(config))),
            "busy": Out(1),
            "error": Out(4),
            "error_pc": Out(16),
        })

    def elaborate(self, platform):
        m = Module()
        cfg, n = self.config, self.config.array
        m.submodules.command = cmd = CommandUnit(cfg)
        m.submodules.decoder = dec = Decoder(cfg)
        m.submodules.loader = load = LoadUnit(cfg)
        m.submodules.exec = ex = ExecUnit(cfg)
        m.submodules.store = st = StoreUnit(cfg)

        # Host side.
        wiring.connect(m, wiring.flipped(self.i), cmd.i)
        wiring.connect(m, cmd.load, load.i)
        wiring.connect(m, st.o, wiring.flipped(self.o))
        m.d.comb += [
            self.error.eq(cmd.error), self.error_pc.eq(cmd.error_pc), self.busy.eq(dec.running),
            dec.start.eq(cmd.run_start), dec.start_pc.eq(cmd.run_pc),
            cmd.run_done.eq(dec.done), cmd.fault.eq(dec.fault),
            cmd.fault_code.eq(dec.fault_code), cmd.fault_pc.eq(dec.fault_pc),
            load.abort.eq(cmd.abort),
        ]

        # Issue.
        m.d.comb += [
            load.start.eq(dec.issue[Unit.LOAD]), ex.start.eq(dec.issue[Unit.EXEC]),
            st.start.eq(dec.issue[Unit.STORE]),
            load.ins.eq(dec.ins), ex.ins.eq(dec.ins), st.ins.eq(dec.ins),
            dec.unit_busy[Unit.LOAD].eq(load.busy), dec.unit_busy[Unit.EXEC].eq(ex.busy),
            dec.unit_busy[Unit.STORE].eq(st.busy), dec.load_spad_busy.eq(load.spad_busy),
        ]

        # Program memory.
        m.submodules.program = prog = memory.Memory(
            shape=unsigned(len(cmd.prog_data)), depth=cfg.prog_words, init=[])
        prog_w, prog_r = prog.write_port(), prog.read_port()
        m.d.comb += [prog_w.en.eq(cmd.prog_en), prog_w.addr.eq(cmd.prog_addr),
                     prog_w.data.eq(cmd.prog_data), prog_r.addr.eq(dec.prog_addr),
                     dec.prog_data.eq(prog_r.data)]

        # Scratchpad.
        m.submodules.spad = spad = memory.Memory(
            shape=unsigned(cfg.spad_bits), depth=cfg.spad_words, init=[])
        spad_w, spad_r = spad.write_port(), spad.read_port()
        with m.If(load.spad_en):
            m.d.comb += [spad_w.en.eq(1), spad_w.addr.eq(load.spad_addr),
                         spad_w.data.eq(load.spad_data)]
        with m.Else():
            m.d.comb += [spad_w.en.eq(ex.wr_en), spad_w.addr.eq(ex.wr_addr),
                         spad_w.data.eq(ex.wr_data)]
        m.d.comb += [spad_r.addr.eq(Mux(st.busy, st.rd_addr, ex.rd_addr)),
                     ex.rd_data.eq(spad_r.data), st.rd_data.eq(spad_r.data)]

        # Weight buffer: one memory per column.
        for c in range(n):
            mem = memory.Memory(shape=unsigned(cfg.wbuf_bits), depth=cfg.wbuf_words, init=[])
            m.submodules[f"wbuf_{c}"] = mem
            w, r = mem.write_port(), mem.read_port()
            m.d.comb += [w.en.eq(load.wbuf_en[c]), w.addr.eq(load.wbuf_addr),
                         w.data.eq(load.wbuf_data), r.addr.eq(ex.w_rd_addr[c]),
                         ex.w_rd_data[c].eq(r.data)]

        # Bias memory.
        m.submodules.bias = bias = memory.Memory(
            shape=unsigned(cfg.bias_bits), depth=cfg.bias_words, init=[])
        bias_w, bias_r = bias.write_port(), bias.read_port()
        m.d.comb += [bias_w.en.eq(load.bias_en), bias_w.addr.eq(load.bias_addr),
                     bias_w.data.eq(load.bias_data), bias_r.addr.eq(ex.b_rd_addr),
                     ex.b_rd_data.eq(bias_r.data)]
        return m
