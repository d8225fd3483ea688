"""The neurogate compiler: IR, passes, backends and synthesis flows."""
