"""The integer matrix engine: a program of dense layers run on a weight-streaming array."""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal, signed, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from .collector import TileCollector
from .config import AcceleratorConfig
from .memories import ActivationBuffer, WeightStore, skew_line
from .program import Program, bits_for, descriptor_layout
from .requant import Requantizer


def output_layout(out_bits: int) -> data.StructLayout:
    return data.StructLayout({"data": signed(out_bits), "last": unsigned(1)})


class Accelerator(wiring.Component):
    """Runs ``program`` (a chain of fused dense layers) on a rows x cols array.

    Per inference: the input vector arrives as ``k_tiles`` chunks of ``cols`` lanes
    on ``i`` (pad the final chunk with anything; zero weights cancel it); each layer's
    ``n_tiles x k_tiles`` chunk products are issued one per cycle; every n-tile's
    ``rows`` sums are requantized and written to the other half of the activation buffer
    one per cycle, or for the final layer sent out on ``o`` with ``last`` on the final
    element.  The next input is accepted once the final layer has been issued and drained.

    Ports
    -----
    i : In(stream), payload ArrayLayout(signed(act_bits), cols)
    o : Out(stream), payload StructLayout(data: signed(out_bits), last: 1)
    busy : Out, 1    (high from the first input chunk to the last output)

    Timing: ``config.timing`` (``hw.config.EngineTiming``) gathers the delays below with
    the matrix unit's, the collector's and the requantizer's; the cycle model reads it.
    """

    #: The sequencer leaves LOAD for RUN the cycle after the last input chunk.
    LOAD_TO_RUN = 1
    #: The ``iss_*`` registers between the sequencer's decision and the operand addresses.
    ISSUE_STAGES = 1
    #: The weight, activation and bias memories are read synchronously (one cycle).
    OPERAND_READ = 1
    #: ``credits`` is a register: a bank freed at cycle ``t`` can be taken from ``t + 1``.
    CREDIT_RETURN = 1
    #: A layer's last output (in DRAIN) -> FETCH (descriptor read) -> LATCH -> RUN.
    LAYER_SWITCH = 3

    def __init__(self, *, program: Program):
        self.program = program
        self.config: AcceleratorConfig = program.config
        w = self.config.widths
        # The matrix unit, chosen by the config through the datapath seam.
        self.datapath = self.config.datapath
        super().__init__({
            "i": In(stream.Signature(data.ArrayLayout(signed(w.act_bits), self.config.array.cols))),
            "o": Out(stream.Signature(output_layout(w.out_bits))),
            "busy": Out(1),
        })

    @property
    def pipeline_latency(self) -> int:
        """Cycles from issuing a chunk to its row sums entering the tile collector: the
        synchronous operand read, then the matrix unit's latency (``timing.pipeline``)."""
        return self.config.timing.pipeline

    def elaborate(self, platform):
        m = Module()
        cfg, prog = self.config, self.program
        rows, cols, w = cfg.array.rows, cfg.array.cols, cfg.widths

        m.submodules.array = array = self.datapath.build(rows, cols)
        m.submodules.weights = wstore = WeightStore(
            rows=rows, cols=cols, weight_bits=w.weight_bits,
            images=[prog.weight_words(c) for c in range(cols)])
        m.submodules.acts = abuf = ActivationBuffer(cols=cols, act_bits=w.act_bits,
                                                    chunks=cfg.memory.act_chunks)
        m.submodules.collector = coll = TileCollector(
            rows=rows, acc_bits=w.acc_bits, n_out_bits=bits_for(cfg.memory.bias_words * rows),
            banks=cfg.memory.tile_banks)
        m.submodules.requant = rq = Requantizer(in_bits=w.acc_bits, out_bits=w.out_bits)
        m.submodules.biases = bias_mem = memory.Memory(
            shape=unsigned(rows * w.acc_bits), depth=cfg.memory.bias_words, init=prog.bias_words())
        m.submodules.descriptors = desc_mem = memory.Memory(
            shape=descriptor_layout(cfg), depth=cfg.memory.layers, init=prog.descriptor_fields())
        desc_port = desc_mem.read_port()
        bias_port = bias_mem.read_port()

        desc = Signal(descriptor_layout(cfg))
        layer = Signal(range(max(2, cfg.memory.layers)))
        src = Signal()          # activation-buffer half the current layer reads
        banks = cfg.memory.tile_banks
        credits = Signal(range(banks + 1), init=banks)

        # Issue stage: one chunk per cycle, registered (ISSUE_STAGES).
        iss_valid, iss_first, iss_last = Signal(), Signal(), Signal()
        iss_act = Signal(abuf.addr_bits)
        iss_w = Signal(wstore.addr_bits)
        iss_b = Signal(bias_port.addr.shape())
        kt = Signal.like(desc.k_tiles)
        nt = Signal.like(desc.n_tiles)
        w_ptr = Signal(len(desc.w_base))
        b_ptr = Signal(len(desc.b_base))

        # Operand addresses, one cycle later per column.
        act_addr = skew_line(m, iss_act, cols, "act_addr")
        w_addr = skew_line(m, iss_w, cols, "w_addr")
        for c in range(cols):
            m.d.comb += [abuf.rd_addr[c].eq(act_addr[c]), wstore.addr[c].eq(w_addr[c])]
            m.d.comb += [array.act[c].eq(abuf.rd_data[c]), array.weight[c].eq(wstore.data[c])]

        # Control travels beside the data: the bias address one (synchronous) read before
        # the row sums.
        ctrl_shape = data.StructLayout({"valid": 1, "first": 1, "last": 1,
                                        "bias": unsigned(len(iss_b))})
        ctrl = Signal(ctrl_shape)
        m.d.comb += [ctrl.valid.eq(iss_valid), ctrl.first.eq(iss_first),
                     ctrl.last.eq(iss_last), ctrl.bias.eq(iss_b)]
        pipeline = self.pipeline_latency
        taps = skew_line(m, ctrl, pipeline + 1, "ctrl")
        bias_ctrl, sum_ctrl = taps[pipeline - self.OPERAND_READ], taps[pipeline]
        m.d.comb += [
            bias_port.addr.eq(bias_ctrl.bias),
            coll.bias.as_value().eq(bias_port.data),
            coll.psum.eq(array.result),
            coll.valid.eq(sum_ctrl.valid),
            coll.first.eq(sum_ctrl.first),
            coll.last.eq(sum_ctrl.last),
            coll.n_out.eq(desc.n_out),
        ]

        # Requantize, then write the next layer's input or the output stream.
        wiring.connect(m, coll.o, rq.i)
        m.d.comb += [rq.shift.eq(desc.shift), rq.rounding.eq(desc.rounding),
                     rq.lo.eq(desc.lo), rq.hi.eq(desc.hi)]
        out_count = Signal.like(desc.n_out)
        out_col = Signal(range(cols))
        out_chunk = Signal(abuf.chunk_bits)
        final_out = out_count == desc.n_out - 1
        layer_done = Signal()
        with m.If(desc.last):
            m.d.comb += [
                self.o.valid.eq(rq.o.valid),
                self.o.payload.data.eq(rq.o.payload),
                self.o.payload.last.eq(final_out),
                rq.o.ready.eq(self.o.ready),
            ]
        with m.Else():
            m.d.comb += [
                rq.o.ready.eq(1),
                abuf.wr_elem_en.eq(rq.o.valid),
                abuf.wr_elem_bank.eq(out_col),
                abuf.wr_elem_addr.eq(Cat(out_chunk, ~src)),
                abuf.wr_elem.eq(rq.o.payload),
            ]
        with m.If(rq.o.valid & rq.o.ready):
            m.d.sync += out_count.eq(out_count + 1)
            with m.If(out_col == cols - 1):
                m.d.sync += [out_col.eq(0), out_chunk.eq(out_chunk + 1)]
            with m.Else():
                m.d.sync += out_col.eq(out_col + 1)
            m.d.comb += layer_done.eq(final_out)

        start_tile = kt == 0
        end_tile = kt == desc.k_tiles - 1
        m.d.sync += credits.eq(credits + coll.credit - (iss_valid & iss_last))  # CREDIT_RETURN
        m.d.comb += desc_port.addr.eq(layer)
        m.d.sync += iss_valid.eq(0)

        # DRAIN -> FETCH -> LATCH -> RUN takes LAYER_SWITCH cycles and LOAD -> RUN
        # LOAD_TO_RUN; the cycle model counts on both.
        with m.FSM(name="sequencer"):
            with m.State("FETCH"):
                m.next = "LATCH"
            with m.State("LATCH"):
                m.d.sync += [
                    desc.eq(desc_port.data), kt.eq(0), nt.eq(0),
                    w_ptr.eq(desc_port.data.w_base), b_ptr.eq(desc_port.data.b_base),
                    out_count.eq(0), out_col.eq(0), out_chunk.eq(0),
                ]
                m.d.comb += coll.layer_start.eq(1)
                with m.If(layer == 0):
                    m.next = "LOAD"
                with m.Else():
                    m.next = "RUN"
            with m.State("LOAD"):
                m.d.comb += [
                    self.i.ready.eq(1),
                    abuf.wr_chunk_en.eq(self.i.valid),
                    abuf.wr_chunk_addr.eq(Cat(kt[:abuf.chunk_bits], src)),
                    abuf.wr_chunk.eq(self.i.payload),
                ]
                with m.If(self.i.valid):
                    m.d.sync += [kt.eq(kt + 1), self.busy.eq(1)]
                    with m.If(kt == desc.k_tiles - 1):
                        m.d.sync += kt.eq(0)
                        m.next = "RUN"
            with m.State("RUN"):
                # A tile's last chunk commits it to a collector bank at capture time, so
                # it waits for a free bank; `credits` does not yet count the one taken
                # by the chunk issued last cycle.
                pending = iss_valid & iss_last
                can_issue = ~end_tile | (credits - pending != 0)
                with m.If(can_issue):
                    m.d.sync += [
                        iss_valid.eq(1), iss_first.eq(start_tile),
                        iss_last.eq(end_tile),
                        iss_act.eq(Cat(kt[:abuf.chunk_bits], src)),
                        iss_w.eq(w_ptr), iss_b.eq(b_ptr), w_ptr.eq(w_ptr + 1),
                    ]
                    with m.If(end_tile):
                        m.d.sync += [kt.eq(0), nt.eq(nt + 1), b_ptr.eq(b_ptr + 1)]
                        with m.If(nt == desc.n_tiles - 1):
                            m.next = "DRAIN"
                    with m.Else():
                        m.d.sync += kt.eq(kt + 1)
            with m.State("DRAIN"):
                with m.If(layer_done):
                    with m.If(desc.last):
                        m.d.sync += [layer.eq(0), src.eq(0), self.busy.eq(0)]
                    with m.Else():
                        m.d.sync += [layer.eq(layer + 1), src.eq(~src)]
                    m.next = "FETCH"
        return m
