"""The spatial style (``--style spatial``) end to end: random integer graphs compiled,
streamed through Verilator at one input per clock and compared element by element with
the golden model (corner vectors first); back-pressure and idle inputs in the Amaranth
simulator; the refusals."""

import numpy as np
import pytest
from amaranth.sim import Simulator
from graphs import random_graph
from neurogate.compiler import api
from neurogate.compiler.backends.spatial.network import SpatialNetwork, port_fields, unsupported
from neurogate.compiler.builder import GraphBuilder
from neurogate.compiler.interpreter import make_input_vectors, run
from neurogate.numerics.errors import NeurogateError
from neurogate.numerics.formats import IntFormat
from neurogate.sim.verilator.harness import pack_fields, unpack_fields


def mappable_seeds(count: int, steps: int = 6) -> list[int]:
    """The first ``count`` random-graph seeds whose ops the spatial style maps (graphs with
    a non-linear unit or a float op are the other backends')."""
    seeds, seed = [], 0
    while len(seeds) < count:
        if not unsupported(random_graph(seed, steps=steps)):
            seeds.append(seed)
        seed += 1
    return seeds


@pytest.mark.parametrize("seed", mappable_seeds(10))
def test_random_graph_matches_golden_at_one_input_per_clock(seed, tmp_path):
    graph = random_graph(seed, steps=6)
    api.compile(graph, style="spatial", out=tmp_path / "build")
    report = api.verify(tmp_path / "build", vectors=300, seed=seed)
    assert report["verified"]["mismatches"] == 0
    assert report["verified"]["vectors"] == 300
    assert report["initiation_interval"] == 1.0


# random graphs with Conv2D and Dense layers (conv + 3 dense, conv + dense, 2 dense); at a
# low factor the phases' constant products are multiplexed, at 40 (two dense layers of 40
# outputs) multipliers are cheaper
@pytest.mark.parametrize("seed, reuse, multipliers", [(5, 3, False), (19, 5, False),
                                                      (22, 2, False), (22, 40, True)])
def test_shared_layers_match_golden_at_one_input_per_reuse_clocks(seed, reuse, multipliers,
                                                                  tmp_path):
    """A reuse factor shares every Dense/Conv2D layer's hardware over ``reuse`` clocks:
    the same outputs, an input accepted every ``reuse`` clocks (capped at the smallest
    shared layer's output count), fewer adders than the unrolled network."""
    graph = random_graph(seed, steps=6)
    assert not unsupported(graph)
    unrolled = api.estimate(graph, style="spatial")
    design = api.compile_design(graph, style="spatial", reuse=reuse, out=tmp_path / "build")
    report = api.verify(tmp_path / "build", vectors=300, seed=seed)
    assert report["verified"]["mismatches"] == 0
    assert design.reuse and max(design.reuse.values()) == design.initiation_interval <= reuse
    assert report["initiation_interval"] == design.initiation_interval
    assert report["latency_cycles"] <= design.latency + 1
    assert design.cost.mux_bits > 0
    if multipliers:
        assert design.cost.multipliers > 0
    assert design.cost.adders < unrolled.cost.adders


def small_network():
    rng = np.random.default_rng(3)
    b = GraphBuilder("small")
    x = b.input("x", (3, 3, 2), IntFormat(6))
    h = b.conv2d(x, rng.integers(-20, 20, (2, 2, 2, 3)), rng.integers(-50, 50, 3),
                 weight_fmt=IntFormat(6), padding="same", acc_width=16)
    h = b.requantize(h, shift=3, out_fmt=IntFormat(7), rounding="half_even")
    h = b.relu(h)
    skip = b.requantize(b.flatten(x), shift=0, out_fmt=IntFormat(7))
    h = b.dense(b.flatten(h), rng.integers(-30, 30, (4, 27)), None, weight_fmt=IntFormat(6),
                acc_width=18, name="fc")
    h = b.requantize(h, shift=5, out_fmt=IntFormat(8))
    return b.build([h, skip])


@pytest.mark.parametrize("reuse, tmr", [(1, False), (2, False), (3, False), ({"fc": 4}, False),
                                       (100, False), (3, True)])
