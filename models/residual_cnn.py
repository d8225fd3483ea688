"""A residual CNN on 32x32x3 images (seeded synthetic weights: no dataset is used).

stem conv3x3 16 -> block 1 (conv3x3, conv3x3, identity shortcut, add, ReLU) ->
block 2 (conv3x3 stride 2 to 32 channels, conv3x3, a 1x1 stride-2 projection shortcut,
add, ReLU) -> depthwise-separable (depthwise 3x3, pointwise 1x1 to 32) -> max pool 2x2
-> global average pool -> dense 10.  8-bit weights and activations, 32-bit accumulators.
"""

from __future__ import annotations

from neurogate.compiler.ir import Graph
from neurogate.models.synthetic import SIGNED, SyntheticCnn


def build_model() -> Graph:
    net = SyntheticCnn("residual_cnn", seed=32)
    b = net.b
    x = b.input("image", (32, 32, 3), SIGNED)
    stem = net.conv(x, 16, name="stem")
    h = net.conv(stem, 16, name="block1_conv1")
    h = net.conv(h, 16, relu=False, name="block1_conv2")
    block1 = net.add_relu(stem, h, name="block1_add")
    h = net.conv(block1, 32, stride=2, name="block2_conv1")
    h = net.conv(h, 32, relu=False, name="block2_conv2")
    shortcut = net.conv(block1, 32, kernel=1, stride=2, relu=False, name="block2_project")
    block2 = net.add_relu(shortcut, h, name="block2_add")
    h = net.conv(block2, 32, groups=32, name="depthwise")
    h = net.conv(h, 32, kernel=1, name="pointwise")
    h = b.max_pool2d(h, 2, name="pool")
    fmt = b.type_of(h).fmt
    h = b.global_avg_pool(h, out_fmt=fmt, rounding="half_even", name="gap")
    return b.build([net.dense(h, 10, relu=False, name="logits")])
