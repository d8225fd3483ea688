"""Weights rewritable at run time: a spatial network compiled with ``weights="registers"``
takes a second set of weights and biases through its I2C target (cocotbext-i2c as the
bus controller, on Verilator) and then computes the golden model of the new weights,
with no new RTL; every byte reads back as written; a write past the register map is
refused (NACK) and counted as an error."""

import json
from pathlib import Path

import numpy as np
from amaranth.back import verilog
from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out
from neurogate.compiler import serialize
from neurogate.compiler.backends.spatial.network import SpatialNetwork
from neurogate.compiler.backends.spatial.weights import weight_bytes, with_parameters
from neurogate.sim.cocotb.runner import run_cocotb
from spatial_models import small_cnn

ADDRESS = 0x31


class OpenDrainBench(wiring.Component):
    """The network on an open-drain I2C bus: the controller drives ``scl_o``/``sda_o``
    (1 releases the line) and reads the wired-AND lines ``scl``/``sda``."""

    def __init__(self, network: SpatialNetwork):
        self.network = network
        super().__init__({
            "i": In(stream.Signature(network.in_bits)),
            "o": Out(stream.Signature(network.out_bits)),
            "scl_o": In(1, init=1), "sda_o": In(1, init=1), "scl": Out(1), "sda": Out(1),
            "i2c_error_count": Out(8),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.network = net = self.network
        wiring.connect(m, wiring.flipped(self.i), net.i)
        wiring.connect(m, net.o, wiring.flipped(self.o))
        m.d.comb += [self.scl.eq(self.scl_o), self.sda.eq(self.sda_o & ~net.sda_oe),
                     net.scl_i.eq(self.scl), net.sda_i.eq(self.sda),
                     self.i2c_error_count.eq(net.i2c_error_count)]
        return m


def second_weights(graph):
    rng = np.random.default_rng(99)
    new = {}
    for node in graph.nodes:
        if hasattr(node, "weights") and hasattr(node, "weight_fmt"):
            fmt = node.weight_fmt
            new[node.name] = (rng.integers(fmt.min, fmt.max + 1, node.weights.shape),
                              rng.integers(-500, 500, node.bias.shape))
    return with_parameters(graph, new)


def test_second_weights_over_i2c_match_their_golden_model(tmp_path):
    graph = small_cnn()
    changed = second_weights(graph)
    assert weight_bytes(changed) != weight_bytes(graph)
    paths = []
    for name, g in (("first", graph), ("second", changed)):
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(serialize.dumps(g))
    bench = OpenDrainBench(SpatialNetwork(graph, weights="registers", i2c_address=ADDRESS))
    (tmp_path / "top.v").write_text(verilog.convert(bench, name="top", emit_src=False))
    results = tmp_path / "results.json"
    run_cocotb(sources=[tmp_path / "top.v"], toplevel="top", test_module="spatial_i2c_bench",
               test_dir=Path(__file__).parent, build_dir=tmp_path / "sim_build",
               extra_env={"NEUROGATE_GRAPHS": json.dumps([str(p) for p in paths]),
                          "NEUROGATE_I2C_ADDRESS": str(ADDRESS), "NEUROGATE_VECTORS": "300",
                          "NEUROGATE_RESULTS": str(results)})
    outcome = json.loads(results.read_text())
    assert outcome["before"] == 0 and outcome["after"] == 0
    assert outcome["read_back_equal"] and outcome["error_count"] == 1
