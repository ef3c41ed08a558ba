"""Temporal workflows: one review cycle, one follow-up series. Deterministic; no I/O."""
