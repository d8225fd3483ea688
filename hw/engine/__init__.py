"""The programmable engine: one bitstream runs any compiled network (docs/isa.md).

``config`` sizes it, ``isa`` defines the instruction words (shared by the compiler's
encoder, the RTL decoder and the instruction-level simulator), ``top`` builds it.
"""
