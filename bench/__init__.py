"""Benchmarks (``make bench``): not tests, never timed in CI."""
