"""Pure-NumPy, bit-exact reference models: the executable specification."""
