"""Cycle models used by design-space exploration, each checked against RTL cycle counts."""
