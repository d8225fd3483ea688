import dataclasses

import numpy as np
import pytest
from neurogate.compiler import serialize
from neurogate.compiler.builder import GraphBuilder
from neurogate.compiler.ir import (
    Conv2D,
    Dense,
    DenseLayer,
    Graph,
    Input,
    IRError,
    Requantize,
    TensorType,
    frozen_array,
    replace_inputs,
)
from neurogate.compiler.verifier import verify
from neurogate.numerics.formats import BinaryFormat, IntFormat, TernaryFormat
from neurogate.numerics.nonlinear import ActivationConfig, IGeluConfig, NormConfig, SoftmaxConfig
from neurogate.numerics.rounding import Rounding


def small_graph():
    b = GraphBuilder("g")
    x = b.input("x", 3, IntFormat(8))
    y = b.dense(x, [[1, 2, 3], [-4, 5, -6]], [1, -1], weight_fmt=IntFormat(8), name="fc")
    y = b.requantize(y, shift=2, out_fmt=IntFormat(8), name="q")
    return b.build(outputs=[b.relu(y, name="r")])


def test_builder_types():
    g = small_graph()
    assert [n.name for n in g.nodes] == ["x", "fc", "q", "r"]
    assert g.type_of("fc").fmt == IntFormat(32)
    assert g.type_of("q").fmt == IntFormat(8, frac=-2)
    assert g.node("fc").weights.flags.writeable is False


def test_weights_outside_their_format_are_named():
    b = GraphBuilder("g")
    x = b.input("x", 2, IntFormat(8))
    with pytest.raises(IRError, match=r"fc1: weights span \[0, 200\], outside int8 \[-128, 127\]"):
        b.dense(x, [[200, 0]], weight_fmt=IntFormat(8), name="fc1")


def test_shape_mismatch_is_named():
    b = GraphBuilder("g")
    x = b.input("x", 3, IntFormat(8))
    with pytest.raises(IRError, match=r"fc1: weights has shape \(1, 2\), expected \(1, 3\)"):
        b.dense(x, [[1, 2]], weight_fmt=IntFormat(8), name="fc1")


def test_shift_out_of_range_is_named():
    b = GraphBuilder("g")
    x = b.input("x", 1, IntFormat(8))
    y = b.dense(x, [[1]], weight_fmt=IntFormat(8), acc_width=16, name="fc")
    with pytest.raises(IRError, match="q: shift must be an integer from 0 to 15, not 16"):
        b.requantize(y, shift=16, out_fmt=IntFormat(8), name="q")


def test_undefined_input_and_duplicate_names():
    g = small_graph()
    with pytest.raises(IRError, match="two nodes are named 'fc'"):
        verify(Graph("g", g.nodes + (g.node("fc"),), ("r",)))
    bad = Dense(name="d", input="nope", weights=frozen_array([[1]]), bias=frozen_array([0]),
                weight_fmt=IntFormat(8), out=TensorType((1,), IntFormat(32)))
    with pytest.raises(IRError, match="d: reads 'nope', which is not defined before it"):
        verify(Graph("g", (bad,), ("d",)))


def test_non_integer_parameters_are_refused():
    with pytest.raises(IRError, match="parameters must be integers"):
        frozen_array(np.array([0.5]))


# --- every op: construction, then each bad argument named, then behaviour ---------------------

IMAGE_FMT = IntFormat(8, frac=4)


def image_builder(fmt=IMAGE_FMT, shape=(5, 6, 4)):
    b = GraphBuilder("g")
    return b, b.input("img", shape, fmt)


