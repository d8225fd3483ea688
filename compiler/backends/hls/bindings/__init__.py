"""The kernel binding of every IR op the HLS backend maps (explicit, no scanning):
``BINDINGS[type(node)](node, input_types, options) -> KernelCall``."""

from . import elementwise, linear, nonlinear, pool, tensor

BINDINGS = {**linear.BINDINGS, **pool.BINDINGS, **elementwise.BINDINGS, **tensor.BINDINGS,
            **nonlinear.BINDINGS}
