"""The energy mover's distance (EMD) between ECON-T energy maps, with POT's exact
optimal-transport solver (``ot.emd2``, network simplex; ``pip install pot``).

Each map is reduced to its 48 real trigger cells (``econt_data.to_cells``: masked cells of
an 8x8 image are ignored, whatever a decoder put there) and divided by its sum, so both
maps are distributions of unit mass; the ground metric is the Euclidean distance between
the cells' centres (``econt_data.cell_positions``, in cell pitches).  The EMD is then the
least total ``mass x distance`` that turns one distribution into the other, in cell pitches.

Energies must be non-negative (a negative cell raises ``ValueError``).  Zero-energy maps:
two maps that are both all zero are at distance 0; a map with no energy against one with
energy has no EMD (no distribution to move) and raises ``ValueError`` naming the map.
The ECON-T data never contains such maps (``econt_data.make_maps`` redraws them) and the
shipped decoder ends in a sigmoid, so its reconstructions always have energy.

POT imports TensorFlow, PyTorch and JAX as optional backends when they are installed;
this module disables them (``POT_BACKEND_DISABLE_*``, set with ``os.environ.setdefault``
before the first ``import ot``) so that importing POT neither takes seconds nor imports
TensorFlow before ``TF_USE_LEGACY_KERAS`` is set.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np
from neurogate.models.econt_data import cell_positions, to_cells

for _key in ("TENSORFLOW", "PYTORCH", "JAX", "CUPY"):
    os.environ.setdefault(f"POT_BACKEND_DISABLE_{_key}", "1")


def _ot():
    import ot

    return ot


@lru_cache(maxsize=1)
def ground_metric() -> np.ndarray:
    """``(48, 48)`` float64: Euclidean distances between the cell centres."""
    positions = cell_positions()
    return np.sqrt(((positions[:, None, :] - positions[None, :, :]) ** 2).sum(-1))


def emd(maps_a, maps_b) -> np.ndarray:
    """Per-map EMD, ``(n,)`` float64, between two batches of maps (``(n, 8, 8)``,
    ``(n, 8, 8, 1)``, ``(n, 64)`` or ``(n, 48)``, any mix), in cell pitches."""
    ot = _ot()
    a = to_cells(np.asarray(maps_a, dtype=np.float64))
    b = to_cells(np.asarray(maps_b, dtype=np.float64))
    if a.shape != b.shape:
        raise ValueError(f"the batches differ in size: {len(a)} and {len(b)} maps")
    for name, cells in (("maps_a", a), ("maps_b", b)):
        if not np.all(np.isfinite(cells)) or np.any(cells < 0):
            bad = int(np.argmax(~np.isfinite(cells).all(1) | (cells < 0).any(1)))
            raise ValueError(f"{name}: map {bad} has a negative or non-finite energy")
    metric = ground_metric()
    sums_a, sums_b = a.sum(1), b.sum(1)
    distances = np.zeros(len(a))
    for i in range(len(a)):
        if sums_a[i] == 0 and sums_b[i] == 0:
            continue
        if sums_a[i] == 0 or sums_b[i] == 0:
            raise ValueError(f"map {i}: one map has no energy and the other has; the EMD is "
                             "undefined")
        distances[i] = ot.emd2(a[i] / sums_a[i], b[i] / sums_b[i], metric)
    return distances


def mean_emd(maps_a, maps_b) -> float:
    """The mean of ``emd(maps_a, maps_b)`` over the maps."""
    return float(np.mean(emd(maps_a, maps_b)))
