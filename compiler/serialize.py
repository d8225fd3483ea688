"""IR <-> JSON, deterministic (sorted keys, integer lists), used for ``graph.json``."""

from __future__ import annotations

import json
from dataclasses import fields

from ..hw.fp.format import ApproxNorm, FloatFormat
from .errors import NeurogateError
from .formats import IntFormat
from .ir import (Dense, DenseLayer, FloatConvert, FloatDense, Graph, Input, Relu, Requantize,
                 Rounding, TensorType, frozen_array)
from .verifier import verify

_KINDS = {cls.__name__: cls for cls in (Input, Dense, Requantize, Relu, DenseLayer, FloatDense,
                                        FloatConvert)}


def _encode(value):
    if isinstance(value, IntFormat):
        return {"width": value.width, "signed": value.signed, "frac": value.frac}
    if isinstance(value, (FloatFormat, ApproxNorm)):
        return {"kind": type(value).__name__, **{f.name: getattr(value, f.name)
                                                 for f in fields(value)}}
    if isinstance(value, TensorType):
        return {"shape": list(value.shape), "fmt": _encode(value.fmt)}
    if isinstance(value, Rounding):
        return value.value
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def graph_to_dict(graph: Graph) -> dict:
    nodes = []
    for node in graph.nodes:
        entry = {"kind": type(node).__name__}
        entry.update({f.name: _encode(getattr(node, f.name)) for f in fields(node)})
        nodes.append(entry)
    return {"name": graph.name, "nodes": nodes, "outputs": list(graph.outputs)}


def _format(value: dict):
    if value.get("kind") == "FloatFormat":
        return FloatFormat(**{k: v for k, v in value.items() if k != "kind"})
    return IntFormat(**value)


def _decode(name: str, value):
    if name in ("weights", "bias"):
        return frozen_array(value)
    if name in ("weight_fmt", "acc_fmt"):
        return _format(value)
    if name == "norm":
        return ApproxNorm(**{k: v for k, v in value.items() if k != "kind"})
    if name == "out":
        return TensorType(tuple(value["shape"]), _format(value["fmt"]))
    if name == "rounding":
        return Rounding(value)
    return value


def graph_from_dict(data: dict) -> Graph:
    try:
        nodes = []
        for entry in data["nodes"]:
            cls = _KINDS[entry["kind"]]
            nodes.append(cls(**{f.name: _decode(f.name, entry[f.name]) for f in fields(cls)}))
        return verify(Graph(name=data["name"], nodes=tuple(nodes), outputs=tuple(data["outputs"])))
    except (KeyError, TypeError) as error:
        raise NeurogateError(f"graph file is malformed: missing or bad field {error}") from None


def dumps(graph: Graph) -> str:
    return json.dumps(graph_to_dict(graph), sort_keys=True, separators=(",", ":")) + "\n"


def loads(text: str) -> Graph:
    return graph_from_dict(json.loads(text))
