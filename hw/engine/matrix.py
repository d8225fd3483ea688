"""MATMUL's datapath: the weight-buffer reads, the systolic array, the row-end
accumulation over a window and the bias."""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..datapath import IntegerDatapath
from ..memories import skew_line
from .config import EngineConfig
from .window import bits_for, element_layout


def act_bits(config: EngineConfig) -> int:
    """The array's activation lane: a ``lane_bits`` lane extended by ``a_unsigned``."""
    return config.lane_bits + 1


def datapath(config: EngineConfig) -> IntegerDatapath:
    return IntegerDatapath(act_bits=act_bits(config), weight_bits=config.weight_bits,
                           acc_bits=config.acc_bits)


class MatrixPath(wiring.Component):
    """One chunk per cycle through the array; one output word per window.

    Timing (cycles relative to a cell on the generator's register at ``g``):

    * ``w_addr`` is the cell's weight word at ``g``; column ``c``'s memory is read at
      ``g + operand_delay - 2 + c`` and its word registered (``WEIGHT_REGISTER``), so
      column ``c``'s weights meet the array at ``g + operand_delay + c``;
    * ``lanes``/``ctl`` are the cell's extended, masked activation lanes and control at
      ``g + operand_delay``; lane ``c`` is delayed ``c`` more cycles (the skew);
    * the array's row sums come at ``g + operand_delay + latency``, where they are added
      (times ``2**lane_bits`` for a ``high`` cell) to the running sum (to the bias word
      ``b_addr`` at a window's first cell, read ``BIAS_READ`` cycles before and
      registered);
    * the window's output word is on ``value``/``o_addr`` with ``valid`` (registers) at
      ``g + operand_delay + latency(config)`` (the array's latency + 1).
    """

    WEIGHT_REGISTER = 1
    #: The bias word's read, then its register, before the row sums.
    BIAS_READ = 2

    def __init__(self, config: EngineConfig, *, operand_delay: int):
        self.config, self.operand_delay = config, operand_delay
        n = config.array
        self.datapath = datapath(config)
        self.array_latency = self.datapath.latency(n, n)
        assert operand_delay >= 1 + self.WEIGHT_REGISTER
        assert self.array_latency >= self.BIAS_READ
        super().__init__({
            "w_addr": In(bits_for(config.wbuf_words)),
            "ctl": In(element_layout(config)),
            "lanes": In(data.ArrayLayout(signed(act_bits(config)), n)),
            "w_rd_addr": Out(data.ArrayLayout(unsigned(bits_for(config.wbuf_words)), n)),
            "w_rd_data": In(data.ArrayLayout(unsigned(config.wbuf_bits), n)),
            "b_rd_addr": Out(bits_for(config.bias_words)),
            "b_rd_data": In(unsigned(config.bias_bits)),
            "valid": Out(1),
            "o_addr": Out(bits_for(config.spad_words)),
            "value": Out(data.ArrayLayout(signed(config.acc_bits), n)),
        })

    @staticmethod
    def latency(config: EngineConfig) -> int:
        """``LATENCY``: the array's latency, then the accumulator register."""
        return datapath(config).latency(config.array, config.array) + 1

    def elaborate(self, platform):
        m = Module()
        cfg, n = self.config, self.config.array
        m.submodules.array = array = self.datapath.build(n, n)

        # Weights: column c's address c cycles behind column 0's, the word registered.
        first_read = self.w_addr
        for k in range(self.operand_delay - 1 - self.WEIGHT_REGISTER):
            delayed = Signal.like(first_read, name=f"w_addr_d{k}", reset_less=True)
            m.d.sync += delayed.eq(first_read)
            first_read = delayed
        # Data registers have no reset (the valid bits beside them do).
        read_addr = skew_line(m, first_read, n, "w_addr", reset_less=True)
        for c in range(n):
            m.d.comb += self.w_rd_addr[c].eq(read_addr[c])
            weight = Signal.like(self.w_rd_data[c], name=f"weight_{c}", reset_less=True)
            m.d.sync += weight.eq(self.w_rd_data[c])
            m.d.comb += array.weight[c].as_value().eq(weight)
            act = skew_line(m, self.lanes[c], c + 1, f"act{c}", reset_less=True)[-1]
            m.d.comb += array.act[c].eq(act)

        # Control beside the array; the bias read two cycles before the row sums and
        # registered.
        ctl = skew_line(m, self.ctl, self.array_latency + 1, "ctl")
        at_sums, at_bias = ctl[-1], ctl[-1 - self.BIAS_READ]
        m.d.comb += self.b_rd_addr.eq(at_bias.b_addr)
        bias = Signal(data.ArrayLayout(signed(cfg.acc_bits), n), reset_less=True)
        m.d.sync += bias.eq(self.b_rd_data)
        with m.If(at_sums.valid):
            for r in range(n):
                start = Mux(at_sums.first, bias[r], self.value[r])
                chunk = Mux(at_sums.high, array.result[r] << cfg.lane_bits, array.result[r])
                m.d.sync += self.value[r].eq((start + chunk)[:cfg.acc_bits])
        m.d.sync += [self.valid.eq(at_sums.valid & at_sums.last),
                     self.o_addr.eq(at_sums.o_addr)]
        return m
