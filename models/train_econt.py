"""Train the ECON-T autoencoder shipped as models/data/econt_encoder.h5 and
models/data/econt_decoder.h5 (run offline; tensorflow, tf-keras, qkeras and pot).

    .venv/bin/python models/train_econt.py            # float baseline + the ASIC variant
    .venv/bin/python models/train_econt.py --sweep    # also latent 3/5/7 bits, weights 4/8

The network of the ECON-T concentrator ASIC (CMS HGCAL; fastml-science
``sensor-data-compression``), on the synthetic maps of ``models/econt_data.py``::

    encoder (hardware):  map 8x8x1 -> QConv2D 8 filters 3x3, stride 2, same -> ReLU
                         -> Flatten (128) -> QDense 16 -> ReLU = the latent
    decoder (software):  Dense 128 ReLU -> Reshape 4x4x8 -> Conv2DTranspose 8 3x3 stride 2
                         same ReLU -> Conv2DTranspose 1 3x3 same sigmoid -> 8x8x1

Quantized encoder (``train(latent_bits, weight_bits, ...)``): input
``QActivation(quantized_bits(8, 0, keep_negative=False, alpha=1))`` (the map's fractions of
its sum, unsigned, frac 8: ``econt_data.quantize_inputs``); conv and dense kernels and
biases ``quantized_bits(weight_bits, 0, alpha=1)`` (frac ``weight_bits - 1``); the conv's
ReLU ``quantized_relu(8, 0)`` (unsigned, frac 8); the latent ``quantized_relu(latent_bits,
1)`` (frac ``latent_bits - 1``, values 0 to 2).  Every scale is a power of two, so the
neurogate front-end maps the encoder exactly.  The decoder is float and sees the latent's
dequantized values.  The float baseline (``train(None, None, ...)``) is the same network
with ``Conv2D`` / ``Dense`` / ``relu`` and unquantized inputs.

Loss: the entropic optimal-transport cost (Sinkhorn, ``SINKHORN_EPSILON`` = 0.2 cell
pitches, ``SINKHORN_ITERATIONS`` = 40, in float64) between the input map and the
reconstruction, both restricted to the 48 real cells and normalized, with the cells'
distances as the ground cost: a smooth stand-in for the energy mover's distance, the
quality metric.  The reconstruction is compared with the float map (the truth), for the
quantized encoders too.  Adam, batch 256, the learning rate halved at 60% and again at
85% of the epochs.

Schedule (``main``): a float *base* model, 30 epochs from scratch at 2.5e-2; then every
model is tuned from the base for 30 epochs at 5e-3: the float baseline itself (so that it
has had exactly the training of the quantized encoders) and each quantized encoder
(quantization-aware: QKeras quantizes in the forward pass, straight-through gradients).
Seed 0 (``keras.utils.set_random_seed``): on this project's 2-core CPU two runs gave the
float base model's held-out EMD to every digit.  About 4 minutes without ``--sweep``, 11.5
with.

Float32: QKeras sums in float32, exact up to 24 significant bits.  The conv sums 9
products of 8-bit inputs and ``weight_bits`` weights, the dense 128: at most ``128 * 255 *
2**(weight_bits-1) < 2**24`` units for weight_bits <= 8, plus a bias below ``2**(weight_bits
+ 7)`` units; ``golden_emd`` also checks that the front-end reports no float32 note and no
approximation for the saved encoder, and that its graph gives the same latents as
``model.predict`` on the held-out maps.

Output: ``models/data/econt_encoder.h5`` (8-bit inputs, 6-bit weights, 9-bit latent),
``models/data/econt_decoder.h5`` and ``models/data/econt_metrics.json`` (the held-out EMD of
the float baseline and of the shipped encoder through the neurogate golden model, and with
``--sweep`` the other widths).  With ``--sweep`` every other encoder is saved too, with the
decoder trained beside it: ``models/data/econt_encoder_l{latent}_w{weights}.h5`` and
``econt_decoder_l{latent}_w{weights}.h5`` (``sweep_paths``); its metrics entry adds the EMD
through the golden model of the saved file (``emd_golden``, which must equal the Keras
figure: the script refuses to write the metrics when any latent value differs) and the
two file names.  ``models/econt_study.py`` compiles them for the ECON-T study.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
from neurogate.models import econt_data  # noqa: E402
from neurogate.models.econt_emd import emd, ground_metric  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
ENCODER, DECODER, METRICS = (DATA / "econt_encoder.h5", DATA / "econt_decoder.h5",
                             DATA / "econt_metrics.json")
ASIC = {"input_bits": 8, "weight_bits": 6, "latent_bits": 9}
INPUT_BITS = 8
CONV_RELU = (8, 0)                 # quantized_relu(bits, integer) after the conv
LATENT_INTEGER = 1                 # quantized_relu(latent_bits, 1)
LATENT = 16
BASE_EPOCHS, TUNE_EPOCHS = 30, 30
SEED = 0
BATCH = 256
LEARNING_RATE, TUNE_RATE = 2.5e-2, 5e-3
SINKHORN_EPSILON, SINKHORN_ITERATIONS = 0.2, 40


def frameworks():
    import qkeras
    import tensorflow as tf
    import tf_keras as keras

    return tf, keras, qkeras


def build_encoder(keras, qkeras, latent_bits: int | None, weight_bits: int | None):
    """The encoder; float when ``latent_bits`` and ``weight_bits`` are None."""
    x = keras.Input((8, 8, 1), name="map")
    if latent_bits is None:
        h = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu",
                                name="conv")(x)
        h = keras.layers.Flatten(name="flatten")(h)
        h = keras.layers.Dense(LATENT, activation="relu", name="dense")(h)
        return keras.Model(x, h, name="econt_encoder_float")
    qw = qkeras.quantized_bits(weight_bits, 0, alpha=1)
    h = qkeras.QActivation(qkeras.quantized_bits(INPUT_BITS, 0, keep_negative=False, alpha=1),
                           name="input_q")(x)
    h = qkeras.QConv2D(8, 3, strides=2, padding="same", kernel_quantizer=qw, bias_quantizer=qw,
                       name="conv")(h)
    h = qkeras.QActivation(qkeras.quantized_relu(*CONV_RELU), name="conv_relu")(h)
    h = keras.layers.Flatten(name="flatten")(h)
    h = qkeras.QDense(LATENT, kernel_quantizer=qw, bias_quantizer=qw, name="dense")(h)
    h = qkeras.QActivation(qkeras.quantized_relu(latent_bits, LATENT_INTEGER), name="latent")(h)
    return keras.Model(x, h, name="econt_encoder")


def build_decoder(keras):
    z = keras.Input((LATENT,), name="latent")
    h = keras.layers.Dense(128, activation="relu", name="dec_dense")(z)
    h = keras.layers.Reshape((4, 4, 8), name="dec_reshape")(h)
    h = keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu",
                                     name="dec_convt1")(h)
    h = keras.layers.Conv2DTranspose(1, 3, padding="same", activation="sigmoid",
                                     name="dec_convt2")(h)
    return keras.Model(z, h, name="econt_decoder")


def sinkhorn_loss(tf):
    """``loss(target_cells, reconstruction_image)``: the entropic OT cost between the
    normalized 48 real cells of both (target: ``(batch, 48)``, unit sums), by Sinkhorn
    scaling iterations in float64 (whose range holds the scalings for any masses)."""
    metric = tf.constant(ground_metric(), tf.float64)
    kernel = tf.exp(-metric / SINKHORN_EPSILON)
    cells = tf.constant(econt_data.ROWS * 8 + econt_data.COLS, tf.int32)

    def loss(target, image):
        flat = tf.cast(tf.reshape(image, (-1, 64)), tf.float64)
        pred = tf.gather(flat, cells, axis=1)
        pred = pred / (tf.reduce_sum(pred, axis=1, keepdims=True) + 1e-30)
        target = tf.cast(target, tf.float64)
        v = tf.ones_like(pred)
        for _ in range(SINKHORN_ITERATIONS):
            u = target / (tf.matmul(v, kernel) + 1e-300)
            v = pred / (tf.matmul(u, kernel) + 1e-300)
        plan = u[:, :, None] * kernel[None] * v[:, None, :]
        return tf.cast(tf.reduce_sum(plan * metric[None], axis=[1, 2]), tf.float32)

    return loss


def decode(decoder, latents: np.ndarray) -> np.ndarray:
    """The decoder's ``(n, 8, 8)`` reconstructions of float latents."""
    return decoder.predict(latents.astype(np.float32), batch_size=4096, verbose=0)[..., 0]


