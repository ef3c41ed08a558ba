"""Benchmarks, run by `make bench` (each bench/NAME.py; helpers start with an underscore)."""
