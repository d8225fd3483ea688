"""The digits MLPs (64-36-20-10, ReLU), trained offline by ``models/train_digits.py``.

Inputs are 8x8 grey images as int8 in Q0.7 (pixel/16); weights int8 or int4 with a
power-of-two scale per layer; int32 accumulation; int8 activations; int8 logits.
Layer widths 36, 20 and 10 deliberately do not divide an 8x8 array.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..compiler.builder import GraphBuilder
from ..compiler.ir import Graph
from ..numerics.formats import IntFormat

DATA = Path(__file__).resolve().parent / "data"


def build_digits_mlp(weight_bits: int) -> Graph:
    params = json.loads((DATA / f"digits_mlp_int{weight_bits}.json").read_text())
    b = GraphBuilder(f"mlp_digits_int{weight_bits}")
    x = b.input("pixels", 64, IntFormat(8, frac=params["input_frac"]))
    for i, layer in enumerate(params["layers"]):
        name = f"fc{i + 1}"
        x = b.dense(x, layer["weights"], layer["bias"], acc_width=32, name=name,
                    weight_fmt=IntFormat(params["weight_bits"], frac=layer["weight_frac"]))
        x = b.requantize(x, shift=layer["shift"], out_fmt=IntFormat(8), name=f"{name}_q")
        if layer["relu"]:
            x = b.relu(x, name=f"{name}_relu")
    return b.build(outputs=[x])


def held_out_set() -> tuple[np.ndarray, np.ndarray]:
    """The held-out 20% of the digits (360 images, int8 Q0.7) and their labels."""
    data = json.loads((DATA / "digits_test.json").read_text())
    return np.array(data["inputs"], dtype=np.int64), np.array(data["labels"], dtype=np.int64)


def accuracy(graph: Graph) -> float:
    """Top-1 accuracy of the integer golden model on the held-out set."""
    from ..compiler.interpreter import run_single_output

    inputs, labels = held_out_set()
    return float(np.mean(np.argmax(run_single_output(graph, inputs), axis=1) == labels))
