"""The spatial network: a whole graph unrolled into one pipeline that takes a new input
every clock (II = 1), or every ``R`` clocks when layers share their multipliers over ``R``
clocks (reuse factor ``R``, see ``netlist``).

Ports (``amaranth.lib.stream``):

* ``i``: one transfer per inference, every element of every graph input, flattened
  row-major, input after input, each in its format's width (two's complement for a
  signed format), element 0 in the low bits;
* ``o``: one transfer per inference, the graph outputs packed the same way.

The pipeline advances when its last stage is empty or the output is taken
(``~o.valid | o.ready``): under back-pressure every register holds, so no inference is
lost and none is reordered; ``i.ready`` is that same condition.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ....hw.i2c import I2CTarget
from ....numerics.errors import NeurogateError
from ....numerics.formats import IntFormat
from ....sim.verilator.harness import Field, payload_fields
from ... import ir
from . import netlist
from .netlist import Netlist, Resources, Tensor, input_term, terms_array
from .weights import parameters as weight_parameters
from .weights import register_file

WEIGHT_MODES = ("constants", "registers")
DEFAULT_I2C_ADDRESS = 0x20
UPSET_COUNT_BITS = 32      # the clocks on which a copy disagreed (saturating)

# Nodes the spatial style maps, and how (each maps to a function of ``netlist``).
_UNARY = {
    ir.Dense: netlist.dense,
    ir.Conv2D: netlist.conv2d,
    ir.MaxPool2D: netlist.max_pool2d,
    ir.Requantize: netlist.requantize,
    ir.DenseLayer: netlist.dense_layer,
}
_WIRING = {
    ir.ZeroPad2D: netlist.zero_pad2d,
    ir.Reshape: netlist.reshape,
    ir.Transpose: netlist.transpose,
    ir.Slice: netlist.slice_axis,
    ir.Clip: netlist.clip,
}
SUPPORTED = (tuple(_UNARY) + tuple(_WIRING)
             + (ir.Input, ir.AvgPool2D, ir.GlobalAvgPool, ir.MatMul, ir.Add, ir.Mul,
                ir.Relu, ir.SignBinarize, ir.Concat))


def port_width(fmt) -> tuple[int, bool]:
    """An element's field in a port: an integer format's own width and sign; a binary or
    ternary value as a 2-bit two's-complement integer (-1, 0, +1)."""
    if isinstance(fmt, IntFormat):
        return fmt.width, fmt.signed
    return 2, True


def port_fields(types) -> list[Field]:
    return payload_fields((t.size, *port_width(t.fmt)) for t in types)


def unsupported(graph: ir.Graph) -> list[ir.Node]:
    return [n for n in graph.nodes if not isinstance(n, SUPPORTED)]


