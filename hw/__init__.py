"""Amaranth generators: processing elements, systolic arrays, buffers, the accelerator top."""
