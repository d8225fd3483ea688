"""The Amaranth backend: map dense layers onto the matrix engine and emit Verilog."""