def test_back_pressure_and_idle_inputs_lose_nothing(reuse, tmr):
    """Random i.valid gaps and o.ready stalls: every output arrives once, in order, equal
    to the golden model; the pipeline holds while o.ready is low.  With a reuse factor
    the layers' shared multipliers run their phases between inputs (100: capped at each
    layer's output count); under TMR the phase counters and held inputs are voted too."""
    graph = small_network()
    net = SpatialNetwork(graph, levels_per_stage=1, reuse=reuse, tmr=tmr)
    inputs = make_input_vectors(graph, 60, seed=1)
    golden = run(graph, inputs)
    expected = np.concatenate([golden[o].reshape(60, -1) for o in graph.outputs], axis=1)
    in_words = pack_fields(inputs["x"].reshape(60, -1), port_fields(net.in_types))[:, 0, :]
    out_fields = port_fields(net.out_types)
    rng = np.random.default_rng(7)
    received = []

    def payload(words):
        return sum(int(w) << (32 * k) for k, w in enumerate(words))

    async def source(ctx):
        for v in range(len(in_words)):
            while rng.random() < 0.3:
                ctx.set(net.i.valid, 0)
                await ctx.tick()
            ctx.set(net.i.payload, payload(in_words[v]))
            ctx.set(net.i.valid, 1)
            await ctx.tick().until(net.i.ready)
        ctx.set(net.i.valid, 0)

    async def sink(ctx):
        while len(received) < len(in_words):
            ready = int(rng.random() < 0.6)
            ctx.set(net.o.ready, ready)
            _, _, valid, value = await ctx.tick().sample(net.o.valid, net.o.payload)
            if valid and ready:
                received.append(value)

    sim = Simulator(net)
    sim.add_clock(1e-8)
    sim.add_testbench(source)
    sim.add_testbench(sink)
    sim.run_until(1e-8 * 2000 * net.initiation_interval)
    words = np.array([[(r >> (32 * k)) & 0xFFFFFFFF for k in range(
        (out_fields[-1].offset + out_fields[-1].width + 31) // 32)] for r in received])
    np.testing.assert_array_equal(unpack_fields(words, out_fields), expected)


def test_unmappable_op_is_refused_by_name(tmp_path):
    from neurogate.numerics.nonlinear import SoftmaxConfig

    b = GraphBuilder("soft")
    x = b.input("x", 8, IntFormat(8, frac=4))
    y = b.softmax(x, SoftmaxConfig(in_bits=8, in_frac=4, max_len=8), name="probs")
    with pytest.raises(NeurogateError, match="layer 'probs': op Softmax has no spatial"):
        api.compile(b.build([y]), style="spatial", out=tmp_path / "b")
    assert not (tmp_path / "b").exists()


def test_spatial_style_is_amaranth_only(tmp_path):
    with pytest.raises(NeurogateError, match="--style spatial is an Amaranth style"):
        api.compile(small_network(), style="spatial", backend="hls", out=tmp_path / "b")


def test_too_large_for_the_device_is_refused_with_the_count(tmp_path):
    rng = np.random.default_rng(0)
    b = GraphBuilder("wide")
    x = b.input("x", 96, IntFormat(8))
    y = b.dense(x, rng.integers(-127, 128, (96, 96)), None, weight_fmt=IntFormat(8))
    with pytest.raises(NeurogateError, match=r"does not fit ice40-up5k: \d+ adders"):
        api.compile(b.build([y]), style="spatial", target="ice40-up5k", out=tmp_path / "b")


def test_a_reuse_factor_makes_a_refused_network_fit(tmp_path):
    rng = np.random.default_rng(0)
    b = GraphBuilder("wide")
    x = b.input("x", 48, IntFormat(8))
    y = b.dense(x, rng.integers(-127, 128, (48, 48)), None, weight_fmt=IntFormat(8), name="fc")
    graph = b.build([y])
    with pytest.raises(NeurogateError, match=r"does not fit ecp5-45k: .* share the multipliers "
                                             r"with --reuse"):
        api.compile(graph, style="spatial", target="ecp5-45k", out=tmp_path / "unrolled")
    design = api.compile_design(graph, style="spatial", target="ecp5-45k", reuse=24,
                                out=tmp_path / "shared")
    assert design.initiation_interval == 24 and design.reuse == {"fc": 24}
    assert design.cost.multipliers == 2 * 48


@pytest.mark.parametrize("reuse, message", [
    ({"nope": 2}, r"reuse factor for 'nope': no Dense or Conv2D layer of that name "
                  r"\(layers: conv2, fc\)"),
    ({"fc": 0}, r"layer 'fc': reuse factor must be a positive integer, not 0"),
    (1.5, r"reuse factor must be a positive integer, not 1.5"),
])
def test_a_bad_reuse_factor_is_refused_by_name(reuse, message, tmp_path):
    with pytest.raises(NeurogateError, match=message):
        api.compile(small_network(), style="spatial", reuse=reuse, out=tmp_path / "b")
    assert not (tmp_path / "b").exists()


def test_verilog_is_deterministic(tmp_path):
    for name in ("a", "b"):
        api.compile(small_network(), style="spatial", out=tmp_path / name)
    assert (tmp_path / "a" / "small.v").read_bytes() == (tmp_path / "b" / "small.v").read_bytes()
