"""Read a QONNX model safely and run QONNX's standard cleanup on it.

Reading never runs code from the file: the protobuf is parsed by ``onnx``, checked with
``onnx.checker``, external tensor data is read only from files inside the model's own
folder, and every node must belong to the standard ONNX domain or to QONNX's own
(``qonnx.custom_op.general``, or Brevitas's older ``onnx.brevitas``) before QONNX looks
at it (QONNX imports the Python module a custom domain names, so an unknown domain is
refused first).
"""

from __future__ import annotations

from pathlib import Path

from .common import FrontendError

QONNX_DOMAIN = "qonnx.custom_op.general"
ALLOWED_DOMAINS = ("", "ai.onnx", QONNX_DOMAIN, "onnx.brevitas")
QONNX_OPS = ("Quant", "BipolarQuant", "Trunc")


def _check_external_data(model, folder: Path, label: str) -> None:
    from onnx.external_data_helper import ExternalDataInfo, uses_external_data

    for tensor in model.graph.initializer:
        if not uses_external_data(tensor):
            continue
        location = ExternalDataInfo(tensor).location
        target = (folder / location).resolve()
        if Path(location).is_absolute() or not target.is_relative_to(folder.resolve()):
            raise FrontendError(f"{label}: tensor {tensor.name!r} keeps its data in "
                                f"{location!r}, outside the model's folder; refused")
        if not target.is_file():
            raise FrontendError(f"{label}: tensor {tensor.name!r} keeps its data in "
                                f"{location!r}, which does not exist")


def read_onnx(path) -> "object":
    """The ``onnx.ModelProto`` in ``path``, checked; one-line ``FrontendError`` if it is
    missing, truncated, corrupt or keeps data outside its folder."""
    import onnx
    from onnx.external_data_helper import load_external_data_for_model

    path = Path(path)
    label = str(path)
    if not path.is_file():
        raise FrontendError(f"{label}: no such file")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as error:  # protobuf's DecodeError and friends
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise FrontendError(f"{label}: not a readable ONNX file (truncated or corrupt: "
                            f"{reason})") from None
    if not model.graph.node:
        raise FrontendError(f"{label}: not an ONNX model (no graph nodes; truncated or "
                            "corrupt?)")
    _check_external_data(model, path.parent, label)
    load_external_data_for_model(model, str(path.parent))
    check_model(model, label)
    return model


def check_model(model, label: str) -> None:
    """``onnx.checker`` plus the domain rule of the module docstring."""
    import onnx

    for node in model.graph.node:
        if node.domain not in ALLOWED_DOMAINS:
            raise FrontendError(f"{label}: layer {node.name or node.output[0]!r} "
                                f"({node.op_type}): domain {node.domain!r} is not ONNX or "
                                "QONNX; refused (QONNX would import it as Python code)")
    try:
        onnx.checker.check_model(model)
    except Exception as error:
        reason = str(error).strip().splitlines()
        raise FrontendError(f"{label}: onnx.checker refuses the model: "
                            f"{reason[0] if reason else type(error).__name__}") from None


def cleaned_model(model, label: str):
    """A cleaned qonnx ``ModelWrapper`` of ``model`` (a path, a ``ModelProto`` or a
    ``ModelWrapper``): QONNX's ``cleanup_model`` (InferShapes, GiveUniqueParameterTensors,
    FoldConstants keeping the quantizers, FoldTransposeIntoQuantInit, RemoveUnusedTensors,
    RemoveStaticGraphInputs, GiveUniqueNodeNames, GiveReadableTensorNames), and the original
    names of its graph inputs (GiveReadableTensorNames renames them), in order."""
    import onnx
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    if isinstance(model, (str, Path)):
        proto = read_onnx(model)
    elif isinstance(model, ModelWrapper):
        proto = model.model
        check_model(proto, label)
    elif isinstance(model, onnx.ModelProto):
        proto = model
        check_model(proto, label)
    else:
        raise FrontendError(f"{label}: expected an .onnx path, an onnx.ModelProto or a qonnx "
                            f"ModelWrapper, not {type(model).__name__}")
    proto = onnx.ModelProto.FromString(proto.SerializeToString())   # never edit the caller's
    initializers = {init.name for init in proto.graph.initializer}
    names = [inp.name for inp in proto.graph.input if inp.name not in initializers]
    try:
        return cleanup_model(ModelWrapper(proto)), names
    except Exception as error:
        reason = str(error).strip().splitlines()
        raise FrontendError(f"{label}: QONNX cleanup failed: "
                            f"{reason[0] if reason else type(error).__name__}") from None
