"""Benchmarks: scripts that print figures (never assert wall time). See `make bench`."""
