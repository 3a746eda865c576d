"""Benchmarks at scale (``make bench``): see benchmarks/README.md."""
