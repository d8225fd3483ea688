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
                acc_width=18)
    h = b.requantize(h, shift=5, out_fmt=IntFormat(8))
    return b.build([h, skip])


def test_back_pressure_and_idle_inputs_lose_nothing():
    """Random i.valid gaps and o.ready stalls: every output arrives once, in order, equal
    to the golden model; the pipeline holds while o.ready is low."""
    graph = small_network()
    net = SpatialNetwork(graph, levels_per_stage=1)
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
    sim.run_until(1e-8 * 2000)
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


def test_protocol_bench_is_refused_for_spatial_designs(tmp_path):
    api.compile(small_network(), style="spatial", out=tmp_path / "b")
    with pytest.raises(NeurogateError, match="holds a spatial design"):
        api.verify(tmp_path / "b", protocol=True)


def test_too_large_for_the_device_is_refused_with_the_count(tmp_path):
    rng = np.random.default_rng(0)
    b = GraphBuilder("wide")
    x = b.input("x", 96, IntFormat(8))
    y = b.dense(x, rng.integers(-127, 128, (96, 96)), None, weight_fmt=IntFormat(8))
    with pytest.raises(NeurogateError, match=r"does not fit ice40-up5k: \d+ adders"):
        api.compile(b.build([y]), style="spatial", target="ice40-up5k", out=tmp_path / "b")


def test_verilog_is_deterministic(tmp_path):
    for name in ("a", "b"):
        api.compile(small_network(), style="spatial", out=tmp_path / name)
    assert (tmp_path / "a" / "small.v").read_bytes() == (tmp_path / "b" / "small.v").read_bytes()