def encoder_inputs(maps: np.ndarray, quantized: bool) -> np.ndarray:
    """What the encoder sees: 8-bit fractions (quantized) or float fractions of the sum."""
    if quantized:
        return (econt_data.quantize_inputs(maps, INPUT_BITS) * 2.0 ** -INPUT_BITS)
    return econt_data.normalize(maps)[..., None]


def train(latent_bits: int | None, weight_bits: int | None, epochs: int, seed: int = SEED,
          init=None, maps=None, learning_rate: float | None = None):
    """Train an encoder (float when both widths are None) with its float decoder.

    ``init``: an ``(encoder, decoder)`` pair whose weights start the training (the float
    base model, for the quantized encoders); ``maps``: ``(train, held_out)`` maps (default
    the fixed split of ``econt_data``); ``learning_rate``: the initial rate (default
    ``LEARNING_RATE`` from scratch, ``TUNE_RATE`` from ``init``).  Returns ``(encoder,
    decoder, metrics)``, metrics holding the held-out EMD of the Keras encoder + decoder
    (mean, median), the widths, the epochs, the seed, the learning rate, the final
    training loss and the training time.
    """
    tf, keras, qkeras = frameworks()
    keras.utils.set_random_seed(seed)
    train_maps, held_out = maps if maps is not None else (econt_data.train_maps(),
                                                          econt_data.held_out_maps())
    quantized = latent_bits is not None
    if quantized != (weight_bits is not None):
        raise ValueError("give both latent_bits and weight_bits (quantized) or neither (float)")
    encoder = build_encoder(keras, qkeras, latent_bits, weight_bits)
    decoder = build_decoder(keras)
    if init is not None:
        for layer in ("conv", "dense"):
            encoder.get_layer(layer).set_weights(init[0].get_layer(layer).get_weights())
        decoder.set_weights(init[1].get_weights())
    x = keras.Input((8, 8, 1), name="map")
    autoencoder = keras.Model(x, decoder(encoder(x)), name="econt_autoencoder")
    rate = learning_rate or (TUNE_RATE if init is not None else LEARNING_RATE)
    steps = int(np.ceil(len(train_maps) / BATCH)) * epochs
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay(
        [int(0.6 * steps), int(0.85 * steps)], [rate, rate / 2, rate / 4])
    autoencoder.compile(optimizer=keras.optimizers.Adam(schedule), loss=sinkhorn_loss(tf))
    inputs = encoder_inputs(train_maps, quantized).astype(np.float32)
    targets = econt_data.to_cells(econt_data.normalize(train_maps)).astype(np.float32)
    start = time.perf_counter()
    history = autoencoder.fit(inputs, targets, epochs=epochs, batch_size=BATCH, shuffle=True,
                              verbose=0)
    seconds = time.perf_counter() - start
    latents = encoder.predict(encoder_inputs(held_out, quantized).astype(np.float32),
                              batch_size=4096, verbose=0)
    distances = emd(held_out, decode(decoder, latents))
    metrics = {"latent_bits": latent_bits, "weight_bits": weight_bits,
               "input_bits": INPUT_BITS if quantized else None, "epochs": epochs, "seed": seed,
               "learning_rate": rate, "from": "float base" if init is not None else "scratch",
               "emd_mean": float(distances.mean()), "emd_median": float(np.median(distances)),
               "maps": len(held_out), "train_loss": float(history.history["loss"][-1]),
               "train_seconds": round(seconds, 1)}
    return encoder, decoder, metrics


