"""Framework front-ends: a trained, quantized model in, an IR ``Graph`` out.

* ``keras``: QKeras and Keras models (``.h5``, ``.keras`` or an in-memory model);
* ``qonnx``: QONNX models (``.onnx``), for example exported by Brevitas.

Each front-end reproduces the framework's own integer arithmetic exactly (or refuses the
layer it cannot reproduce, naming it), derives every intermediate format itself, and never
runs code from the file it reads.  The frameworks are optional extras
(``pip install 'neurogate[qkeras]'``, ``'neurogate[onnx]'``); they are imported only when a
model of theirs is loaded.
"""

from __future__ import annotations

from pathlib import Path

from ...numerics.formats import IntFormat
from .common import FrontendError

KERAS_SUFFIXES = (".h5", ".keras")
ONNX_SUFFIXES = (".onnx",)
SUFFIXES = KERAS_SUFFIXES + ONNX_SUFFIXES


def load_file(path: Path, *, input_format: IntFormat | None = None):
    """The IR graph of a framework model file, by its suffix."""
    if path.suffix in KERAS_SUFFIXES:
        from .keras import load_keras

        return load_keras(path, input_format=input_format)
    from .qonnx import load_qonnx

    if input_format is not None:
        raise FrontendError(f"{path}: --input-format is for Keras models; a QONNX model's "
                            "input format comes from its first Quant node")
    return load_qonnx(path)


def load_object(model, *, input_format: IntFormat | None = None):
    """The IR graph of an in-memory model: a tf_keras model, an ONNX ``ModelProto`` or a
    qonnx ``ModelWrapper`` (told apart by the module that defines their type, so no
    framework is imported for the others)."""
    module = type(model).__module__.split(".")[0]
    if module in ("onnx", "qonnx"):
        from .qonnx import load_qonnx

        return load_qonnx(model)
    from .keras import load_keras

    return load_keras(model, input_format=input_format)


def parse_input_format(text: str) -> IntFormat:
    """``ap_fixed<W,I>``, ``ap_ufixed<W,I>``, ``ap_int<W>`` or ``ap_uint<W>`` (hls4ml's
    spelling) as an ``IntFormat``: ``W`` bits, ``W - I`` of them fractional."""
    import re

    match = re.fullmatch(r"\s*ap_(u?)(fixed|int)\s*<\s*(\d+)\s*(?:,\s*(-?\d+)\s*)?>\s*", text)
    if not match or (match[2] == "fixed") != (match[4] is not None):
        raise ValueError(f"--input-format must be like ap_fixed<16,6>, ap_ufixed<8,0>, "
                         f"ap_int<8> or ap_uint<8>, not {text!r}")
    width = int(match[3])
    integer = int(match[4]) if match[4] is not None else width
    return IntFormat(width, signed=not match[1], frac=width - integer)
