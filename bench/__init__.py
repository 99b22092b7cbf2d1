"""Benchmarks of mlarena-sync against the fake arena on 127.0.0.1 (see BENCHMARKS.md)."""