def sweep_paths(latent_bits: int, weight_bits: int) -> tuple[Path, Path]:
    """The saved encoder and decoder of one sweep configuration."""
    tag = f"l{latent_bits}_w{weight_bits}"
    return DATA / f"econt_encoder_{tag}.h5", DATA / f"econt_decoder_{tag}.h5"


def golden_emd(encoder_path: Path, decoder, held_out: np.ndarray) -> tuple[float, int]:
    """The held-out EMD through the neurogate golden model of the saved encoder, and the
    count of latent values where the graph differs from ``model.predict``."""
    from neurogate.compiler.frontends.keras import compare_with_keras, import_keras
    from neurogate.compiler.interpreter import run

    result = import_keras(encoder_path, input_format=econt_data.input_format(INPUT_BITS))
    if result.notes_float32 or result.approximations:
        raise RuntimeError(f"the encoder is not exact: {result.notes + result.approximations}")
    graph = result.graph
    integers = econt_data.quantize_inputs(held_out, INPUT_BITS)
    (name,) = graph.outputs
    outputs = run(graph, {graph.inputs[0].name: integers})[name]
    latents = outputs * 2.0 ** -graph.type_of(name).fmt.frac
    mismatch = compare_with_keras(result, integers)
    return float(emd(held_out, decode(decoder, latents)).mean()), mismatch.count


