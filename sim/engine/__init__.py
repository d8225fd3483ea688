"""The programmable engine's instruction-level simulator (``iss``) and cycle model
(``cycles``)."""
