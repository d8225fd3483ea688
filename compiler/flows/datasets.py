"""Input data for ``neurogate verify --dataset``: a NumPy ``.npz`` file.

The file holds the inputs as integers in the model input's integer representation
(``value * 2**frac``), under the key ``x`` (or ``inputs``), shaped ``(N, *input shape)``;
optionally the labels under ``y`` (or ``labels``), shaped ``(N,)``.  For example::

    np.savez("digits.npz", x=np.round(images * 2**7).astype(np.int64), y=labels)
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...numerics.errors import NeurogateError
from ..ir import Input

INPUT_KEYS = ("x", "inputs")
LABEL_KEYS = ("y", "labels")


@dataclass(frozen=True, eq=False)
class Dataset:
    path: Path
    inputs: np.ndarray          # (N, *input shape) int64
    labels: np.ndarray | None   # (N,) int64


def _pick(arrays, keys: tuple[str, ...], path: Path, what: str, required: bool):
    found = [k for k in keys if k in arrays.files]
    if len(found) > 1:
        raise NeurogateError(f"dataset {path}: holds both {found[0]!r} and {found[1]!r}; keep "
                             f"one array of {what}")
    if not found:
        if required:
            raise NeurogateError(f"dataset {path}: no array of {what} (expected a key "
                                 f"{' or '.join(repr(k) for k in keys)}; found "
                                 f"{', '.join(repr(k) for k in arrays.files) or 'none'})")
        return None, None
    return found[0], arrays[found[0]]


def load_dataset(path: str | Path, graph_input: Input) -> Dataset:
    """Read and check ``path`` against the model's input (shape, integer type, range)."""
    path = Path(path)
    if not path.is_file():
        raise NeurogateError(f"dataset {path} does not exist" if not path.exists()
                             else f"dataset {path} is not a file")
    try:
        arrays = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as error:
        raise NeurogateError(f"dataset {path}: not a NumPy .npz file ({error})") from None
    if not isinstance(arrays, np.lib.npyio.NpzFile):
        raise NeurogateError(f"dataset {path}: a single array (.npy); save it with "
                             "np.savez(path, x=inputs, y=labels)")
    with arrays:
        try:
            key, x = _pick(arrays, INPUT_KEYS, path, "inputs", required=True)
            label_key, y = _pick(arrays, LABEL_KEYS, path, "labels", required=False)
        except ValueError:   # object arrays: loading them would unpickle, which we never do
            raise NeurogateError(f"dataset {path}: holds pickled Python objects; store plain "
                                 "integer arrays (np.savez(path, x=inputs, y=labels))") from None
    shape, fmt = graph_input.out.shape, graph_input.out.fmt
    if x.dtype.kind not in "iu":
        raise NeurogateError(
            f"dataset {path}: {key!r} holds {x.dtype}, not integers; store the input "
            f"{graph_input.name!r} in its integer representation ({fmt.describe()}: value * "
            f"2**{getattr(fmt, 'frac', 0)}, rounded)")
    if x.ndim < 1 or x.shape[1:] != shape or x.shape[0] < 1:
        raise NeurogateError(f"dataset {path}: {key!r} has shape {x.shape}; the model's input "
                             f"{graph_input.name!r} takes (N, {', '.join(map(str, shape))})")
    if not fmt.contains(x):
        outside = int(np.sum((x < fmt.min) | (x > fmt.max)))
        raise NeurogateError(f"dataset {path}: {outside} values of {key!r} lie outside "
                             f"{fmt.describe()} [{fmt.min}, {fmt.max}]")
    if y is not None:
        if y.dtype.kind not in "iu" or y.shape != (x.shape[0],):
            raise NeurogateError(f"dataset {path}: {label_key!r} must be {x.shape[0]} integer "
                                 f"labels, not {y.dtype} of shape {y.shape}")
        y = y.astype(np.int64)
    return Dataset(path=path, inputs=x.astype(np.int64), labels=y)