def versions() -> dict:
    import ot
    import qkeras
    import tensorflow as tf
    import tf_keras

    return {"tensorflow": tf.__version__, "tf_keras": tf_keras.__version__,
            "qkeras": qkeras.__version__, "pot": ot.__version__, "numpy": np.__version__}


def save_checked(label: str, encoder, decoder, encoder_path: Path, decoder_path: Path,
                 held_out: np.ndarray) -> float | None:
    """Save the pair, then measure the saved encoder's held-out EMD through the neurogate
    golden model; ``None`` (and a message) when its graph differs from QKeras."""
    encoder.save(encoder_path, include_optimizer=False)
    decoder.save(decoder_path, include_optimizer=False)
    golden, mismatches = golden_emd(encoder_path, decoder, held_out)
    print(f"{label} through the neurogate golden model: EMD {golden:.4f}, "
          f"{mismatches} latent values differ from model.predict", flush=True)
    if mismatches:
        print(f"{encoder_path}: the graph differs from QKeras; not writing the metrics",
              file=sys.stderr)
        return None
    return golden


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true",
                        help="also train latent 3/5/7 bits (6-bit weights) and weights 4/8 bits "
                             "(9-bit latent)")
    parser.add_argument("--base-epochs", type=int, default=BASE_EPOCHS)
    parser.add_argument("--tune-epochs", type=int, default=TUNE_EPOCHS)
    args = parser.parse_args()
    maps = (econt_data.train_maps(), econt_data.held_out_maps())

    def step(label, *widths, init=None, epochs=args.tune_epochs):
        result = train(*widths, epochs, SEED, init=init, maps=maps)
        print(f"{label}: held-out EMD {result[2]['emd_mean']:.4f} ({epochs} epochs, "
              f"{result[2]['train_seconds']} s)", flush=True)
        return result

    base = step("float base", None, None, epochs=args.base_epochs)
    float_model = step("float baseline (base + tuning)", None, None, init=base[:2])
    encoder, decoder, asic = step(f"ASIC {ASIC}", ASIC["latent_bits"], ASIC["weight_bits"],
                                  init=base[:2])
    DATA.mkdir(exist_ok=True)
    hardware = save_checked(f"ASIC {ASIC}", encoder, decoder, ENCODER, DECODER, maps[1])
    if hardware is None:
        return 1

    sweep = []
    if args.sweep:
        widths = [(bits, ASIC["weight_bits"]) for bits in (3, 5, 7)] + \
                 [(ASIC["latent_bits"], bits) for bits in (4, 8)]
        for latent_bits, weight_bits in widths:
            label = f"latent {latent_bits} bits, weights {weight_bits} bits"
            encoder, decoder, metrics = step(label, latent_bits, weight_bits, init=base[:2])
            encoder_path, decoder_path = sweep_paths(latent_bits, weight_bits)
            golden = save_checked(label, encoder, decoder, encoder_path, decoder_path, maps[1])
            if golden is None:
                return 1
            sweep.append({**metrics, "emd_golden": golden, "encoder": encoder_path.name,
                          "decoder": decoder_path.name})
    report = {
        "command": "python models/train_econt.py" + (" --sweep" if args.sweep else ""),
        "held_out_maps": len(maps[1]), "held_out_seed": econt_data.HELD_OUT_SEED,
        "train_maps": len(maps[0]), "train_seed": econt_data.TRAIN_SEED,
        "emd_float": float_model[2]["emd_mean"],
        "emd_quantized": hardware,
        "emd_quantized_keras": asic["emd_mean"],
        "asic": ASIC,
        "float_base": base[2], "float": float_model[2], "quantized": asic, "sweep": sweep,
        "versions": versions(),
    }
    METRICS.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {ENCODER} ({ENCODER.stat().st_size} bytes), {DECODER} "
          f"({DECODER.stat().st_size} bytes), {METRICS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
