"""Golden models, cocotb harness and cycle models."""
