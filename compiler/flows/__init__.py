"""Flows over a build folder: cocotb verification, FPGA/ASIC synthesis, reports."""
