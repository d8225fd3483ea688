"""The HLS C++ backend: the IR to a Vitis HLS project (kernels as real headers in
``kernels/``, parameters filled in through Jinja templates), C-simulated with g++."""