class SpatialNetwork(wiring.Component):
    """``graph`` (integer ops only: see ``SUPPORTED``) as a fully unrolled pipeline."""

    def __init__(self, graph: ir.Graph, *, levels_per_stage: int = 2,
                 weights: str = "constants", tmr: bool = False,
                 i2c_address: int = DEFAULT_I2C_ADDRESS, reuse: int | dict = 1):
        """``weights``: "constants" (built into the logic) or "registers": a register file
        (``weights.register_file``) initialized to the graph's values and rewritable at
        run time through an I2C target at ``i2c_address`` (ports ``scl_i``, ``sda_i``,
        ``sda_oe``, ``i2c_error``, ``i2c_error_count``; ``hw.i2c``).  ``tmr``: triple every
        register (pipeline and weights) behind majority voters; ``upset`` is high on a
        clock where any copy disagrees, and ``upset_count`` counts those clocks
        (saturating).  The I2C target's own few registers are not triplicated.
        ``reuse``: the reuse factor of every Dense and Conv2D layer, or a dict layer name
        -> factor (others 1); the network then accepts an input every
        ``initiation_interval`` clocks, the largest factor (capped at a layer's output
        count)."""
        refused = unsupported(graph)
        if refused:
            node = refused[0]
            raise NeurogateError(f"layer {node.name!r}: op {type(node).__name__} has no "
                                 "spatial (unrolled) mapping")
        if weights not in WEIGHT_MODES:
            raise NeurogateError(f"weights must be one of {', '.join(WEIGHT_MODES)}, not "
                                 f"{weights!r}")
        self.graph = graph
        self.reuse = reuse_factors(graph, reuse)
        self.initiation_interval = max([1, *self.reuse.values()])
        self.levels_per_stage = levels_per_stage
        self.weight_mode, self.tmr = weights, tmr
        self.bank = register_file(graph, tmr=tmr) if weights == "registers" else None
        self.i2c = I2CTarget(i2c_address) if self.bank is not None else None
        self.in_types = [n.out for n in graph.inputs]
        self.out_types = [graph.type_of(name) for name in graph.outputs]
        self.in_bits = sum(f.width for f in port_fields(self.in_types))
        self.out_bits = sum(f.width for f in port_fields(self.out_types))
        ports = {"i": In(stream.Signature(self.in_bits)),
                 "o": Out(stream.Signature(self.out_bits))}
        if self.bank is not None:
            ports.update({"scl_i": In(1, init=1), "sda_i": In(1, init=1), "sda_oe": Out(1),
                          "i2c_error": Out(1), "i2c_error_count": Out(8)})
        if tmr:
            ports["upset"] = Out(1)
            ports["upset_count"] = Out(UPSET_COUNT_BITS)
        super().__init__(ports)
        self._module = Module()
        self.latency, self.resources = self._build(self._module, levels_per_stage)

    def elaborate(self, platform):
        return self._module

    def _build(self, m: Module, levels_per_stage: int) -> tuple[int, Resources]:
        enable = Signal()
        m.d.comb += enable.eq(~self.o.valid | self.o.ready)
        parameters = None
        if self.bank is not None:
            m.submodules.weights, m.submodules.i2c = self.bank, self.i2c
            wiring.connect(m, self.i2c.bus, self.bank.bus)
            m.d.comb += [self.i2c.scl_i.eq(self.scl_i), self.i2c.sda_i.eq(self.sda_i),
                         self.sda_oe.eq(self.i2c.sda_oe), self.i2c_error.eq(self.i2c.error),
                         self.i2c_error_count.eq(self.i2c.error_count)]
            by_key = {p.key: getattr(self.bank, p.field_name) 
                      for p in weight_parameters(self.graph)}
            parameters = lambda layer, kind, index: by_key[(layer, kind, index)]  # noqa: E731
        net = Netlist(m, enable, levels_per_stage=levels_per_stage, parameters=parameters,
                      tmr=self.tmr, reuse=self.reuse)
        accept = Const(1)
        if self.initiation_interval > 1:
            # after an input, ``initiation_interval - 1`` enabled clocks without one
            interval = self.initiation_interval
            fired = Signal()
            wait = net.state("input_wait", unsigned((interval - 1).bit_length()),
                              lambda w: Mux(fired, interval - 1, Mux(w == 0, 0, w - 1)))
            accept = wait == 0
            m.d.comb += fired.eq(self.i.valid & accept)
        m.d.comb += self.i.ready.eq(enable & accept)
        net.valid_in = self.i.valid & accept
        values: dict[str, Tensor] = {}
        offset = 0
        for node in self.graph.inputs:
            fields = port_fields([node.out])
            terms = [input_term(self.i.payload[offset + f.offset:offset + f.offset + f.width],
                                f.signed, node.out.fmt) for f in fields]
            offset += sum(f.width for f in fields)
            values[node.name] = Tensor(terms_array(node.out.shape, terms), 0)
        for node in self.graph.nodes:
            if not isinstance(node, ir.Input):
                values[node.name] = self._node(net, node, values)
        outputs = [values[name] for name in self.graph.outputs]
        stage = max(1, max(t.stage for t in outputs))
        outputs = [net.delay(t, stage, f"out{k}") for k, t in enumerate(outputs)]
        net.valid_at(stage)
        net.finish()
        payload = [t.value for out in outputs for t in out.terms.flat]
        m.d.comb += self.o.payload.eq(_cat_fields(payload, port_fields(self.out_types)))
        m.d.comb += self.o.valid.eq(net.valid_at(stage))
        self.triplicated = list(net.triplicated)
        if self.tmr and self.bank is not None:
            self.triplicated += [[f"weights.{c.name}" for c in copies]
                                 for copies in self.bank.copies.values()]
        if self.tmr:
            upsets = net.upsets + ([self.bank.upset] if self.bank is not None else [])
            m.d.comb += self.upset.eq(Cat(*upsets).any() if upsets else 0)
            with m.If(self.upset & (self.upset_count != (1 << UPSET_COUNT_BITS) - 1)):
                m.d.sync += self.upset_count.eq(self.upset_count + 1)
        return stage, net.resources

    def _node(self, net: Netlist, node, values: dict[str, Tensor]) -> Tensor:
        args = [values[name] for name in node.inputs]
        types = [self.graph.type_of(name) for name in node.inputs]
        if type(node) in _UNARY:
            return _UNARY[type(node)](net, node, args[0])
        if type(node) in _WIRING:
            return _WIRING[type(node)](node, args[0])
        if isinstance(node, ir.AvgPool2D):
            return netlist.avg_pool2d(net, node, args[0], types[0].fmt)
        if isinstance(node, ir.GlobalAvgPool):
            return netlist.global_avg_pool(net, node, args[0], types[0].fmt)
        if isinstance(node, ir.MatMul):
            return netlist.matmul(net, node, *args)
        if isinstance(node, (ir.Add, ir.Mul)):
            return netlist.elementwise(node, *args, types[0].fmt, types[1].fmt, net)
        if isinstance(node, ir.Relu):
            return netlist.relu(args[0])
        if isinstance(node, ir.SignBinarize):
            return netlist.sign_binarize(args[0])
        return netlist.concat(node, args, net)


