"""Benchmarks: `make bench` (python -m benchmarks) runs every `bench_*.py` here and prints one table.

Each module exposes `run(quick: bool) -> Section`. A row compares a measured figure with a baseline measured in
the same process, because our machines are shared and noisy: ratios travel, absolute seconds do not.
"""
