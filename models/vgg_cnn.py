"""A VGG-style CNN in the spirit of CNNA's VGG16 template, scaled to 32x32x3 inputs
(seeded synthetic weights: no dataset is used): three blocks of two 3x3 convolutions
(16, 32, 64 channels) each followed by a 2x2 max pool, then dense 1024 -> 64 -> 10.
8-bit weights and activations, 32-bit accumulators.  (VGG16 itself at 224x224 is costed
by ``bench/engine_vgg16.py`` from its shapes.)
"""

from __future__ import annotations

from neurogate.compiler.ir import Graph
from neurogate.models.synthetic import SIGNED, SyntheticCnn


def build_model() -> Graph:
    net = SyntheticCnn("vgg_cnn", seed=16)
    b = net.b
    h = b.input("image", (32, 32, 3), SIGNED)
    for block, channels in enumerate((16, 32, 64), start=1):
        h = net.conv(h, channels, name=f"conv{block}_1")
        h = net.conv(h, channels, name=f"conv{block}_2")
        h = b.max_pool2d(h, 2, name=f"pool{block}")
    h = net.dense(b.flatten(h), 64, relu=True, name="fc1")
    return b.build([net.dense(h, 10, relu=False, name="fc2")])
