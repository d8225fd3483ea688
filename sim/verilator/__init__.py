"""Compiled Verilator harness: a C++ testbench streams a file of inputs through a
one-in/one-out stream design and writes outputs and cycle counts, no Python per clock."""

from .harness import (
    HarnessResult,
    build,
    harness_key,
    pack_lanes,
    pack_vectors,
    run,
    unpack_outputs,
)

__all__ = ["HarnessResult", "build", "harness_key", "pack_lanes", "pack_vectors", "run",
           "unpack_outputs"]
