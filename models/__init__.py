"""Example networks.  Each model file defines ``build_model()`` returning an IR ``Graph``."""
