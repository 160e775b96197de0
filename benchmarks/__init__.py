"""Benchmarks: whole-process timings with ratios against a reference measured in the same run."""
