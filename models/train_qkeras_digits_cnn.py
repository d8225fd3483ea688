"""Train the QKeras digits CNN shipped as models/data/qkeras_digits_cnn.h5 (run offline).

    TF_USE_LEGACY_KERAS=1 python models/train_qkeras_digits_cnn.py  # tensorflow, tf-keras,
                                                                     # qkeras, scikit-learn

The 8x8 handwritten digits bundled with scikit-learn (no download), split 80/20 with the
permutation of ``models/train_digits.py`` (seed 2024).  Pixels (0..16) enter as
``pixel / 16``; the model's leading ``QActivation(quantized_bits(8, 1, alpha=1))``
declares them as ``IntFormat(8, frac=6)`` (the integer input is ``4 * pixel``).

    input 8x8x1 -> QConv2D 8 3x3 same -> quantized_relu(8,3) -> MaxPool 2
                -> QConv2D 16 3x3 same -> quantized_relu(8,3) -> MaxPool 2
                -> Flatten (64) -> QDense 10 -> softmax (outside the hardware)

Weights and biases ``quantized_bits(8, 0, alpha=1)``.  The script prints the test
accuracy of the float32 QKeras model (the neurogate graph's logits are the same
integers, so its accuracy is the same; ``tests/frontends/test_qkeras.py`` checks it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parent / "data" / "qkeras_digits_cnn.h5"


def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, y_train, x_test, y_test)``: pixels 0..16 as (N, 8, 8, 1) integers."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(2024).permutation(len(digits.target))
    split = int(0.8 * len(order))
    pixels = digits.images.astype(np.int64)[..., None]
    train, test = order[:split], order[split:]
    return pixels[train], digits.target[train], pixels[test], digits.target[test]


def build(keras, qkeras):
    q8 = qkeras.quantized_bits(8, 0, alpha=1)
    x = keras.Input((8, 8, 1), name="pixels")
    h = qkeras.QActivation(qkeras.quantized_bits(8, 1, alpha=1), name="input_q")(x)
    for i, filters in enumerate((8, 16)):
        h = qkeras.QConv2D(filters, 3, padding="same", kernel_quantizer=q8, bias_quantizer=q8,
                           kernel_initializer=keras.initializers.HeNormal(seed=i),
                           name=f"conv{i + 1}")(h)
        h = qkeras.QActivation(qkeras.quantized_relu(8, 3), name=f"relu{i + 1}")(h)
        h = keras.layers.MaxPooling2D(2, name=f"pool{i + 1}")(h)
    h = keras.layers.Flatten(name="flatten")(h)
    h = qkeras.QDense(10, kernel_quantizer=q8, bias_quantizer=q8, name="logits",
                      kernel_initializer=keras.initializers.HeNormal(seed=9))(h)
    h = keras.layers.Activation("softmax", name="softmax")(h)
    return keras.Model(x, h, name="qkeras_digits_cnn")


def main() -> int:
    import qkeras
    import tf_keras as keras

    keras.utils.set_random_seed(0)
    x_train, y_train, x_test, y_test = digits_split()
    model = build(keras, qkeras)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train / 16.0, y_train, epochs=60, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x_test / 16.0, y_test, verbose=0)
    model.save(OUT, include_optimizer=False)
    print(f"test accuracy {accuracy:.4f} on {len(y_test)} held-out digits; wrote {OUT} "
          f"({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
