"""The ECON-T autoencoder's encoder (CMS HGCAL concentrator ASIC), trained offline by
``models/train_econt.py`` on the synthetic maps of ``models/econt_data.py`` and loaded
through the QKeras front-end.

    neurogate compile models/econt.py --style spatial --target asic --out build/econt

The encoder: an 8x8x1 energy map (48 trigger cells, 16 masked cells always 0) as unsigned
8-bit fractions of the map's sum (``IntFormat(8, signed=False, frac=8)``, declared here
and equal to the model's leading ``quantized_bits(8, 0, keep_negative=False)``), QConv2D 8
filters 3x3 stride 2 same with 6-bit weights, ``quantized_relu(8, 0)``, Flatten (128),
QDense 16 with 6-bit weights, ``quantized_relu(9, 1)``: the graph outputs the 16 latent
values as unsigned 9-bit integers of frac 8.  The float decoder
(``models/data/econt_decoder.h5``) stays in software: ``hardware_emd`` runs it on the
dequantized latents and measures the energy mover's distance (``econt_emd``) to the input
maps.  Needs tensorflow, tf-keras and qkeras (and pot for the EMD).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from neurogate.compiler.frontends.keras import load_keras, read_model
from neurogate.compiler.ir import Graph
from neurogate.models import econt_data
from neurogate.models.econt_emd import emd

DATA = Path(__file__).resolve().parent / "data"
ENCODER_PATH = DATA / "econt_encoder.h5"
DECODER_PATH = DATA / "econt_decoder.h5"
METRICS_PATH = DATA / "econt_metrics.json"
INPUT_BITS = 8
INPUT = econt_data.input_format(INPUT_BITS)


def build_model() -> Graph:
    return load_keras(ENCODER_PATH, input_format=INPUT, name="econt_encoder")


def held_out_maps() -> np.ndarray:
    """The 5,000 held-out maps of ``econt_data`` (never trained on), ``(n, 8, 8)`` float."""
    return econt_data.held_out_maps()


def encoder_inputs(maps) -> np.ndarray:
    """``(n, 8, 8, 1)`` integers of ``INPUT``: what the hardware receives for ``maps``."""
    return econt_data.quantize_inputs(maps, INPUT_BITS)


@lru_cache(maxsize=1)
def decoder():
    """The float Keras decoder (``tf_keras``), loaded once."""
    return read_model(DECODER_PATH)


def latents(graph_outputs, graph: Graph) -> np.ndarray:
    """The encoder's integer latents dequantized: ``(n, 16)`` float64, ``q * 2**-frac`` of
    the graph output's format.  ``graph_outputs``: the dict of ``interpreter.run`` (or the
    RTL's outputs under the same name), or the integer array itself."""
    (name,) = graph.outputs
    values = graph_outputs[name] if isinstance(graph_outputs, dict) else graph_outputs
    return np.asarray(values, dtype=np.float64) * 2.0 ** -graph.type_of(name).fmt.frac


def reconstruct(graph_outputs, graph: Graph) -> np.ndarray:
    """The software decoder's ``(n, 8, 8)`` reconstructions of the encoder's outputs."""
    floats = latents(graph_outputs, graph).astype(np.float32)
    return decoder().predict(floats, batch_size=4096, verbose=0)[..., 0]


def hardware_emd(graph_outputs, graph: Graph, maps=None, *, per_map: bool = False):
    """The mean EMD (cell pitches) between ``maps`` (default the held-out maps, in the
    order their inputs were given to the encoder) and the decoder's reconstructions from
    the encoder's integer latents ``graph_outputs``; with ``per_map`` the ``(n,)`` array."""
    maps = held_out_maps() if maps is None else np.asarray(maps)
    distances = emd(maps, reconstruct(graph_outputs, graph))
    return distances if per_map else float(distances.mean())
