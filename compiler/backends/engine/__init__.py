"""The programmable-engine backend: a graph becomes a program and a weight stream for one
``hw.engine.EngineConfig`` (docs/engine.md, docs/isa.md)."""
