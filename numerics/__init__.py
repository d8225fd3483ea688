"""Number formats, rounding, parameter checks and the user-error type.

The bottom layer: ``hw``, ``sim.golden`` and ``compiler`` import it; it imports nothing
else of neurogate.
"""

from .checks import check_bool, check_int, is_integer
from .errors import NeurogateError
from .floats import BF16, FP8_E4M3, FP8_E5M2, FP16, FP32, ApproxNorm, FloatFormat
from .formats import BinaryFormat, IntFormat, TernaryFormat, signed_width_for
from .rounding import Overflow, Rounding

__all__ = ["ApproxNorm", "BF16", "BinaryFormat", "FP16", "FP32", "FP8_E4M3", "FP8_E5M2",
           "FloatFormat", "IntFormat", "NeurogateError", "Overflow", "Rounding", "TernaryFormat",
           "check_bool", "check_int", "is_integer", "signed_width_for"]
