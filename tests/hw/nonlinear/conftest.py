"""Stream rows through a row unit (``i``/``o`` with ``data``/``last``) in Amaranth's simulator."""

from __future__ import annotations

import pytest
from neurogate.sim.row_streams import run_rows


@pytest.fixture
def rows_through():
    return run_rows
