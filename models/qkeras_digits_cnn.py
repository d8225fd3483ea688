"""The QKeras digits CNN (conv-pool-conv-pool-dense on the 8x8 scikit-learn digits),
trained offline by ``models/train_qkeras_digits_cnn.py``, loaded through the QKeras
front-end.

The input format comes from the model's leading ``QActivation(quantized_bits(8, 1))``:
``IntFormat(8, frac=6)``, the integer being ``4 * pixel``.  The graph outputs the
logits (the final softmax stays outside the hardware).  Needs tensorflow, tf-keras and
qkeras; ``held_out_set`` needs scikit-learn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from neurogate.compiler.frontends.keras import load_keras
from neurogate.compiler.ir import Graph

PATH = Path(__file__).resolve().parent / "data" / "qkeras_digits_cnn.h5"


def build_model() -> Graph:
    return load_keras(PATH, name="qkeras_digits_cnn")


def held_out_set() -> tuple[np.ndarray, np.ndarray]:
    """The held-out 20% of the digits (360 images, the split of ``train_digits.py``) as
    ``(N, 8, 8, 1)`` integers of ``IntFormat(8, frac=6)`` (``4 * pixel``), and labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(2024).permutation(len(digits.target))
    test = order[int(0.8 * len(order)):]
    return digits.images.astype(np.int64)[test][..., None] * 4, digits.target[test]
