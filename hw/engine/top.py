"""The programmable engine (docs/isa.md): command unit, decoder, and the load, exec and
store units around the scratchpad, the weight buffer, the bias and program memories.

Memory ports: the scratchpad (each lane in ``spad_slice_bits`` slices, one memory each,
its port signals registered, ``config.SPAD_PORT_DELAY``, and its read data registered,
``config.SPAD_READ_DELAY``) has one write port (the load unit's, else the exec
unit's: the decoder's hazards keep them apart) and one read port (the store unit's
while it is ``reading``, else the exec unit's: the decoder's hazards keep them apart
too, and a second read port would double the scratchpad's block RAMs and the fan-out
of its address); every weight-buffer column, the bias and the program memory one write
and one read port.
All reads are synchronous.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, unsigned
from amaranth.lib import memory, stream, wiring
from amaranth.lib.wiring import In, Out

from .command import CommandUnit
from .config import SPAD_PORT_DELAY, SPAD_READ_DELAY, EngineConfig
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
            self.error.eq(cmd.error), self.error_pc.eq(cmd.error_pc),
            self.busy.eq(dec.running | cmd.run_start),
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

        # Scratchpad: each lane (bank) in slices of ``spad_slice_bits`` bits, one block
        # RAM each, every slice behind its own registered copy of the port signals
        # (``*_dup``: kept apart by synthesis), placed by it: one address net to every
        # block RAM of the scratchpad spans the die (9.8 ns on the ECP5-85k), and so did
        # one register per bank to the four block RAMs of an 8,192-word bank.
        read_addr = Mux(st.reading, st.rd_addr, ex.rd_addr)
        write_en = load.spad_en | ex.wr_en
        write_addr = Mux(load.spad_en, load.spad_addr, ex.wr_addr)
        write_data = Mux(load.spad_en, load.spad_data, ex.wr_data)
        assert SPAD_PORT_DELAY == 1 and SPAD_READ_DELAY == 1
        lanes = []
        for lane in range(n):
            for low in range(0, cfg.lane_bits, cfg.spad_slice_bits):
                bits = min(cfg.spad_slice_bits, cfg.lane_bits - low)
                name = f"spad_{lane}_{low}"
                part = memory.Memory(shape=unsigned(bits), depth=cfg.spad_words, init=[])
                m.submodules[name] = part
                w, r = part.write_port(), part.read_port()
                r_addr = Signal.like(read_addr, name=f"{name}_raddr_dup", reset_less=True)
                w_addr = Signal.like(write_addr, name=f"{name}_waddr_dup", reset_less=True)
                w_en = Signal(name=f"{name}_wen_dup")
                w_data = Signal(bits, name=f"{name}_wdata", reset_less=True)
                m.d.sync += [r_addr.eq(read_addr), w_addr.eq(write_addr), w_en.eq(write_en),
                             w_data.eq(write_data[lane * cfg.lane_bits + low:][:bits])]
                m.d.comb += [r.addr.eq(r_addr), w.en.eq(w_en), w.addr.eq(w_addr),
                             w.data.eq(w_data)]
                q = Signal(bits, name=f"{name}_rdata", reset_less=True)
                m.d.sync += q.eq(r.data)
                lanes.append(q)
        m.d.comb += [ex.rd_data.eq(Cat(*lanes)), st.rd_data.eq(Cat(*lanes))]

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
