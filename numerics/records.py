"""Frozen dataclasses to JSON and back, typed: one config object, written out and read
back as the same object by every tool that needs it (``design.json``, block configs).

``to_data(obj)`` turns a dataclass (nested dataclasses, enums, tuples, NumPy scalars)
into plain JSON values.  ``from_data(cls, data, where=...)`` rebuilds it from the type
annotations and refuses, in one line naming the file and the field path, a missing
field (defaults are not filled in: a file written by ``to_data`` has every field), an
unknown field, or a value of the wrong type; the dataclass's own
``__post_init__`` checks then run as usual and their messages get the same prefix.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing

import numpy as np

from .checks import is_integer
from .errors import NeurogateError


def to_data(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [to_data(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


class _Bad(Exception):
    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}" if path else message)


def _name(tp) -> str:
    return getattr(tp, "__name__", str(tp))


def _decode(tp, value, path: str):
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _decode(option, value, path)
            except _Bad as error:
                errors.append(str(error))
        raise _Bad("", errors[0] if len(errors) == 1 else
                   f"{path}: expected one of {', '.join(_name(o) for o in options)}, "
                   f"not {value!r}")
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, list):
            raise _Bad(path, f"expected a list, not {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v, f"{path}[{i}]") for i, v in enumerate(value))
        if len(args) != len(value):
            raise _Bad(path, f"expected {len(args)} items, not {len(value)}")
        return tuple(_decode(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
    if origin is dict:
        if not isinstance(value, dict):
            raise _Bad(path, f"expected an object, not {value!r}")
        _, value_type = typing.get_args(tp)
        return {str(k): _decode(value_type, v, f"{path}.{k}") for k, v in value.items()}
    if tp is typing.Any:
        return value
    if dataclasses.is_dataclass(tp):
        return _decode_record(tp, value, path)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(value)
        except ValueError:
            choices = ", ".join(repr(m.value) for m in tp)
            raise _Bad(path, f"must be one of {choices}, not {value!r}") from None
    if tp is bool:
        if not isinstance(value, bool):
            raise _Bad(path, f"expected true or false, not {value!r}")
        return value
    if tp is int:
        if not is_integer(value):
            raise _Bad(path, f"expected an integer, not {value!r}")
        return int(value)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Bad(path, f"expected a number, not {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise _Bad(path, f"expected a string, not {value!r}")
        return value
    raise _Bad(path, f"cannot read a field of type {_name(tp)}")


def _decode_record(cls, value, path: str):
    if not isinstance(value, dict):
        raise _Bad(path, f"expected an object, not {value!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(value) - names)
    if unknown:
        raise _Bad(path, f"unknown field {unknown[0]!r}")
    kwargs = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        sub = f"{path}.{f.name}" if path else f.name
        if f.name not in value:   # to_data writes every field: no silent defaults on reading
            raise _Bad("", f"missing field {sub!r}")
        kwargs[f.name] = _decode(hints[f.name], value[f.name], sub)
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as error:
        raise _Bad(path, str(error)) from None


def from_data(cls, data, *, where: str):
    """Rebuild a ``cls`` from ``to_data`` output; ``NeurogateError`` names ``where`` and the
    field on any problem."""
    try:
        return _decode_record(cls, data, "")
    except _Bad as error:
        raise NeurogateError(f"{where}: {error}") from None