def reuse_factors(graph: ir.Graph, reuse: int | dict) -> dict[str, int]:
    """Layer name -> the clocks its dot products are shared over (> 1 only), from one
    factor for every Dense and Conv2D layer or a dict by name; capped at the layer's
    output count.  A factor below 1 or a name that is no such layer is refused."""
    shared = {n.name: n for n in graph.nodes
              if isinstance(n, (ir.Dense, ir.DenseLayer, ir.Conv2D))}
    given = dict(reuse) if isinstance(reuse, dict) else dict.fromkeys(shared, reuse)
    if not isinstance(reuse, dict) and (isinstance(reuse, bool) or not isinstance(reuse, int)
                                        or reuse < 1):
        raise NeurogateError(f"the reuse factor must be a positive integer, not {reuse!r}")
    for name, factor in given.items():
        if name not in shared:
            raise NeurogateError(f"reuse factor for {name!r}: no Dense or Conv2D layer of "
                                 f"that name (layers: {', '.join(shared) or 'none'})")
        if not isinstance(factor, int) or isinstance(factor, bool) or factor < 1:
            raise NeurogateError(f"layer {name!r}: reuse factor must be a positive "
                                 f"integer, not {factor!r}")
    factors = {name: min(factor, shared[name].out.size)
               for name, factor in given.items()}
    return {name: factor for name, factor in factors.items() if factor > 1}


def _cat_fields(values, fields: list[Field]):
    """Each value in its field's width (its low bits; a narrower value is sign- or
    zero-extended by its own signedness), concatenated, element 0 lowest."""
    parts = []
    for value, f in zip(values, fields):
        if len(value) < f.width:
            value = value + Const(0, unsigned(f.width))    # same integer, wide enough
        parts.append(value[:f.width])
    return Cat(*parts)
