"""The Brevitas digits CNN (``models/data/brevitas_digits_cnn.onnx``, trained and exported to
QONNX offline by ``models/train_brevitas_cnn.py``), loaded through the QONNX front-end.

Needs onnx and qonnx (``pip install 'neurogate[onnx]'``).  The IR input is the integer of
the network's input quantizer: uint8 with a scale of ``2**-7`` (``pixel / 16`` in
Q1.7, so a full-intensity pixel is 128), laid out NCHW ``(1, 8, 8)`` like the ONNX model.
Two 3x3 convolutions (8 and 16 channels, int8 weights, int32 biases) with ReLU, uint8
activations and 2x2 max pooling, then a 64 -> 10 linear layer whose accumulator is the
output (logits times ``2**-11``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from neurogate.compiler.ir import Graph
from neurogate.models.digits import held_out_set

MODEL = Path(__file__).resolve().parent / "data" / "brevitas_digits_cnn.onnx"


def build_model() -> Graph:
    from neurogate.compiler.frontends.qonnx import load_qonnx

    return load_qonnx(MODEL, name="brevitas_digits_cnn")


def held_out_inputs() -> tuple[np.ndarray, np.ndarray]:
    """The held-out 20% of the digits as this model's input integers ``(360, 1, 8, 8)``
    (``8 * pixel``; ``digits_test.json`` stores ``min(8 * pixel, 127)``, and every pixel
    is an integer 0..16, so ``pixel = ceil(value / 8)``), and their labels."""
    inputs, labels = held_out_set()
    pixels = -(-inputs // 8)
    return (8 * pixels).reshape(-1, 1, 8, 8), labels


def accuracy(graph: Graph) -> float:
    """Top-1 accuracy of the integer golden model on the held-out digits."""
    from neurogate.compiler.interpreter import run_single_output

    inputs, labels = held_out_inputs()
    return float(np.mean(np.argmax(run_single_output(graph, inputs), axis=1) == labels))


if __name__ == "__main__":
    print(f"top-1 on the held-out digits: {accuracy(build_model()):.4f}")
