"""The exec unit: MATMUL, POOL and ADD, one at a time, on the exec scratchpad read port
and the scratchpad write port.

Pipeline, from a cell on a generator's register at cycle ``g`` (``window`` for MATMUL
and POOL, ``vector.AddGenerator`` for ADD):

====================  =======================================================
``g``                 the cell's word address on ``rd_addr``
``g + 4``             the word, registered (``RAW_REGISTER``: the scratchpad's port
                      register, its read, its bank's read register, this register)
``g + 5``             its lanes extended by ``unsigned``, shifted left by ``shift``,
                      zeroed when the cell is not real (``OPERAND_DELAY``)
``g + 5 + P``         the output word of a window that ended at this cell, from the
                      matrix path (``P = MatrixPath.latency(config)``) or the vector path
                      (``P = VectorPath.LATENCY``)
``+ 1``               selected (``SELECT``)
``+ OutputStage.LATENCY``  on ``wr_*`` (in the scratchpad ``SPAD_PORT_DELAY`` later)
====================  =======================================================
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from . import isa
from .config import SPAD_PORT_DELAY, SPAD_READ_DELAY, EngineConfig
from .matrix import MatrixPath, act_bits
from .output_stage import OutputStage, stage_fields, stage_layout
from .vector import AddGenerator, VectorPath, operand_bits, sum_bits
from .window import WindowGenerator, bits_for, element_layout


class ExecUnit(wiring.Component):
    """Runs the MATMUL, POOL or ADD instruction ``ins`` given with ``start``.

    ``ins`` is sampled at ``start`` (cycle ``s``) and kept; ``busy`` is high from
    ``s + 1`` to the cycle of the instruction's last scratchpad write.  For ``E`` cells
    (``oh*ow*tiles*kh*kw*chunks``, or ``2*count`` for ADD) that is
    ``cycles(op, E) = LATCH + START_LATENCY + E - 1 + drain(op)`` cycles.
    """

    #: ``start`` -> the generator's start (the instruction register).
    LATCH = 1
    START_LATENCY = WindowGenerator.START_LATENCY
    RAW_REGISTER = 2 + SPAD_PORT_DELAY + SPAD_READ_DELAY
    OPERAND_DELAY = RAW_REGISTER + 1
    SELECT = 1

    def __init__(self, config: EngineConfig):
        self.config = config
        n, a_bits = config.array, bits_for(config.spad_words)
        assert AddGenerator.START_LATENCY == WindowGenerator.START_LATENCY
        super().__init__({
            "start": In(1),
            "ins": In(isa.INSTR_BITS),
            "busy": Out(1),
            "rd_addr": Out(a_bits), "rd_data": In(config.spad_bits),
            "wr_en": Out(1), "wr_addr": Out(a_bits), "wr_data": Out(config.spad_bits),
            "w_rd_addr": Out(data.ArrayLayout(bits_for(config.wbuf_words), n)),
            "w_rd_data": In(data.ArrayLayout(config.wbuf_bits, n)),
            "b_rd_addr": Out(bits_for(config.bias_words)),
            "b_rd_data": In(config.bias_bits),
        })

    @classmethod
    def drain(cls, config: EngineConfig, op: isa.Opcode) -> int:
        """Cycles from the last cell on the generator's register to its write."""
        path = MatrixPath.latency(config) if op is isa.Opcode.MATMUL else VectorPath.LATENCY
        return cls.OPERAND_DELAY + path + cls.SELECT + OutputStage.LATENCY

    @classmethod
    def cycles(cls, config: EngineConfig, op: isa.Opcode, cells: int) -> int:
        """Cycles ``busy`` is high for an instruction of ``cells`` cells."""
        return cls.LATCH + cls.START_LATENCY + cells - 1 + cls.drain(config, op)

    def elaborate(self, platform):
        m = Module()
        cfg, n, lane_bits = self.config, self.config.array, self.config.lane_bits
        # The instruction register follows ``ins`` while the unit is idle (no enable from
        # ``start``: the decoder's issue does not fan out to it) and holds while busy.
        # Its opcode's decode is registered beside it: the selects fan out to every lane.
        ins = Signal(isa.INSTR_BITS, reset_less=True)
        busy, go = Signal(), Signal()
        is_add, is_matmul, pool_max = Signal(), Signal(), Signal()
        m.d.sync += go.eq(self.start)
        incoming = data.View(isa.layout(isa.Opcode.POOL), self.ins)
        with m.If(~busy):
            m.d.sync += [ins.eq(self.ins), is_add.eq(incoming.opcode == isa.Opcode.ADD),
                         is_matmul.eq(incoming.opcode == isa.Opcode.MATMUL),
                         pool_max.eq(incoming.pool_max & (incoming.opcode == isa.Opcode.POOL))]
        window_ins = data.View(isa.layout(isa.Opcode.MATMUL), ins)
        add_ins = data.View(isa.layout(isa.Opcode.ADD), ins)

        # Cells.
        m.submodules.window = window = WindowGenerator(cfg)
        m.submodules.adder = adder = AddGenerator(cfg)
        m.d.comb += [window.ins.eq(window_ins), adder.ins.eq(add_ins),
                     window.start.eq(go & ~is_add), adder.start.eq(go & is_add)]
        cell = Signal(element_layout(cfg))
        m.d.comb += cell.eq(Mux(is_add, adder.cell, window.cell))
        m.d.comb += self.rd_addr.eq(cell.addr)

        # Operands: the word registered, then extended, shifted and masked.
        ctl = [cell]
        for k in range(self.OPERAND_DELAY):
            c = Signal(element_layout(cfg), name=f"ctl_{k + 1}")
            m.d.sync += c.eq(ctl[-1])
            ctl.append(c)
        raw = Signal(cfg.spad_bits, reset_less=True)
        m.d.sync += raw.eq(self.rd_data)
        at_raw, at_op = ctl[self.RAW_REGISTER], ctl[self.OPERAND_DELAY]
        lanes = Signal(data.ArrayLayout(signed(operand_bits(cfg)), n), reset_less=True)
        for lane in range(n):
            bits = raw[lane * lane_bits:(lane + 1) * lane_bits]
            wide = Mux(at_raw.unsigned, bits.as_unsigned(), bits.as_signed())
            m.d.sync += lanes[lane].eq(Mux(at_raw.real, wide << at_raw.shift, 0))

        # The two paths.
        m.submodules.matrix = matrix = MatrixPath(cfg, operand_delay=self.OPERAND_DELAY)
        m.submodules.vector = vector = VectorPath(cfg)
        m.d.comb += [matrix.w_addr.eq(cell.w_addr), matrix.ctl.eq(at_op),
                     self.w_rd_addr.eq(matrix.w_rd_addr), matrix.w_rd_data.eq(self.w_rd_data),
                     self.b_rd_addr.eq(matrix.b_rd_addr), matrix.b_rd_data.eq(self.b_rd_data),
                     vector.ctl.eq(at_op), vector.lanes.eq(lanes),
                     vector.pool_max.eq(pool_max)]
        for lane in range(n):
            m.d.comb += matrix.lanes[lane].eq(lanes[lane][:act_bits(cfg)])
        # Only the path of the running opcode gets valid cells.
        m.d.comb += [matrix.ctl.valid.eq(at_op.valid & is_matmul),
                     vector.ctl.valid.eq(at_op.valid & ~is_matmul)]

        # Select, then the output stage.
        in_bits = max(cfg.acc_bits, sum_bits(cfg))
        a_bits = bits_for(cfg.spad_words)
        m.submodules.stage = stage = OutputStage(lanes=n, in_bits=in_bits, lane_bits=lane_bits,
                                                 addr_bits=a_bits)
        with m.If(is_matmul):
            m.d.sync += [stage.valid.eq(matrix.valid), stage.addr.eq(matrix.o_addr)]
            m.d.sync += [stage.value[k].eq(matrix.value[k]) for k in range(n)]
        with m.Else():
            m.d.sync += [stage.valid.eq(vector.valid), stage.addr.eq(vector.o_addr)]
            m.d.sync += [stage.value[k].eq(vector.value[k]) for k in range(n)]
        # The output-stage fields sit at other bits in ADD than in MATMUL and POOL.
        stage_cfg = Signal(stage_layout(), reset_less=True)
        m.d.sync += stage_cfg.eq(Mux(is_add, stage_fields(add_ins), stage_fields(window_ins)))
        m.d.comb += stage.cfg.eq(stage_cfg)
        m.d.comb += [self.wr_en.eq(stage.o_valid), self.wr_addr.eq(stage.o_addr),
                     self.wr_data.eq(stage.o_data)]

        # Busy: from start to the last write (a countdown from the final cell).
        drain = Signal(range(self.drain(cfg, isa.Opcode.MATMUL) + 1))
        m.d.comb += self.busy.eq(busy)
        with m.If(self.start):
            m.d.sync += busy.eq(1)
        with m.If(cell.valid & cell.final):
            m.d.sync += drain.eq(Mux(is_matmul, self.drain(cfg, isa.Opcode.MATMUL),
                                     self.drain(cfg, isa.Opcode.POOL)))
        with m.Elif(drain != 0):
            m.d.sync += drain.eq(drain - 1)
            with m.If(drain == 1):
                m.d.sync += busy.eq(0)
        return m