def test_every_op_builds_with_its_types():
    b, x = image_builder()
    rng = np.random.default_rng(0)
    c = b.conv2d(x, rng.integers(-8, 8, (3, 3, 1, 8)), weight_fmt=IntFormat(4, frac=2),
                 groups=4, stride=2, padding="same", dilation=1, name="dw")
    assert b.type_of(c) == TensorType((3, 3, 8), IntFormat(32, frac=6))
    assert b.type_of(b.conv2d(x, np.ones((2, 3, 4, 2)), weight_fmt=BinaryFormat(), padding=1,
                              dilation=(2, 1))).shape == (5, 6, 2)
    q = b.requantize(c, shift=6, out_fmt=IntFormat(8), rounding="half_even", name="q")
    assert b.type_of(q).fmt == IntFormat(8, frac=0)
    m = b.requantize(c, shift=20, out_fmt=IntFormat(8, frac=3), multiplier=np.arange(1, 9),
                     overflow="wrap", name="m")
    assert b.type_of(m).fmt == IntFormat(8, frac=3)        # with a multiplier: as given
    assert b.type_of(b.max_pool2d(q, 2, padding="same")).shape == (2, 2, 8)
    assert b.type_of(b.avg_pool2d(q, (3, 1), stride=1, out_fmt=IntFormat(8, frac=2))).shape \
        == (1, 3, 8)
    assert b.type_of(b.zero_pad2d(q, (1, 0, 2, 3))).shape == (4, 8, 8)
    g = b.global_avg_pool(q, out_fmt=IntFormat(8, frac=2), rounding="half_away")
    assert b.type_of(g) == TensorType((8,), IntFormat(8, frac=2))
    s = b.add(q, m, out_fmt=IntFormat(9, frac=1), name="sum")
    assert b.type_of(b.mul(q, s, out_fmt=IntFormat(16, frac=1))).shape == (3, 3, 8)
    f = b.flatten(s, name="flat")
    parts = b.split(f, [30, 42], axis=0, name="sp")
    assert parts == ["sp_0", "sp_1"] and b.type_of("sp_1").shape == (42,)
    assert b.type_of(b.concat(parts[::-1], axis=-1)).shape == (72,)
    seq = b.reshape(f, (9, 8), name="seq")
    assert b.type_of(b.transpose(seq, (1, 0))).shape == (8, 9)
    assert b.type_of(b.matmul(seq, seq, transpose_b=True)) == TensorType(
        (9, 9), IntFormat(32, frac=2))
    assert b.type_of(b.dense(seq, np.ones((3, 8)), weight_fmt=TernaryFormat())).shape == (9, 3)
    assert b.type_of(b.softmax(q)).fmt == IntFormat(8, signed=False, frac=8)
    assert b.type_of(b.softmax(q, SoftmaxConfig(binarize=True, in_frac=0))).fmt == \
        IntFormat(1, signed=False)
    assert b.type_of(b.norm(seq, NormConfig(kind="rmsnorm", in_bits=9, max_len=8))).fmt == \
        IntFormat(8, frac=5)
    assert b.type_of(b.activation(q, ActivationConfig(in_frac=0))).fmt == \
        IntFormat(8, signed=False, frac=8)
    assert b.type_of(b.igelu(q, IGeluConfig(in_frac=0, out_frac=3))).fmt == IntFormat(8, frac=3)
    assert b.type_of(b.sign_binarize(q, frac=2)).fmt == BinaryFormat(2)
    assert b.type_of(b.clip(q, -3, 100)) == b.type_of(q)
    b.build(outputs=[g])


def test_same_padding_is_tensorflow_same_stored_explicitly():
    b, x = image_builder(shape=(7, 4, 1))
    c = b.conv2d(x, np.ones((3, 2, 1, 1)), weight_fmt=IntFormat(2), stride=(2, 3),
                 padding="same", name="c")
    g = b.build([c])
    # H: ceil(7/2)=4 -> total (4-1)*2 + 3 - 7 = 2 -> (1, 1); W: ceil(4/3)=2 -> 3 + 2 - 4 = 1
    assert g.node("c").padding == (1, 1, 0, 1) and g.type_of("c").shape == (4, 2, 1)
    b, x = image_builder(shape=(6, 6, 1))
    c = b.conv2d(x, np.ones((3, 3, 1, 1)), weight_fmt=IntFormat(2), dilation=2,
                 padding="same", name="c")
    assert b.build([c]).node("c").padding == (2, 2, 2, 2)


