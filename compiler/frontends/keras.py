"""QKeras / Keras front-end: a quantized Keras model in, an IR ``Graph`` out.

``load_keras(model)`` takes an in-memory ``tf_keras`` model or a file (``.h5``, the QKeras
format that round-trips; ``.keras`` read with ``safe_mode=True``) and returns a graph
whose golden model (``compiler.interpreter.run``) gives, integer for integer, what
``model.predict`` gives (times ``2**frac`` of each output format) -- or raises one
``FrontendError`` line naming the layer, its type and the reason.

QKeras needs the legacy Keras 2 (``tf_keras``): this module sets ``TF_USE_LEGACY_KERAS=1``
with ``os.environ.setdefault`` before it first imports TensorFlow (only when a model is
loaded).  If TensorFlow was imported earlier without it, import ``tf_keras`` models only.

Arithmetic (``keras_quantizers``, ``keras_emit``): quantizers round half to even
(``tf.round``) and saturate; power-of-two scales are shifts, exact; a non-power-of-two
scale (folded batchnorm, ``alpha="auto"`` kernels, an unquantized bias) becomes an
integer multiplier and shift, and the front-end then measures the graph against
``model.predict`` on calibration inputs and reports the mismatch count
(``KerasImport.approximations``; ``load_keras`` issues each line as a warning).  A final
``Activation("softmax")`` is dropped (noted): the graph outputs the logits.

Safety: nothing from the file is executed.  The model config is read first (HDF5
attribute or the zip's ``config.json``) and ``Lambda`` / TF-op layers are refused by name
before Keras deserializes anything; no pickle is involved; only ``tf_keras`` and
``qkeras`` layer classes are converted.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...numerics.formats import IntFormat
from ..builder import GraphBuilder
from ..interpreter import make_input_vectors, run
from ..ir import Graph
from .common import FrontendError, layer_error
from .keras_emit import Emitter
from .keras_layers import LayerConverter
from .keras_quantizers import activation_quantizer
from .keras_values import Exact

CALIBRATION_VECTORS = 1000
CODE_LAYERS = {
    "Lambda": "it runs Python code stored in the model",
    "TFOpLambda": "it runs a TensorFlow function named in the model",
    "SlicingOpLambda": "it runs a TensorFlow function named in the model",
}
FINAL_ONLY = "softmax"


class FrontendWarning(UserWarning):
    """A note about a converted model: a dropped softmax, an approximated scale."""


@dataclass(frozen=True)
class Mismatch:
    """Output values of the graph that differ from ``model.predict``."""

    count: int
    total: int
    vectors: int
    by_output: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.count / self.total if self.total else 0.0

    def describe(self) -> str:
        return (f"{self.count} of {self.total} output values differ from model.predict on "
                f"{self.vectors} inputs ({100 * self.rate:.4f}%)")


@dataclass(frozen=True)
class KerasImport:
    """What ``import_keras`` found: the graph, the Keras model and tensors it reproduces,
    notes (dropped softmax, float32 sums that may round) and approximations (each with the
    measured mismatch count in ``calibration``)."""

    graph: Graph
    model: object
    keras_outputs: tuple
    notes: tuple[str, ...]
    approximations: tuple[str, ...]
    calibration: Mismatch | None

    @property
    def exact(self) -> bool:
        return not self.approximations and not self.notes_float32

    @property
    def notes_float32(self) -> tuple[str, ...]:
        return tuple(n for n in self.notes if "float32" in n)


# --- frameworks and files ---------------------------------------------------------------------


def frameworks():
    """``(tensorflow, tf_keras, qkeras custom objects)``; sets ``TF_USE_LEGACY_KERAS=1``."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    try:
        import tensorflow as tf
        import tf_keras
        from qkeras.utils import _add_supported_quantized_objects
    except ImportError as error:
        raise FrontendError(f"loading a Keras model needs tensorflow, tf-keras and qkeras "
                            f"({error}); install them with pip install 'neurogate[qkeras]'") \
            from None
    objects: dict = {}
    _add_supported_quantized_objects(objects)
    return tf, tf_keras, objects


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def _file_config(path: Path) -> dict:
    """The model config stored in ``path``, read without deserializing anything."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".h5", ".hdf5"):
            import h5py

            with h5py.File(path, "r") as f:
                text = f.attrs.get("model_config")
            if text is None:
                raise FrontendError(f"{path}: holds no model config (only weights?)")
        elif suffix == ".keras":
            with zipfile.ZipFile(path) as archive:
                text = archive.read("config.json")
        else:
            raise FrontendError(f"{path}: not a Keras model file (expected .h5 or .keras)")
        return json.loads(text.decode() if isinstance(text, bytes) else text)
    except FrontendError:
        raise
    except Exception as error:
        raise FrontendError(f"{path}: not a readable Keras model file ({_first_line(error)})") \
            from None


def refuse_code_layers(config) -> None:
    """Refuse, by name, any layer in ``config`` (nested models included) that runs code."""
    if isinstance(config, dict):
        kind = config.get("class_name")
        if kind in CODE_LAYERS:
            name = (config.get("config") or {}).get("name", "?")
            raise layer_error(name, kind, f"{CODE_LAYERS[kind]}; neurogate never runs code from "
                                          "a model")
        for value in config.values():
            refuse_code_layers(value)
    elif isinstance(config, list):
        for value in config:
            refuse_code_layers(value)


def read_model(path):
    """Load a ``.h5`` / ``.keras`` file as a ``tf_keras`` model (``compile=False``) after
    refusing code-running layers; every failure is one ``FrontendError`` line."""
    path = Path(path)
    if not path.is_file():
        raise FrontendError(f"{path}: no such file")
    refuse_code_layers(_file_config(path))
    _, keras, objects = frameworks()
    options = {"safe_mode": True} if path.suffix.lower() == ".keras" else {}
    try:
        return keras.models.load_model(str(path), custom_objects=objects, compile=False,
                                       **options)
    except Exception as error:
        raise FrontendError(f"{path}: cannot load the Keras model ({_first_line(error)})") \
            from None


# --- conversion -------------------------------------------------------------------------------


def _is_softmax(layer) -> bool:
    kind = type(layer).__name__
    if kind == "Softmax":
        return True
    function = layer.quantizer if kind == "QActivation" else getattr(layer, "activation", None)
    return kind in ("Activation", "QActivation") and \
        getattr(function, "__name__", None) == FINAL_ONLY and not hasattr(function, "get_config")


class _Walk:
    """One pass over the model's layers in topological order."""

    def __init__(self, model, tf, keras, input_format, name):
        self.model, self.tf, self.keras = model, tf, keras
        self.builder = GraphBuilder(name or model.name)
        self.emitter = Emitter(self.builder)
        self.layers = LayerConverter(self.emitter, tf)
        self.values: dict[int, object] = {}
        self.skip: set[str] = set()
        self.readers: dict[int, list] = {}
        self.input_format = input_format
        self.keras_outputs: list = []

    @staticmethod
    def _inputs_of(layer) -> list:
        value = layer.input
        return list(value) if isinstance(value, (list, tuple)) else [value]

    def _check_layer(self, layer):
        kind = type(layer).__name__
        if kind in CODE_LAYERS:
            raise layer_error(layer.name, kind, f"{CODE_LAYERS[kind]}; neurogate never runs code "
                                                "from a model")
        if isinstance(layer, self.keras.Model):
            raise layer_error(layer.name, kind, "nested models are not supported; flatten the "
                                                "model into one")
        module = type(layer).__module__
        if not module.startswith(("qkeras.", "tf_keras.")):
            raise layer_error(layer.name, kind, f"custom layer class (from {module}) is not "
                                                "supported")
        if len(layer._inbound_nodes) != 1:
            raise layer_error(layer.name, kind, f"a layer used {len(layer._inbound_nodes)} times "
                                                "(shared) is not supported")

    def _input(self, index: int, tensor):
        name = self.model.input_names[index]
        shape = tuple(tensor.shape[1:])
        if any(d is None for d in shape):
            raise FrontendError(f"input {name!r}: shape {tuple(tensor.shape)} must be fixed "
                                "(all but the batch axis)")
        fmt, head = self.input_format, None
        if fmt is None:
            readers = self.readers.get(id(tensor), [])
            head = readers[0] if len(readers) == 1 else None
            q = None
            if head is not None and type(head).__name__ == "QActivation" and \
                    hasattr(head.quantizer, "get_config"):
                q = activation_quantizer(head.name, "QActivation", head.quantizer,
                                         "input quantizer")
            if q is None or q.kind != "fixed" or q.lo != q.fmt.min:
                raise FrontendError(
                    f"input {name!r}: the model does not say how its input is quantized (no "
                    "leading QActivation(quantized_bits(...))); pass input_format, e.g. "
                    "IntFormat(16, frac=10) for hls4ml's ap_fixed<16,6>")
            fmt = q.fmt
            self.skip.add(head.name)
        if not isinstance(fmt, IntFormat):
            raise FrontendError(f"input {name!r}: input_format must be an IntFormat, not "
                                f"{fmt!r}")
        value = Exact(self.builder.input(name, shape, fmt), max(abs(fmt.min), abs(fmt.max)))
        self.values[id(tensor)] = value
        if head is not None:
            self.values[id(head.output)] = value

    def run(self) -> list[str]:
        model = self.model
        for layer in model.layers:
            for tensor in self._inputs_of(layer) if type(layer).__name__ != "InputLayer" else []:
                self.readers.setdefault(id(tensor), []).append(layer)
        for index, tensor in enumerate(model.inputs):
            self._input(index, tensor)
        outputs = {id(t) for t in model.outputs}
        for layer in model.layers:
            kind = type(layer).__name__
            if kind == "InputLayer" or layer.name in self.skip:
                continue
            self._check_layer(layer)
            inputs = [self.values[id(t)] for t in self._inputs_of(layer)]
            final = id(layer.output) in outputs and not self.readers.get(id(layer.output))
            if _is_softmax(layer):
                if not final:
                    raise layer_error(layer.name, kind, "softmax is only supported as the final "
                                                        "layer (kept outside the hardware)")
                (source,) = self._inputs_of(layer)
                self.values[id(layer.output)] = inputs[0]
                self.emitter.notes.append(
                    f"layer {layer.name!r} ({kind}): the final softmax is not converted (it stays "
                    "outside the hardware); the graph outputs its input, the logits")
                self.keras_outputs.append((id(layer.output), source))
                continue
            self.values[id(layer.output)] = self.layers.convert(layer, inputs, final=final)
        names = []
        sources = dict(self.keras_outputs)
        self.keras_outputs = []
        for tensor in model.outputs:
            value = self.emitter.materialize(self.values[id(tensor)], "output", "model output")
            names.append(value.name)
            self.keras_outputs.append(sources.get(id(tensor), tensor))
        return names


