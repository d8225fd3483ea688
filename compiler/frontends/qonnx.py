"""QONNX front-end: a QONNX model (for example exported by Brevitas) in, an IR ``Graph`` out.

    from neurogate.compiler.frontends.qonnx import load_qonnx
    graph = load_qonnx("model.onnx")

The model is read safely and cleaned with QONNX's standard transformations
(``qonnx_model``), then converted node by node (``qonnx_convert``).  The IR graph's
integers times the recorded scales equal what ``qonnx.core.onnx_exec.execute_onnx``
computes, on every element:

* the IR input is the integer the model's first ``Quant`` produces, in the ONNX order
  (NCHW for images; an IR ``Transpose`` moves it to NHWC inside); QONNX gets ``integer *
  input_scale``;
* the IR output is an integer with ``onnx_output == integer * output_scale`` (per tensor,
  or per channel of ONNX axis 1), in the ONNX order.

Where that cannot be guaranteed (a scale ratio that is not an integer over a power of two,
float32 sums too wide to be exact, ...), the conversion refuses, naming the node, unless
``allow_approximation=True``: then the graph uses the nearest integer multipliers, and the
loader *measures* the mismatch against ``execute_onnx`` on a calibration batch, records
it in ``QonnxConversion.mismatch`` and warns with the figures.  Nothing is approximated
silently.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..interpreter import make_input_vectors, run
from ..ir import Graph
from .common import FrontendError
from .qonnx_convert import Converter
from .qonnx_model import cleaned_model

CALIBRATION_VECTORS = 1000


@dataclass(frozen=True)
class Mismatch:
    """The IR golden model against ``execute_onnx`` on ``vectors`` inputs: ``mismatched``
    of ``elements`` output elements differ (``max_lsb``: the largest difference, in units
    of the output's scale)."""

    vectors: int
    elements: int
    mismatched: int
    max_lsb: int

    @property
    def rate(self) -> float:
        return self.mismatched / self.elements if self.elements else 0.0

    def describe(self) -> str:
        return (f"{self.mismatched} of {self.elements} output elements differ from QONNX "
                f"({100 * self.rate:.3f}%, at most {self.max_lsb} LSB) on {self.vectors} "
                "calibration inputs")


@dataclass(frozen=True)
class QonnxConversion:
    """A converted model: the graph, how its integers relate to QONNX's floats, and every
    approximation with its measured effect (``mismatch`` is None for an exact graph)."""

    graph: Graph
    model: object                          # the cleaned qonnx ModelWrapper
    input_names: dict[str, str]            # ONNX input -> IR input
    output_names: dict[str, str]           # ONNX output -> IR output
    input_scales: dict[str, np.ndarray]    # ONNX input -> float64 scale (0-d or per channel)
    output_scales: dict[str, np.ndarray]
    approximations: tuple[str, ...]
    mismatch: Mismatch | None

    @property
    def exact(self) -> bool:
        return not self.approximations


def _float_scales(scales: dict) -> dict[str, np.ndarray]:
    return {name: np.array([float(s) for s in np.asarray(v).reshape(-1)]).reshape(
        np.shape(v)) for name, v in scales.items()}


def _label(model) -> str:
    return str(model) if isinstance(model, (str, Path)) else "model"


def _graph_name(model, name: str | None, wrapper) -> str:
    if name:
        return name
    if isinstance(model, (str, Path)):
        return Path(model).stem.replace("-", "_").replace(".", "_") or "qonnx_model"
    return wrapper.graph.name.replace("-", "_") or "qonnx_model"


def convert_qonnx(model, *, name: str | None = None, allow_approximation: bool = False,
                  calibration: dict[str, np.ndarray] | None = None) -> QonnxConversion:
    """Convert ``model`` (an ``.onnx`` path, an ``onnx.ModelProto`` or a qonnx
    ``ModelWrapper``); see the module docstring.

    ``calibration`` (only used for an approximate graph): IR inputs by name, integers
    ``(batch, *shape)``; default: ``CALIBRATION_VECTORS`` corner and random vectors of
    the input formats.  Raises ``FrontendError`` (one line) for anything it refuses.
    """
    label = _label(model)
    wrapper, original_inputs = cleaned_model(model, label)
    converter = Converter(wrapper, _graph_name(model, name, wrapper), original_inputs)
    graph = converter.run()
    approximations = tuple(converter.approximations)
    if approximations and not allow_approximation:
        raise FrontendError(f"{approximations[0]}; not exact against QONNX (pass "
                            "allow_approximation=True to approximate it and measure the "
                            "mismatch)")
    conversion = QonnxConversion(
        graph=graph, model=wrapper, input_names=dict(converter.input_names),
        output_names=dict(converter.output_names),
        input_scales=_float_scales(converter.input_scales),
        output_scales=_float_scales(converter.output_scales),
        approximations=approximations, mismatch=None)
    if approximations:
        inputs = calibration if calibration is not None else \
            make_input_vectors(graph, CALIBRATION_VECTORS)
        mismatch = compare_with_qonnx(conversion, inputs)
        conversion = QonnxConversion(**{**conversion.__dict__, "mismatch": mismatch})
    return conversion


def load_qonnx(model, *, name: str | None = None, allow_approximation: bool = False,
               calibration: dict[str, np.ndarray] | None = None) -> Graph:
    """The IR ``Graph`` of a QONNX model (``convert_qonnx`` has the details).  An
    approximate conversion (only with ``allow_approximation``) warns with its measured
    mismatch."""
    conversion = convert_qonnx(model, name=name, allow_approximation=allow_approximation,
                               calibration=calibration)
    if conversion.approximations:
        warnings.warn(f"{conversion.graph.name}: {len(conversion.approximations)} "
                      f"approximation(s), first: {conversion.approximations[0]}; measured: "
                      f"{conversion.mismatch.describe()}", stacklevel=2)
    return conversion.graph


# --- running QONNX next to the golden model --------------------------------------------------


def qonnx_inputs(conversion: QonnxConversion, inputs: dict[str, np.ndarray]) -> dict:
    """The float32 arrays QONNX takes for IR integer ``inputs``: ``integer * scale``."""
    feeds = {}
    for onnx_name, ir_name in conversion.input_names.items():
        ints = np.asarray(inputs[ir_name])
        scale = _broadcast(conversion.input_scales[onnx_name], ints.ndim)
        feeds[onnx_name] = (ints * scale).astype(np.float32)
    return feeds


def _broadcast(scale: np.ndarray, rank: int) -> np.ndarray:
    """A per-tensor or per-channel (axis 1) scale shaped to broadcast over a batch."""
    if np.ndim(scale) == 0:
        return scale
    return np.reshape(scale, (1, -1) + (1,) * (rank - 2))


def run_qonnx(conversion: QonnxConversion, inputs: dict[str, np.ndarray]) -> dict:
    """``execute_onnx`` on the cleaned model for a whole batch of IR integer ``inputs``
    (the batch size of the model is changed to the batch's); ONNX outputs by name."""
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.change_batchsize import ChangeBatchSize
    from qonnx.transformation.infer_shapes import InferShapes

    feeds = qonnx_inputs(conversion, inputs)
    batch = len(next(iter(feeds.values())))
    model = conversion.model.transform(ChangeBatchSize(batch)).transform(InferShapes())
    results = execute_onnx(model, feeds)
    return {name: results[name] for name in conversion.output_names}


def compare_with_qonnx(conversion: QonnxConversion, inputs: dict[str, np.ndarray]) -> Mismatch:
    """Run QONNX and the golden model on the same inputs; count the output elements where
    ``round(qonnx / scale)`` differs from the golden integer."""
    qonnx_out = run_qonnx(conversion, inputs)
    golden = run(conversion.graph, inputs)
    elements = mismatched = max_lsb = 0
    for onnx_name, ir_name in conversion.output_names.items():
        ints = golden[ir_name]
        scale = _broadcast(conversion.output_scales[onnx_name], ints.ndim)
        lsb = np.rint(qonnx_out[onnx_name].astype(np.float64) / scale).astype(np.int64)
        diff = np.abs(lsb - ints)
        elements += diff.size
        mismatched += int(np.count_nonzero(diff))
        max_lsb = max(max_lsb, int(diff.max()) if diff.size else 0)
    batch = len(next(iter(inputs.values())))
    return Mismatch(batch, elements, mismatched, max_lsb)