BAD_LAYERS = [
    (lambda b, x: b.dense(x, [["a", "b"]], weight_fmt=IntFormat(8), name="fc1"),
     r"fc1: weights must be integers, not strings \(dtype <U1\)"),
    (lambda b, x: b.dense(x, [[0.5, 1]], weight_fmt=IntFormat(8), name="fc1"),
     r"fc1: weights must be integers \(the integer representation of the values\), not 0.5"),
    (lambda b, x: b.dense(x, [[1, 1]], [0.25], weight_fmt=IntFormat(8), name="fc1"),
     r"fc1: bias must be integers .*not 0.25"),
    (lambda b, x: b.dense(x, [[1, 1]], weight_fmt=IntFormat(8), acc_width=1, name="fc1"),
     "fc1: acc_width must be an integer from 2 to 64, not 1"),
    (lambda b, x: b.dense(x, [[2, 1]], weight_fmt=BinaryFormat(), name="fc1"),
     r"fc1: weights span \[1, 2\], outside binary"),
    (lambda b, x: b.dense(x, [[1, 1]], weight_fmt="int8", name="fc1"),
     "fc1: weight_fmt must be an IntFormat, BinaryFormat or TernaryFormat, not 'int8'"),
    (lambda b, x: b.requantize(x, shift=2, out_fmt=IntFormat(8), rounding="half_evn",
                               name="fc1_q"),
     ("fc1_q: rounding must be one of 'floor', 'half_up', 'half_even', 'half_away', "
      "'ceil', 'trunc', 'away', 'half_zero', not 'half_evn'")),
    (lambda b, x: b.requantize(x, shift=2, out_fmt=IntFormat(8), overflow="clamp", name="q"),
     "q: overflow must be one of 'saturate', 'wrap', not 'clamp'"),
    (lambda b, x: b.requantize(x, shift=2.5, out_fmt=IntFormat(8), name="q"),
     "q: shift must be an integer, not 2.5"),
    (lambda b, x: b.requantize(x, shift=-1, out_fmt=IntFormat(8), name="q"),
     "q: shift must be an integer of at least 0, not -1"),
    (lambda b, x: b.requantize(x, shift=1, out_fmt=IntFormat(8), multiplier=[1, 2, 3],
                               name="q"),
     (r"q: multiplier must be one integer or one per channel of the last axis \(2\), not of "
      r"shape \(3,\)")),
    (lambda b, x: b.requantize(x, shift=1, out_fmt=IntFormat(8), multiplier=2**31, name="q"),
     r"q: multiplier span .*outside int32"),
    (lambda b, x: b.clip(x, 5, 2, name="c"), "c: hi must be an integer from 5 to 127, not 2"),
    (lambda b, x: b.clip(x, -200, 2, name="c"), "c: lo must be an integer of at least -128"),
    (lambda b, x: b.add(x, "nope", out_fmt=IntFormat(8), name="s"),
     "s: no node named 'nope' to read from"),
    (lambda b, x: b.add(x, b.dense(x, [[1, 1]], weight_fmt=IntFormat(8)), out_fmt=IntFormat(8),
                        name="s"), r"s: a and b must have the same shape, not \(2,\) and \(1,\)"),
    (lambda b, x: b.add(x, x, out_fmt=BinaryFormat(), name="s"),
     "s: out_fmt must be an IntFormat, not BinaryFormat"),
    (lambda b, x: b.matmul(x, x, name="mm"),
     r"mm: a and b must have the same rank \(at least 2\)"),
    (lambda b, x: b.concat([x, b.sign_binarize(x)], name="cat"),
     "cat: sources must share one format"),
    (lambda b, x: b.concat("x", name="cat"), "cat: sources must be a non-empty list"),
    (lambda b, x: b.slice(x, axis=1, start=0, stop=1, name="sl"),
     "sl: axis must be an integer from -1 to 0, not 1"),
    (lambda b, x: b.slice(x, axis=0, start=1, stop=1, name="sl"),
     "sl: stop must be an integer from 2 to 2, not 1"),
    (lambda b, x: b.split(x, [1, 2], name="sp"),
     r"sp: sizes \[1, 2\] must sum to the length of axis 0 \(2\)"),
    (lambda b, x: b.reshape(x, (3,), name="r"),
     r"r: reshape keeps the size \(2\) and the format"),
    (lambda b, x: b.transpose(x, (1,), name="t"),
     r"t: perm must be a permutation of 0 to 0, not \(1,\)"),
    (lambda b, x: b.global_avg_pool(x, name="gap"),
     r"gap: input must have rank at least 2 \(shape without the batch axis\), not shape"),
    (lambda b, x: b.softmax(x, NormConfig(), name="sm"),
     "sm: config must be a SoftmaxConfig, not a NormConfig"),
    (lambda b, x: b.softmax(x, SoftmaxConfig(in_frac=4), name="sm"),
     "sm: input frac 0 differs from config.in_frac = 4"),
    (lambda b, x: b.softmax(x, SoftmaxConfig(in_bits=4, in_frac=0), name="sm"),
     "sm: input int8 does not fit the unit's 4-bit signed input"),
    (lambda b, x: b.norm(x, NormConfig(max_len=1), name="ln"),
     r"ln: rows \(the last axis\) of 2 exceed config.max_len = 1"),
    (lambda b, x: b.relu(b.sign_binarize(x), name="r"), r"r: relu of binary\{-1,\+1\} leaves"),
    (lambda b, x: b.dense(x, [[1, 1]], weight_fmt=IntFormat(8), name="x"),
     "two nodes are named 'x'"),
]