def import_keras(model, *, input_format: IntFormat | None = None, name: str | None = None,
                 calibration: int = CALIBRATION_VECTORS) -> KerasImport:
    """Convert ``model`` (a path or a ``tf_keras`` model); see the module docstring.

    When a scale had to be approximated, ``calibration`` inputs (corners, then random, in
    the input format: ``interpreter.make_input_vectors``) are run through both the graph
    and ``model.predict``, and the mismatch count is added to every approximation line.
    """
    tf, keras, _ = frameworks()
    if isinstance(model, (str, os.PathLike)):
        model = read_model(model)
    if not isinstance(model, keras.Model):
        raise FrontendError(f"expected a tf_keras model or a .h5/.keras path, not "
                            f"{type(model).__module__}.{type(model).__name__}")
    if not model.built or not model.inputs:
        raise FrontendError(f"model {model.name!r}: it has no defined input shape; build it "
                            "with keras.Input(shape) first")
    walk = _Walk(model, tf, keras, input_format, name)
    outputs = walk.run()
    graph = walk.builder.build(outputs=outputs)
    result = KerasImport(graph, model, tuple(walk.keras_outputs), tuple(walk.emitter.notes),
                         tuple(walk.emitter.approximations), None)
    if result.approximations and calibration:
        inputs = make_input_vectors(graph, calibration, seed=0)
        measured = compare_with_keras(result, inputs)
        lines = tuple(f"{line}; measured: {measured.describe()}" for line in result.approximations)
        result = KerasImport(graph, model, result.keras_outputs, result.notes, lines, measured)
    return result


