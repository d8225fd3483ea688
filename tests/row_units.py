"""Shared checks of the row units (``Softmax``, ``Norm``) in Amaranth's simulator."""

from __future__ import annotations

import numpy as np
from neurogate.sim.row_streams import run_rows


def check_back_to_back(dut, golden_row, *, max_len: int, count: int, seed: int):
    """Rows of ``count`` back to back, for lengths around ``dut.solver_cycles``: bit-exact,
    one row per ``dut.row_interval(n)``, and no bubble at all when ``n >= solver_cycles``."""
    rng = np.random.default_rng(seed)
    for n in sorted({1, max(1, dut.solver_cycles - 1), dut.solver_cycles, max_len}):
        rows = [list(rng.integers(-128, 128, size=n)) for _ in range(count)]
        times = []
        got, _ = run_rows(dut, rows, transfer_cycles=times)
        for row, out in zip(rows, got):
            np.testing.assert_equal(out, golden_row(dut.config, row))
        starts = np.array(times[::n])
        assert set(np.diff(starts[1:])) == {dut.row_interval(n)}
        if n >= dut.solver_cycles:
            assert times[-1] - times[0] == count * n - 1
