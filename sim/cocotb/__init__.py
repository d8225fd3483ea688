"""cocotb harness: Verilator runner, stream drivers and monitors, scoreboards."""