def load_keras(model, *, input_format: IntFormat | None = None,
               name: str | None = None) -> Graph:
    """The IR graph of a QKeras / Keras model (a ``.h5`` / ``.keras`` path or an in-memory
    ``tf_keras`` model).

    ``input_format`` declares how the inputs are quantized (e.g. ``IntFormat(16,
    frac=10)`` for hls4ml's ``ap_fixed<16,6>``); without it the model must start with a
    ``QActivation(quantized_bits(...))``.  Every note and approximation of
    ``import_keras`` is issued as a ``FrontendWarning``.
    """
    result = import_keras(model, input_format=input_format, name=name)
    for line in result.notes + result.approximations:
        warnings.warn(line, FrontendWarning, stacklevel=2)
    return result.graph


# --- comparison -------------------------------------------------------------------------------


def keras_integers(result: KerasImport, inputs: dict) -> dict[str, np.ndarray]:
    """``model.predict`` on integer ``inputs`` (by graph input name), each output as
    float64 times ``2**frac`` of the graph output's format (NaN where not an integer)."""
    _, keras, _ = frameworks()
    graph, model = result.graph, result.model
    floats = [np.asarray(inputs[i.name], dtype=np.float64) * 2.0 ** -i.out.fmt.frac
              for i in graph.inputs]
    if all(a is b for a, b in zip(result.keras_outputs, model.outputs)):
        predictor = model
    else:
        predictor = keras.Model(model.inputs, list(result.keras_outputs))
    predicted = predictor.predict([f.astype(np.float32) for f in floats], batch_size=4096,
                                  verbose=0)
    if not isinstance(predicted, list):
        predicted = [predicted]
    values = {}
    for name, y in zip(graph.outputs, predicted):
        scaled = np.asarray(y, dtype=np.float64) * 2.0 ** graph.type_of(name).fmt.frac
        values[name] = np.where(scaled == np.round(scaled), scaled, np.nan)
    return values


