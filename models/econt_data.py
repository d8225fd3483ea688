"""A reproducible synthetic data set of ECON-T sensor energy maps (CMS HGCAL).

The real HGCAL trigger-cell data (simulated ttbar / pile-up events) cannot be downloaded
here, so the maps are made by a seeded generator of particle showers on the wafer's
geometry.  Nothing is read from disk; ``make_maps(n, seed)`` gives the same maps for the
same arguments on every machine (NumPy ``default_rng``, float64).

**Geometry.**  A wafer module carries 48 trigger cells in a hexagon made of three
rhombi (120 degrees at the centre) of 4 x 4 cells.  Rhombus ``k`` (0, 1, 2) is spanned
by the unit vectors ``e_k`` and ``e_{k+1}`` with ``e_k = (cos 120k deg, sin 120k deg)``;
its cell ``(a, b)`` (``a`` along ``e_k``, ``b`` along ``e_{k+1}``, 0..3) has its centre at
``(a + 1/2) e_k + (b + 1/2) e_{k+1}`` in units of the cell pitch: that is
``cell_positions()``, the ground metric of the energy mover's distance.  Cell index
``16 k + 4 a + b``.

**8x8 arrangement** (as the ECON-T encoder sees the module: three 4x4 quadrants hold the
three rhombi, the fourth is masked and always zero; the quadrants are oriented so that
two cells adjacent across a quadrant boundary are also neighbours on the wafer.  The idea
of the CMS ``arrange8x8`` / ``arrMask``, not its exact cell numbering)::

    rows 0-3, cols 0-3: rhombus 0, cell (a, b) = (3 - col, 3 - row)
    rows 0-3, cols 4-7: rhombus 1, cell (a, b) = (3 - row, col - 4)
    rows 4-7, cols 0-3: rhombus 2, cell (a, b) = (row - 4, 3 - col)
    rows 4-7, cols 4-7: masked (16 cells, always 0)

(rhombus 0 touches rhombus 1 along ``e_1`` and rhombus 2 along ``e_0``, which are the
column-3/4 and row-3/4 boundaries of the image.)  ``LAYOUT`` is the 8x8 array of cell
indices (-1 where masked), ``MASK`` the 8x8 array of real cells.

**Showers** (``make_maps``), for each map independently:

* ``1 + Poisson(1.5)`` clusters, at most 4;
* each cluster's centre uniform in the hexagon enlarged by 25% (circumradius 5 cell
  pitches instead of 4), so that some showers are only partly on the module;
* its energy from a falling (Pareto) spectrum ``E = 8 * U**(-1/1.5)``, ``U`` uniform in
  (0, 1], capped at 400 (arbitrary units, those of the noise and threshold below);
* spread over the cells with a two-component shower profile: a fraction ``f ~ U(0.6,
  0.9)`` in a Gaussian core of radius ``U(0.35, 0.8)`` pitches, the rest in a halo of radius
  ``U(1.2, 2.2)``; each cell receives the profile's density at its centre times the cell
  area (``sin 60 deg``), so energy outside the module is lost;
* plus Gaussian noise (sigma 0.15) on every real cell, then zero suppression: cells below
  0.5 are set to 0 (the trigger-cell threshold).  A map left with no energy is drawn again
  (from the next generator state), so every map has a positive sum.

On the 40,000 training maps this gives 10.7 cells above threshold per map on average
(5% / 50% / 95%: 2 / 9 / 24 of 48), the hottest cell holding a median 30% of the map's
energy; the held-out maps are alike (10.6; 2 / 9 / 24).

Maps are returned as ``(n, 8, 8)`` float64 in the arrangement above, masked cells 0.
The draws are vectorized over the batch, so ``make_maps(n, seed)`` depends on ``n`` as
well as ``seed`` (its first maps are not those of ``make_maps(m, seed)`` for ``m != n``).

**Integers** (``quantize_inputs``): each map is divided by its sum (the ECON-T encoder's
input normalization; the sum is sent beside the latent) and rounded half to even to a
multiple of ``2**-bits``, saturating at ``1 - 2**-bits``: unsigned ``bits``-bit integers,
``IntFormat(bits, signed=False, frac=bits)`` (``input_format``), shape ``(n, 8, 8, 1)``
(NHWC).  These are exactly the values of QKeras's ``quantized_bits(bits, 0,
keep_negative=False, alpha=1)`` input quantizer.

**Split** (``train_maps`` / ``held_out_maps``): 40,000 training maps from seed 1 and
5,000 held-out maps from seed 2 (independent generator streams).
"""

