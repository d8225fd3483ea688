import sys
from pathlib import Path

# Test helpers (tests/engine_sim.py, tests/graphs.py) import as top-level modules.
sys.path.insert(0, str(Path(__file__).resolve().parent))
