"""The digits CNN (conv-pool-conv-pool-dense on the 8x8 scikit-learn digits) for the
programmable engine: the QKeras model of ``models/qkeras_digits_cnn.py``, trained offline
by ``models/train_qkeras_digits_cnn.py``, stored as its IR graph
(``models/data/digits_cnn.graph.json``, written from the QKeras front-end's graph) so
that compiling it needs no TensorFlow.

98.3% on the 360 held-out digits (``held_out_set``), through the golden model and
through the engine alike (``tests/models/test_engine_models.py``).  Activations are
unsigned 8-bit (QKeras ``quantized_relu(8, 3)``), weights signed 8-bit.
"""

from __future__ import annotations

from pathlib import Path

from neurogate.compiler import serialize
from neurogate.compiler.ir import Graph
from neurogate.models.qkeras_digits_cnn import held_out_set  # noqa: F401  (re-exported)

PATH = Path(__file__).resolve().parent / "data" / "digits_cnn.graph.json"


def build_model() -> Graph:
    return serialize.loads(PATH.read_text())
