"""IR <-> JSON, deterministic (sorted keys, integer lists), used for ``graph.json``.

Each node is an object with ``"kind"`` (its class name) and one entry per dataclass
field: formats and configs as objects (an ``IntFormat`` as ``{width, signed, frac}``,
other formats and ``ApproxNorm`` tagged with ``"kind"``, the non-linear units' configs
with ``"class"``, their class name), enums by value, arrays and tuples as
(nested) lists of integers.  ``graph_from_dict`` checks every field and raises
``NeurogateError`` naming the node and the field.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, fields

import numpy as np

from ..numerics.errors import NeurogateError
from ..numerics.floats import ApproxNorm, FloatFormat
from ..numerics.formats import BinaryFormat, IntFormat, TernaryFormat
from ..numerics.nonlinear import ActivationConfig, IGeluConfig, NormConfig, SoftmaxConfig
from ..numerics.rounding import Overflow, Rounding
from .ir import NODE_TYPES, Graph, IRError, TensorType, frozen_array
from .verifier import verify

_KINDS = {cls.__name__: cls for cls in NODE_TYPES}
_OBJECTS = {cls.__name__: cls for cls in (FloatFormat, BinaryFormat, TernaryFormat, ApproxNorm)}
# Tagged with "class": NormConfig has a field of its own called "kind".
_CONFIGS = {cls.__name__: cls for cls in (SoftmaxConfig, NormConfig, ActivationConfig,
                                          IGeluConfig)}
_ENUMS = {"rounding": Rounding, "overflow": Overflow}


def _encode(value):
    if isinstance(value, IntFormat):
        return {"width": value.width, "signed": value.signed, "frac": value.frac}
    if type(value) in _OBJECTS.values():
        return {"kind": type(value).__name__,
                **{f.name: _encode(getattr(value, f.name)) for f in fields(value)}}
    if type(value) in _CONFIGS.values():
        return {"class": type(value).__name__,
                **{f.name: _encode(getattr(value, f.name)) for f in fields(value)}}
    if isinstance(value, TensorType):
        return {"shape": list(value.shape), "fmt": _encode(value.fmt)}
    if isinstance(value, (Rounding, Overflow)):
        return value.value
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value


def graph_to_dict(graph: Graph) -> dict:
    nodes = []
    for node in graph.nodes:
        entry = {"kind": type(node).__name__}
        entry.update({f.name: _encode(getattr(node, f.name)) for f in fields(node)})
        nodes.append(entry)
    return {"name": graph.name, "nodes": nodes, "outputs": list(graph.outputs)}


def _object(value):
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, not {value!r}")
    if "class" in value:
        cls = _CONFIGS.get(value["class"])
        if cls is None:
            raise ValueError(f"unknown class {value['class']!r}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v
                      for k, v in value.items() if k != "class"})
    if "kind" not in value:
        return IntFormat(**value)
    cls = _OBJECTS.get(value["kind"])
    if cls is None:
        raise ValueError(f"unknown kind {value['kind']!r}")
    return cls(**{k: v for k, v in value.items() if k != "kind"})


def _tuple(value):
    if not isinstance(value, list):
        raise TypeError(f"expected a list, not {value!r}")
    return tuple(value)


def _decode(field: str, value):
    if field in ("weights", "bias"):
        return frozen_array(value)
    if field == "multiplier":
        return None if value is None else frozen_array(value)
    if field in ("weight_fmt", "acc_fmt", "norm", "config"):
        return _object(value)
    if field == "out":
        if not isinstance(value, dict) or set(value) != {"shape", "fmt"}:
            raise TypeError(f"expected {{shape, fmt}}, not {value!r}")
        return TensorType(_tuple(value["shape"]), _object(value["fmt"]))
    if field in _ENUMS:
        return _ENUMS[field](value)
    if field in ("stride", "padding", "dilation", "pool", "perm", "sources"):
        return _tuple(value)
    return value


def _node_from_dict(index: int, entry) -> object:
    if not isinstance(entry, dict) or entry.get("kind") not in _KINDS:
        kind = entry.get("kind") if isinstance(entry, dict) else entry
        raise NeurogateError(f"graph file: node {index} has an unknown kind {kind!r} "
                             f"(known: {', '.join(sorted(_KINDS))})")
    cls = _KINDS[entry["kind"]]
    name = entry.get("name", f"#{index}")
    known = {f.name for f in fields(cls)}
    extra = sorted(set(entry) - known - {"kind"})
    if extra:
        raise NeurogateError(f"graph file: node {name!r} ({cls.__name__}) has unknown "
                             f"field(s) {', '.join(map(repr, extra))}")
    args = {}
    for f in fields(cls):
        if f.name not in entry:
            if f.default is not MISSING:   # a field with a default may be left out
                continue
            raise NeurogateError(f"graph file: node {name!r} ({cls.__name__}) lacks field "
                                 f"{f.name!r}")
        try:
            args[f.name] = _decode(f.name, entry[f.name])
        except (TypeError, ValueError, KeyError) as error:
            raise NeurogateError(f"graph file: node {name!r} ({cls.__name__}), field "
                                 f"{f.name!r}: {error}") from None
    return cls(**args)


def graph_from_dict(data: dict) -> Graph:
    if not isinstance(data, dict) or not {"name", "nodes", "outputs"} <= set(data):
        raise NeurogateError("graph file is malformed: it needs 'name', 'nodes' and 'outputs'")
    if not isinstance(data["nodes"], list) or not isinstance(data["outputs"], list):
        raise NeurogateError("graph file is malformed: 'nodes' and 'outputs' must be lists")
    nodes = tuple(_node_from_dict(i, entry) for i, entry in enumerate(data["nodes"]))
    try:
        return verify(Graph(name=data["name"], nodes=nodes, outputs=tuple(data["outputs"])))
    except IRError as error:
        raise NeurogateError(f"graph file: {error}") from None


def dumps(graph: Graph) -> str:
    return json.dumps(graph_to_dict(graph), sort_keys=True, separators=(",", ":")) + "\n"


def loads(text: str) -> Graph:
    """``graph_from_dict(json.loads(text))``; invalid JSON raises ``json.JSONDecodeError``."""
    return graph_from_dict(json.loads(text))
