"""Small seeded QKeras models, one or two layer types each, for the front-end tests.

Weights are drawn at random (seeded) and set directly: no training, so each model builds
in well under a second.  Every function returns ``(model, input_format)``; the format is
None when the model declares its input with a leading ``QActivation(quantized_bits)``.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tf_keras as keras  # noqa: E402
from neurogate.numerics import IntFormat  # noqa: E402
from qkeras import (  # noqa: E402
    QActivation,
    QBatchNormalization,
    QConv2D,
    QConv2DBatchnorm,
    QDense,
    QDepthwiseConv2D,
    QDepthwiseConv2DBatchnorm,
    QSeparableConv2D,
    binary,
    quantized_bits,
    quantized_relu,
    ternary,
)

layers = keras.layers


def q8(alpha=1):
    return quantized_bits(8, 0, alpha=alpha)


def randomize(model, seed: int, spread: float = 0.6):
    """Uniform weights in [-spread, spread]; batchnorm statistics of a trained model
    (gamma 0.5 to 1.5, variance 0.3 to 2)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = []
        for w in layer.weights:
            values = rng.uniform(-spread, spread, w.shape)
            if "variance" in w.name:
                values = rng.uniform(0.3, 2.0, w.shape)
            elif "gamma" in w.name:
                values = rng.uniform(0.5, 1.5, w.shape)
            weights.append(values.astype(np.float32))
        if weights:
            layer.set_weights(weights)
    return model


def dense_activations(seed=1):
    """QDense with quantized_bits (symmetric, alpha 0.5) and quantized_relu activations."""
    x = keras.Input((12,), name="x")
    h = QDense(20, kernel_quantizer=q8(), bias_quantizer=q8(), name="fc1")(x)
    h = QActivation(quantized_bits(6, 2, 1, alpha=0.5), name="act1")(h)
    h = QDense(10, kernel_quantizer=quantized_bits(6, 1, alpha=1), bias_quantizer=q8(),
               activation=quantized_relu(7, 2), name="fc2")(h)
    h = QDense(4, kernel_quantizer=q8(), bias_quantizer=q8(), name="fc3")(h)
    return randomize(keras.Model(x, h), seed), IntFormat(8, frac=4)


def conv_pool(seed=2):
    """QConv2D (same, stride 2; valid, dilation 2), max / 2x2 average pooling, zero
    padding, flatten; the input format comes from a leading QActivation."""
    x = keras.Input((12, 12, 2), name="img")
    h = QActivation(quantized_bits(8, 3, alpha=1), name="in_q")(x)
    h = QConv2D(4, 3, strides=2, padding="same", kernel_quantizer=q8(), bias_quantizer=q8(),
                name="c1")(h)
    h = QActivation(quantized_relu(8, 3), name="r1")(h)
    h = layers.ZeroPadding2D(((1, 0), (2, 1)), name="pad")(h)
    h = QConv2D(6, 2, dilation_rate=2, kernel_quantizer=q8(), bias_quantizer=q8(),
                activation=quantized_bits(8, 3, alpha=1), name="c2")(h)
    h = layers.MaxPooling2D(2, padding="same", name="mp")(h)
    h = layers.AveragePooling2D(2, strides=1, name="ap")(h)
    h = layers.Flatten(name="flat")(h)
    h = QDense(3, kernel_quantizer=q8(), bias_quantizer=q8(), name="out")(h)
    return randomize(keras.Model(x, h), seed), None


def depthwise_separable(seed=3):
    """QDepthwiseConv2D (multiplier 2), QSeparableConv2D, a 3x3 average (divisor 9, fused
    with the next quantizer) and a global average."""
    x = keras.Input((9, 9, 3), name="img")
    h = QDepthwiseConv2D(3, depth_multiplier=2, padding="same",
                         depthwise_quantizer=q8(), bias_quantizer=q8(), name="dw")(x)
    h = QActivation(quantized_relu(6, 2), name="r1")(h)
    h = QSeparableConv2D(5, 3, depthwise_quantizer=q8(), pointwise_quantizer=q8(),
                         bias_quantizer=q8(), name="sep")(h)
    h = QActivation(quantized_bits(8, 3, alpha=1), name="q2")(h)
    h = layers.AveragePooling2D(3, strides=2, padding="same", name="ap")(h)
    h = QActivation(quantized_bits(8, 2, alpha=1), name="q3")(h)
    h = layers.GlobalAveragePooling2D(name="gap")(h)
    h = QActivation(quantized_relu(6, 2), name="q4")(h)
    return randomize(keras.Model(x, h), seed), IntFormat(6, frac=3)


