import json

import numpy as np
import pytest
from graphs import random_mlp
from neurogate.compiler import serialize
from neurogate.compiler.builder import GraphBuilder
from neurogate.compiler.interpreter import make_input_vectors, run, run_single_output
from neurogate.numerics.errors import NeurogateError
from neurogate.numerics.formats import BinaryFormat, IntFormat, TernaryFormat
from neurogate.numerics.nonlinear import ActivationConfig, IGeluConfig, NormConfig
from neurogate.numerics.rounding import Overflow


def test_round_trip_is_exact_and_deterministic():
    g = random_mlp([9, 7, 4], seed=3)
    text = serialize.dumps(g)
    back = serialize.loads(text)
    assert serialize.dumps(back) == text
    x = np.random.default_rng(0).integers(-128, 128, (20, 9))
    np.testing.assert_equal(run_single_output(back, x), run_single_output(g, x))


def every_op_graph():
    rng = np.random.default_rng(0)
    b = GraphBuilder("all_ops")
    x = b.input("img", (4, 5, 2), IntFormat(8, frac=4))
    c = b.conv2d(x, rng.integers(-1, 2, (3, 3, 1, 4)), rng.integers(-9, 9, 4),
                 weight_fmt=TernaryFormat(), groups=2, padding="same", dilation=(1, 2), name="c")
    q = b.requantize(c, shift=2, out_fmt=IntFormat(8, frac=2), multiplier=[3, 5, 7, 9],
                     rounding="half_away", overflow="wrap", name="q")
    p = b.avg_pool2d(b.zero_pad2d(q, (0, 1, 1, 0), name="z"), 2, padding="same",
                     rounding="half_even", name="ap")
    m = b.max_pool2d(q, (2, 3), stride=1, name="mp")
    g = b.global_avg_pool(p, rounding="floor", name="gap")
    seq = b.reshape(m, (9, 4), name="seq")
    att = b.softmax(b.requantize(b.matmul(seq, seq, transpose_b=True, name="qk"), shift=2,
                                 out_fmt=IntFormat(8, frac=4), name="qk_q"), name="sm")
    av = b.matmul(att, b.transpose(seq, (0, 1), name="v"), name="av")
    n = b.norm(b.requantize(av, shift=8, out_fmt=IntFormat(8), name="av_q"),
               NormConfig(max_len=4, gamma=(64, 32, -64, 1), beta=(1, 2, 3, 4)), name="ln")
    a = b.activation(n, ActivationConfig(function="silu", in_frac=5, out_frac=5), name="act")
    i = b.igelu(n, IGeluConfig(in_frac=5), name="gelu")
    s = b.add(a, i, out_fmt=IntFormat(9, frac=3), name="res")
    t = b.mul(s, b.clip(s, -10, 10, name="cl"), out_fmt=IntFormat(10, frac=2), name="prod")
    parts = b.split(b.flatten(t, name="flat"), [10, 26], name="sp")
    cat = b.concat([parts[1], parts[0]], name="cat")
    d = b.dense(b.sign_binarize(cat, name="sign"), rng.choice([-1, 1], (3, 36)),
                weight_fmt=BinaryFormat(), name="fc")
    r = b.relu(b.requantize(d, shift=2, out_fmt=IntFormat(8), name="fc_q"), name="fc_r")
    return b.build(outputs=[r, g, b.slice(m, axis=2, start=1, stop=3, name="sl")])


def test_every_op_round_trips():
    g = every_op_graph()
    text = serialize.dumps(g)
    back = serialize.loads(text)
    assert serialize.dumps(back) == text
    assert back.node("ln").config == g.node("ln").config
    assert back.node("c").padding == (1, 1, 2, 2) and back.node("q").multiplier.tolist() == \
        [3, 5, 7, 9]
    inputs = make_input_vectors(g, 12, seed=4)
    want, got = run(g, inputs, keep_all=True), run(back, inputs, keep_all=True)
    for name in want:
        np.testing.assert_equal(got[name], want[name])


def node_entry(data, name):
    return next(n for n in data["nodes"] if n["name"] == name)


BAD_FILES = [
    (lambda d: node_entry(d, "q").update(rounding="half_evn"),
     r"node 'q' \(Requantize\), field 'rounding': 'half_evn' is not a valid Rounding"),
    (lambda d: node_entry(d, "c").pop("weights"), r"node 'c' \(Conv2D\) lacks field 'weights'"),
    (lambda d: node_entry(d, "c").update(stride=2), r"node 'c' \(Conv2D\), field 'stride'"),
    (lambda d: node_entry(d, "c").update(weights=[["a"]]),
     r"node 'c' \(Conv2D\), field 'weights': parameters must be integers, not strings"),
    (lambda d: node_entry(d, "c").update(groups=3),
     r"c: groups = 3 must divide the input channels \(2\)"),
    (lambda d: node_entry(d, "ln")["config"].update(out_bits=99),
     r"node 'ln' \(Norm\), field 'config': out_bits must be an integer from 2 to 16"),
    (lambda d: node_entry(d, "ln")["config"].update({"class": "Nope"}),
     r"node 'ln' \(Norm\), field 'config': unknown class 'Nope'"),
    (lambda d: node_entry(d, "fc")["weight_fmt"].update(kind="QuadFormat"),
     r"node 'fc' \(Dense\), field 'weight_fmt': unknown kind 'QuadFormat'"),
    (lambda d: node_entry(d, "fc").update(colour="red"),
     r"node 'fc' \(Dense\) has unknown field\(s\) 'colour'"),
    (lambda d: node_entry(d, "fc").update(kind="Densest"), r"unknown kind 'Densest'"),
    (lambda d: node_entry(d, "fc_q").update(shift=40), "fc_q: shift must be an integer"),
    (lambda d: d.pop("outputs"), "needs 'name', 'nodes' and 'outputs'"),
]


@pytest.mark.parametrize("damage, message", BAD_FILES, ids=[str(i) for i in range(len(BAD_FILES))])
def test_bad_graph_files_name_the_node_and_field(damage, message):
    data = json.loads(serialize.dumps(every_op_graph()))
    damage(data)
    with pytest.raises(NeurogateError, match=message):
        serialize.graph_from_dict(data)


def test_fields_with_defaults_may_be_left_out():
    data = json.loads(serialize.dumps(random_mlp([3, 2])))
    for node in data["nodes"]:
        if node["kind"] == "Requantize":
            del node["multiplier"], node["overflow"]
    assert serialize.graph_from_dict(data).node("fc1_q").overflow is Overflow.SATURATE