from __future__ import annotations

import numpy as np
from neurogate.numerics.formats import IntFormat

CELLS = 48
SIDE = 4
TRAIN_SEED, TRAIN_COUNT = 1, 40_000
HELD_OUT_SEED, HELD_OUT_COUNT = 2, 5_000

MEAN_EXTRA_CLUSTERS = 1.5
MAX_CLUSTERS = 4
CENTRE_RADIUS = 5.0
SPECTRUM_MIN, SPECTRUM_INDEX, SPECTRUM_CAP = 8.0, 1.5, 400.0
CORE_FRACTION = (0.6, 0.9)
CORE_RADIUS = (0.35, 0.8)
HALO_RADIUS = (1.2, 2.2)
NOISE_SIGMA = 0.15
THRESHOLD = 0.5
CELL_AREA = np.sin(np.pi / 3)


def _units() -> np.ndarray:
    angles = 2 * np.pi / 3 * np.arange(3)
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def cell_positions() -> np.ndarray:
    """``(48, 2)`` float64: the centre ``(x, y)`` of each trigger cell, in cell pitches."""
    e = _units()
    index = np.arange(CELLS)
    k, a, b = index // 16, index % 16 // SIDE, index % SIDE
    return (a + 0.5)[:, None] * e[k] + (b + 0.5)[:, None] * e[(k + 1) % 3]


def _layout() -> np.ndarray:
    layout = np.full((8, 8), -1, dtype=np.int64)
    for row in range(4):
        for col in range(4):
            layout[row, col] = 0 * 16 + 4 * (3 - col) + (3 - row)
            layout[row, col + 4] = 1 * 16 + 4 * (3 - row) + col
            layout[row + 4, col] = 2 * 16 + 4 * row + (3 - col)
    return layout


LAYOUT = _layout()
MASK = LAYOUT >= 0
_ROWS, _COLS = np.nonzero(MASK)
_ORDER = np.argsort(LAYOUT[_ROWS, _COLS])
ROWS, COLS = _ROWS[_ORDER], _COLS[_ORDER]          # image position of cell 0..47


def input_format(bits: int = 8) -> IntFormat:
    """The encoder's input format: unsigned ``bits``-bit fractions of the map's sum."""
    return IntFormat(bits, signed=False, frac=bits)


def to_cells(maps) -> np.ndarray:
    """``(n, 48)``: the real cells of ``(n, 8, 8)`` / ``(n, 8, 8, 1)`` / ``(n, 64)`` maps in
    cell order (masked cells dropped); ``(n, 48)`` is returned as is."""
    maps = np.asarray(maps)
    flat = maps.reshape(len(maps), -1)
    if flat.shape[1] == CELLS:
        return flat
    if flat.shape[1] != 64:
        raise ValueError(f"expected maps of 48 cells or 8x8 images, not shape {maps.shape}")
    return flat[:, ROWS * 8 + COLS]


def to_images(cells) -> np.ndarray:
    """``(n, 8, 8)``: 48-cell vectors placed in the 8x8 arrangement, masked cells 0."""
    cells = np.asarray(cells)
    images = np.zeros((len(cells), 8, 8), dtype=cells.dtype)
    images[:, ROWS, COLS] = cells
    return images


def _in_hexagon(points: np.ndarray, radius: float) -> np.ndarray:
    """Whether points lie in the regular hexagon of circumradius ``radius`` whose vertices
    are at angles 0, 60, ... degrees (the wafer's outline at radius 4)."""
    normals = np.stack([np.cos(np.pi / 6 + np.pi / 3 * np.arange(3)),
                        np.sin(np.pi / 6 + np.pi / 3 * np.arange(3))], axis=1)
    return np.all(np.abs(points @ normals.T) <= radius * np.cos(np.pi / 6), axis=-1)