def merges(seed=4):
    """Add (residual), Concatenate of different formats, Reshape, Dropout, ReLU."""
    x = keras.Input((8,), name="x")
    a = QDense(8, kernel_quantizer=q8(), bias_quantizer=q8(), name="a")(x)
    a = QActivation(quantized_bits(8, 2, alpha=1), name="aq")(a)
    s = layers.Add(name="res")([a, x])
    s = layers.ReLU(name="relu")(s)
    b = QDense(6, kernel_quantizer=q8(), bias_quantizer=q8(), name="b")(s)
    b = QActivation(quantized_relu(6, 1), name="bq")(b)
    c = layers.Concatenate(name="cat")([b, s])
    c = layers.Dropout(0.5, name="drop")(c)
    c = layers.Reshape((2, 7), name="rs")(c)
    c = layers.Flatten(name="flat")(c)
    y = QDense(3, kernel_quantizer=q8(), bias_quantizer=q8(), name="y")(c)
    return randomize(keras.Model(x, y), seed), IntFormat(8, frac=5)


def binary_ternary(seed=5):
    """Binary and ternary weights (alpha 1 and 0.5), binary and ternary activations."""
    x = keras.Input((10,), name="x")
    h = QDense(16, kernel_quantizer=binary(alpha=1), bias_quantizer=q8(), name="bin")(x)
    h = QActivation(binary(alpha=1), name="sign")(h)
    h = QDense(12, kernel_quantizer=ternary(alpha=0.5), bias_quantizer=q8(), name="ter")(h)
    h = QActivation(ternary(threshold=0.4), name="tact")(h)
    h = QDense(4, kernel_quantizer=quantized_bits(4, 0, alpha="auto_po2"), bias_quantizer=q8(),
               name="po2")(h)
    return randomize(keras.Model(x, h), seed, spread=1.0), IntFormat(8, frac=5)


def batchnorm_folded(seed=6):
    """QConv2DBatchnorm and QDepthwiseConv2DBatchnorm with power-of-two quantizers (exact
    after folding: the folded float32 weights go through the quantizers)."""
    x = keras.Input((6, 6, 2), name="img")
    h = QConv2DBatchnorm(4, 3, kernel_quantizer=q8(), bias_quantizer=q8(), name="cbn")(x)
    h = QActivation(quantized_relu(8, 3), name="r")(h)
    h = QDepthwiseConv2DBatchnorm(3, padding="same", depthwise_quantizer=q8(),
                                  bias_quantizer=q8(), name="dwbn")(h)
    h = QActivation(quantized_relu(8, 3), name="r2")(h)
    h = layers.Flatten(name="flat")(h)
    return randomize(keras.Model(x, h), seed), IntFormat(8, frac=5)


def approximated_scales(seed=7):
    """A QBatchNormalization and an alpha='auto' kernel: non-power-of-two scales."""
    x = keras.Input((10,), name="x")
    h = QDense(12, kernel_quantizer=q8(), bias_quantizer=q8(), name="fc1")(x)
    h = QBatchNormalization(name="bn")(h)
    h = QActivation(quantized_relu(8, 3), name="r1")(h)
    h = QDense(4, kernel_quantizer=quantized_bits(8, 0, alpha="auto"), bias_quantizer=q8(),
               name="fc2")(h)
    h = QActivation(quantized_bits(10, 4, alpha=1), name="q2")(h)
    return randomize(keras.Model(x, h), seed), IntFormat(8, frac=5)


EXACT_MODELS = (dense_activations, conv_pool, depthwise_separable, merges, binary_ternary,
                batchnorm_folded)