@pytest.mark.parametrize("build, message", BAD_LAYERS,
                         ids=[str(i) for i in range(len(BAD_LAYERS))])
def test_bad_layer_arguments_are_named_at_once(build, message):
    b = GraphBuilder("g")
    x = b.input("x", 2, IntFormat(8))
    with pytest.raises(IRError, match=message):
        build(b, x)


BAD_IMAGE_LAYERS = [
    (lambda b, x: b.conv2d(x, np.ones((3, 3, 3, 2)), weight_fmt=IntFormat(2), name="c"),
     r"c: weights has shape \(3, 3, 3, 2\), expected \(3, 3, 4, 2\)"),
    (lambda b, x: b.conv2d(x, np.ones((3, 3, 2, 3)), weight_fmt=IntFormat(2), groups=2,
                           name="c"),
     r"c: groups = 2 must divide the input channels \(4\) and the output channels \(3\)"),
    (lambda b, x: b.conv2d(x, np.ones((3, 3, 4, 1)), weight_fmt=IntFormat(2), stride=0,
                           name="c"), r"c: stride\[0\] must be an integer of at least 1, not 0"),
    (lambda b, x: b.conv2d(x, np.ones((3, 3, 4, 1)), weight_fmt=IntFormat(2), padding="full",
                           name="c"), "c: padding must be 'valid', 'same' or integers"),
    (lambda b, x: b.conv2d(x, np.ones((7, 1, 4, 1)), weight_fmt=IntFormat(2), name="c"),
     "c: window of 7 does not fit axis 0 of size 5 with padding 0 [+] 0"),
    (lambda b, x: b.conv2d(x, np.ones((3, 3, 4)), weight_fmt=IntFormat(2), name="c"),
     "c: weights must be a 4-D"),
    (lambda b, x: b.max_pool2d(x, 2, padding=(2, 0, 0, 0), name="p"),
     r"p: padding \(top 2\) must be smaller than the pool window \(2\)"),
    (lambda b, x: b.avg_pool2d(x, 0, name="p"), r"p: pool\[0\] must be an integer of at least 1"),
    (lambda b, x: b.zero_pad2d(x, (1, -1, 0, 0), name="z"),
     r"z: padding\[1\] must be an integer of at least 0, not -1"),
    (lambda b, x: b.zero_pad2d(x, "same", name="z"), "z: padding must be integers"),
    (lambda b, x: b.zero_pad2d(b.sign_binarize(x), 1, name="z"),
     r"z: zero padding of a binary \{-1,\+1\} value leaves its format"),
]


