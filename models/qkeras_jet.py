"""The QKeras jet-tagging MLP (16-64-32-32-5), trained offline by
``models/train_qkeras_jet.py`` on a seeded synthetic 5-class data set, loaded through the
QKeras front-end.

Inputs ``ap_fixed<16,6>`` (``IntFormat(16, frac=10)``, declared here: the model has no
input quantizer); 8-bit weights, ``quantized_relu(8, 3)`` activations (unsigned Q3.5),
accumulators of 32 bits; the final softmax stays outside the graph, which outputs the
logits (the ``fc4`` accumulator, frac 12).  Needs tensorflow, tf-keras and qkeras.
"""

from __future__ import annotations

from pathlib import Path

from neurogate.compiler.frontends.keras import load_keras
from neurogate.compiler.ir import Graph
from neurogate.numerics.formats import IntFormat

PATH = Path(__file__).resolve().parent / "data" / "qkeras_jet_mlp.h5"
INPUT = IntFormat(16, frac=10)


def build_model() -> Graph:
    return load_keras(PATH, input_format=INPUT, name="qkeras_jet_mlp")
