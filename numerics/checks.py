"""Parameter checks shared by every layer, with messages that name the parameter."""

from __future__ import annotations

import numbers

import numpy as np


def is_integer(value) -> bool:
    """True for Python and NumPy integers; False for booleans, floats and everything else."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def check_int(name: str, value, *, low: int, high: int | None = None) -> int:
    """Return ``value`` as an ``int`` if it is an integer in ``[low, high]``, else raise
    ``ValueError`` naming ``name``.  NumPy integers are integers."""
    if not is_integer(value):
        raise ValueError(f"{name} must be an integer, not {value!r}")
    value = int(value)
    if value < low or (high is not None and value > high):
        span = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise ValueError(f"{name} must be an integer {span}, not {value}")
    return value


def check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, not {value!r}")
    return bool(value)