@pytest.mark.parametrize("build, message", BAD_IMAGE_LAYERS,
                         ids=[str(i) for i in range(len(BAD_IMAGE_LAYERS))])
def test_bad_image_layer_arguments_are_named_at_once(build, message):
    b, x = image_builder()
    with pytest.raises(IRError, match=message):
        build(b, x)


def test_numpy_integers_are_integers_and_stored_as_int():
    def graph(shift, stride):
        b, x = image_builder()
        c = b.conv2d(x, np.ones((1, 1, 4, 2)), weight_fmt=IntFormat(2), stride=stride, name="c")
        return b.build([b.requantize(c, shift=shift, out_fmt=IntFormat(8), name="q")])

    g = graph(np.int64(4), (np.int32(2), np.uint8(1)))
    assert type(g.node("q").shift) is int and g.node("c").stride == (2, 1)
    assert all(type(s) is int for s in g.node("c").stride)
    assert serialize.dumps(g) == serialize.dumps(graph(4, (2, 1)))


def test_nodes_made_directly_store_plain_values_and_are_verified():
    node = Requantize(name="q", input="x", shift=np.int64(1), rounding=Rounding.FLOOR,
                      out=TensorType([np.int64(2)], IntFormat(8, frac=-1)))
    assert type(node.shift) is int and node.out.shape == (2,)
    inp = Input(name="x", out=TensorType((2,), IntFormat(8)))
    verify(Graph("g", (inp, node), ("q",)))
    bad = Conv2D(name="c", input="x", weights=np.ones((1, 1, 2, 2)), bias=[0, 0],
                 weight_fmt=IntFormat(2), stride=(1, 1), padding=(0, 0, 0), dilation=(1, 1),
                 groups=1, out=TensorType((1, 1, 2), IntFormat(32)))
    img = Input(name="x", out=TensorType((1, 1, 2), IntFormat(8)))
    with pytest.raises(IRError, match=r"c: padding must be 4 integers of at least 0, not "
                                      r"\(0, 0, 0\)"):
        verify(Graph("g", (img, bad), ("c",)))
    layer = DenseLayer(name="d", input="x", weights=np.ones((1, 2)), bias=[0],
                       weight_fmt=IntFormat(2), acc_fmt=IntFormat(32), shift=1,
                       rounding=Rounding.HALF_EVEN, relu=False,
                       out=TensorType((1,), IntFormat(8, frac=-1)))
    verify(Graph("g", (inp, layer), ("d",)))      # the engine has every rounding
    layer = dataclasses.replace(layer, rounding="half_evn")
    with pytest.raises(IRError, match="d: rounding must be a Rounding \\('floor', "):
        verify(Graph("g", (inp, layer), ("d",)))


def test_inputs_and_renaming_cover_every_reading_field():
    b, x = image_builder()
    f = b.flatten(x, name="f")
    a = b.add(f, f, out_fmt=IntFormat(8, frac=4), name="a")
    cat = b.concat([a, f, a], name="cat")
    g = b.build([cat])
    assert g.node("a").inputs == ("f", "f") and g.node("cat").inputs == ("a", "f", "a")
    renamed = replace_inputs(g.node("cat"), {"a": "z"})
    assert renamed.sources == ("z", "f", "z") and renamed.axis == 0
    assert [n.name for n in g.consumers("f")] == ["a", "cat"]
