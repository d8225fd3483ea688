"""What the cocotb benches of spatial designs share: a graph's golden vectors as the
integers the ``i`` port takes (one transfer each), and received ``o`` payloads read back
as output elements (imported from the bench's folder, which cocotb puts on the path)."""

import numpy as np
from neurogate.compiler.backends.spatial.network import port_fields
from neurogate.compiler.interpreter import make_input_vectors, run
from neurogate.sim.verilator.harness import pack_fields, unpack_fields


def golden_vectors(graph, count: int, seed: int) -> tuple[list[int], np.ndarray]:
    """``count`` input payloads (corners first, then seeded random) and the golden
    model's outputs, flattened side by side in the graph's output order."""
    inputs = make_input_vectors(graph, count, seed=seed)
    golden = run(graph, inputs)
    expected = np.concatenate([golden[o].reshape(count, -1) for o in graph.outputs], axis=1)
    flat = np.concatenate([inputs[n.name].reshape(count, -1) for n in graph.inputs], axis=1)
    words = pack_fields(flat, port_fields([n.out for n in graph.inputs]))[:, 0, :]
    return [sum(int(w) << (32 * k) for k, w in enumerate(row)) for row in words], expected


def output_elements(graph, payloads: list[int]) -> np.ndarray:
    """Received ``o`` payloads (Python integers) as (vectors, elements)."""
    fields = port_fields([graph.type_of(o) for o in graph.outputs])
    words = (fields[-1].offset + fields[-1].width + 31) // 32
    return unpack_fields(np.array([[(p >> (32 * k)) & 0xFFFFFFFF for k in range(words)]
                                   for p in payloads], dtype=np.uint64), fields)
