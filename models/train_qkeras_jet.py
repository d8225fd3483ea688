"""Train the QKeras jet-tagging MLP shipped as models/data/qkeras_jet_mlp.h5 (run offline).

    TF_USE_LEGACY_KERAS=1 python models/train_qkeras_jet.py    # needs tensorflow, tf-keras, qkeras

The hls4ml tutorial's network: 16-64-32-32-5, ``quantized_bits(8, 0, alpha=1)`` weights
and biases, ``quantized_relu(8, 3)`` activations (unsigned Q3.5), a final float softmax;
inputs quantized as hls4ml's ``ap_fixed<16,6>`` (``IntFormat(16, frac=10)``).

The real ``hls4ml_lhc_jets_hlf`` data set cannot be downloaded here, so the data are
synthetic and seeded: 5 classes, 16 features; class ``k`` draws ``z ~ N(mu_k, I_8)`` in an
8-dimensional latent space (``mu_k ~ N(0, 1.5**2)``), the features are ``tanh`` of a fixed
random linear map of ``z`` plus 0.3-sigma noise, then standardized.  20,000 training and
5,000 test samples.  Accuracy on it says only that the network learned something.

Float32 exactness: QKeras sums in float32, exact while every partial sum has at most 24
significant bits.  With 16-bit inputs (frac 10) and 8-bit weights (frac 7) the first
layer's sums are in units of 2**-17, so each first-layer neuron keeps ``sum |w| <= 3.8``
(a constraint applied after every batch: ``L1Cap``); the script then checks the bound
``sum |w_int| * 2**15 + |b_int| < 2**24`` for every neuron of the saved model.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parent / "data" / "qkeras_jet_mlp.h5"
SIZES = (16, 64, 32, 32, 5)
L1_CAP = 3.8


def synthetic_jets(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2026)             # the class structure: fixed
    means = rng.normal(0.0, 1.5, (5, 8))
    mix = rng.normal(0.0, 0.5, (8, 16))
    rng = np.random.default_rng(seed)             # the samples
    labels = rng.integers(0, 5, count)
    latent = means[labels] + rng.normal(0.0, 1.0, (count, 8))
    features = np.tanh(latent @ mix) + rng.normal(0.0, 0.3, (count, 16))
    return features, labels


def build(keras, qkeras):
    q8 = qkeras.quantized_bits(8, 0, alpha=1)
    x = keras.Input((SIZES[0],), name="features")
    h = x
    for i, units in enumerate(SIZES[1:]):
        h = qkeras.QDense(units, kernel_quantizer=q8, bias_quantizer=q8, name=f"fc{i + 1}",
                          kernel_initializer=keras.initializers.HeNormal(seed=i))(h)
        if i < len(SIZES) - 2:
            h = qkeras.QActivation(qkeras.quantized_relu(8, 3), name=f"relu{i + 1}")(h)
    h = keras.layers.Activation("softmax", name="softmax")(h)
    return keras.Model(x, h, name="qkeras_jet_mlp")


def main() -> int:
    import qkeras
    import tf_keras as keras

    keras.utils.set_random_seed(0)
    x_train, y_train = synthetic_jets(20000, seed=1)
    x_test, y_test = synthetic_jets(5000, seed=2)
    mean, std = x_train.mean(0), x_train.std(0)
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    # the inputs as ap_fixed<16,6>: multiples of 2**-10 in [-32, 32)
    x_train, x_test = (np.clip(np.round(v * 1024), -32768, 32767) / 1024 for v in (x_train, x_test))

    class L1Cap(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            kernel = self.model.get_layer("fc1").kernel
            norms = np.abs(kernel.numpy()).sum(axis=0)
            kernel.assign(kernel.numpy() * np.minimum(1.0, L1_CAP / norms))

    model = build(keras, qkeras)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=15, batch_size=256, verbose=0, callbacks=[L1Cap()])
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)

    layer = model.get_layer("fc1")
    weights = np.asarray(layer.kernel_quantizer_internal(layer.kernel)) * 2 ** 7
    bias = np.asarray(layer.bias_quantizer_internal(layer.bias)) * 2 ** 17
    bound = int((np.abs(weights).sum(axis=0) * 2 ** 15 + np.abs(bias)).max())
    if bound >= 1 << 24:
        print(f"fc1 sums reach {bound} units of 2**-17: not exact in float32", file=sys.stderr)
        return 1
    model.save(OUT, include_optimizer=False)
    print(f"test accuracy {accuracy:.4f} on 5000 synthetic samples; fc1 bound {bound} < 2**24; "
          f"wrote {OUT} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