def compare_with_keras(result: KerasImport, inputs) -> Mismatch:
    """Run ``inputs`` (integers in the input formats: an array for a single input, or a
    dict by input name) through the graph and ``model.predict``; count differing values."""
    graph = result.graph
    if not isinstance(inputs, dict):
        (only,) = graph.inputs
        inputs = {only.name: inputs}
    golden = run(graph, inputs)
    framework = keras_integers(result, inputs)
    by_output = {name: int(np.sum(golden[name] != framework[name])) for name in graph.outputs}
    total = sum(golden[name].size for name in graph.outputs)
    vectors = len(next(iter(inputs.values())))
    return Mismatch(sum(by_output.values()), total, vectors, by_output)


@contextlib.contextmanager
def keras_2_as_keras():
    """Inside, ``import keras`` gives ``tf_keras`` (legacy Keras 2), for tools that pick
    their Keras path by ``keras.__version__`` -- hls4ml 1.3 converts QKeras models only on
    its Keras 2 path, while this environment's ``keras`` is Keras 3.  QKeras's quantizer
    serialization warnings are silenced meanwhile."""
    _, tf_keras, _ = frameworks()
    before = sys.modules.get("keras")
    sys.modules["keras"] = tf_keras
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"The `keras.constraints.serialize")
            yield
    finally:
        if before is None:
            sys.modules.pop("keras", None)
        else:
            sys.modules["keras"] = before