def _draw(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` maps of 48 cells (some may be all zero)."""
    positions = cell_positions()
    counts = np.minimum(1 + rng.poisson(MEAN_EXTRA_CLUSTERS, n), MAX_CLUSTERS)
    owner = np.repeat(np.arange(n), counts)
    total = len(owner)
    centres = np.empty((0, 2))
    while len(centres) < total:          # uniform in the enlarged hexagon, by rejection
        candidates = rng.uniform(-CENTRE_RADIUS, CENTRE_RADIUS, (2 * total, 2))
        centres = np.concatenate([centres, candidates[_in_hexagon(candidates, CENTRE_RADIUS)]])
    centres = centres[:total]
    uniform = 1.0 - rng.random(total)    # in (0, 1]
    energy = np.minimum(SPECTRUM_MIN * uniform ** (-1.0 / SPECTRUM_INDEX), SPECTRUM_CAP)
    fraction = rng.uniform(*CORE_FRACTION, total)
    core = rng.uniform(*CORE_RADIUS, total)
    halo = rng.uniform(*HALO_RADIUS, total)
    d2 = ((positions[None, :, :] - centres[:, None, :]) ** 2).sum(-1)      # (clusters, 48)

    def gauss(radius):
        return np.exp(-d2 / (2 * radius[:, None] ** 2)) / (2 * np.pi * radius[:, None] ** 2)

    density = fraction[:, None] * gauss(core) + (1 - fraction[:, None]) * gauss(halo)
    deposits = energy[:, None] * density * CELL_AREA
    maps = np.zeros((n, CELLS))
    np.add.at(maps, owner, deposits)
    maps += rng.normal(0.0, NOISE_SIGMA, maps.shape)
    return np.where(maps >= THRESHOLD, maps, 0.0)


def make_maps(n: int, seed: int) -> np.ndarray:
    """``(n, 8, 8)`` float64 energy maps from the seeded shower generator (module
    docstring); every map has a positive sum, masked cells are 0."""
    rng = np.random.default_rng(seed)
    cells = _draw(rng, n)
    empty = np.flatnonzero(cells.sum(1) <= 0)
    while len(empty):
        cells[empty] = _draw(rng, len(empty))
        empty = empty[cells[empty].sum(1) <= 0]
    return to_images(cells)


def normalize(maps) -> np.ndarray:
    """Each map divided by its sum (float64, same shape)."""
    maps = np.asarray(maps, dtype=np.float64)
    sums = maps.reshape(len(maps), -1).sum(1)
    if np.any(sums <= 0):
        raise ValueError(f"map {int(np.argmax(sums <= 0))} has no energy; it cannot be "
                         "normalized")
    return maps / sums.reshape((-1,) + (1,) * (maps.ndim - 1))


def quantize_inputs(maps, bits: int = 8) -> np.ndarray:
    """``(n, 8, 8, 1)`` int64 in ``input_format(bits)``: each map's fractions of its sum,
    rounded half to even to ``2**-bits`` and saturated to ``[0, 2**bits - 1]``."""
    maps = np.asarray(maps, dtype=np.float64).reshape(-1, 8, 8)
    fmt = input_format(bits)
    scaled = np.round(normalize(maps) * 2.0 ** fmt.frac)         # np.round: half to even
    return np.clip(scaled, fmt.min, fmt.max).astype(np.int64)[..., None]


def train_maps() -> np.ndarray:
    """The 40,000 training maps (seed 1), ``(n, 8, 8)`` float64."""
    return make_maps(TRAIN_COUNT, TRAIN_SEED)


def held_out_maps() -> np.ndarray:
    """The 5,000 held-out maps (seed 2), ``(n, 8, 8)`` float64; never used in training."""
    return make_maps(HELD_OUT_COUNT, HELD_OUT_SEED)
