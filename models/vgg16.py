"""VGG16's feature extractor at 224x224x3 (Simonyan and Zisserman's configuration D: 13
3x3 convolutions in five blocks of 64, 128, 256, 512 and 512 channels, each block ending
in a 2x2 max pool), the network CNNA's template runs, with seeded synthetic 8-bit weights
(no dataset is used: the shapes are VGG16's, the values are not ImageNet's).

Its activations (3.2 MB after the first layer) do not fit any on-chip scratchpad of an
ECP5: the engine runs it in row bands with the tensors in host memory, and its 22,343
instructions in pages (docs/engine.md).  The classifier (fc6-fc8) is not included:
fc6 reduces over 25,088 inputs, 3,136 weight words per column, more than half the
weight buffer, and splitting a reduction is not done yet; ``bench/engine_vgg16.py``
costs it from its shapes.

Each requantize shift comes from the layer's fan-in (not from calibration data: the
golden model at 224x224 takes a minute), chosen so that a typical accumulator lands in
the upper half of the 8-bit output range.
"""

from __future__ import annotations

import numpy as np
from neurogate.compiler.builder import GraphBuilder
from neurogate.compiler.ir import Graph
from neurogate.numerics.formats import IntFormat

BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
WEIGHTS = IntFormat(8, frac=7)
IMAGE, RELU = IntFormat(8, frac=4), IntFormat(8, signed=False, frac=4)
#: ``neurogate regress`` runs this model with one image (some 250 million engine cycles).
REGRESS_VECTORS = 1


def build_model(size: int = 224, seed: int = 16) -> Graph:
    rng = np.random.default_rng(seed)
    b = GraphBuilder("vgg16_features")
    h = b.input("image", (size, size, 3), IMAGE)
    frac = IMAGE.frac
    for block, (channels, convs) in enumerate(BLOCKS, start=1):
        for k in range(1, convs + 1):
            c = b.type_of(h).shape[2]
            w = rng.integers(-127, 128, (3, 3, c, channels))
            bias = rng.integers(-2000, 2000, channels)
            acc = b.conv2d(h, w, bias, weight_fmt=WEIGHTS, padding="same", acc_width=32,
                           name=f"conv{block}_{k}")
            # |sum| ~ sqrt(fan-in) * 73 * 73 for uniform weights and activations
            shift = max(0, int(np.ceil(np.log2(np.sqrt(9 * c) * 73 * 73 / 128))))
            frac = frac + WEIGHTS.frac - shift
            out = IntFormat(8, signed=False, frac=frac)
            h = b.relu(b.requantize(acc, shift=shift, out_fmt=out, rounding="half_even"))
        h = b.max_pool2d(h, 2, name=f"pool{block}")
    return b.build([h])
