"""Backends: turn a lowered graph into a hardware project."""
